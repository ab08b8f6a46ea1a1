"""Simultaneous updates (TrainConfig.update): both players step from the same point, as pylearn2 trained the paper."""

from __future__ import annotations

import copy

import pytest
import torch

from gan_studio.config import RunConfig
from gan_studio.engine import Trainer
from gan_studio.errors import ConfigError
from gan_studio.models import sample_noise


def _trainer(folder, tmp_path, update: str) -> Trainer:
    cfg = RunConfig()
    cfg.data.source, cfg.data.res = str(folder), 16
    cfg.model.name, cfg.model.g_hidden, cfg.model.d_hidden = "mlp", [32], [16]
    cfg.model.d_dropout_input = cfg.model.d_dropout_hidden = 0.0  # no dropout: the step is reproducible by hand
    cfg.train.update, cfg.train.batch, cfg.train.steps = update, 8, 10
    cfg.train.optimizer, cfg.train.lr_g, cfg.train.lr_d, cfg.train.momentum = "sgd", 0.1, 0.05, 0.0
    cfg.train.augment, cfg.train.quality_every, cfg.train.amp, cfg.train.device = "off", 0, "off", "cpu"
    return Trainer.new(cfg, out=tmp_path / update)


def test_simultaneous_step_is_both_gradients_at_the_same_point(landscapes32, tmp_path):
    from gan_studio.engine.losses import d_loss, g_loss

    tr = _trainer(landscapes32, tmp_path, "simultaneous")
    G0, D0 = copy.deepcopy(tr.G), copy.deepcopy(tr.D)
    gen = torch.Generator().set_state(tr.gen.get_state())  # the same batch and noise as the step will draw
    real = tr.data.sample(8, gen)
    z = sample_noise(8, G0.z_dim, G0.noise, gen, tr.device)
    fake = G0(z)
    real_logits, fake_logits = D0(real), D0(fake)
    d_grads = torch.autograd.grad(d_loss(real_logits, fake_logits), list(D0.parameters()), retain_graph=True)
    g_grads = torch.autograd.grad(g_loss(fake_logits), list(G0.parameters()))
    tr.train_step()
    for p0, g, p1 in zip(D0.parameters(), d_grads, tr.D.parameters()):
        torch.testing.assert_close(p1, p0 - 0.05 * g)
    for p0, g, p1 in zip(G0.parameters(), g_grads, tr.G.parameters()):
        torch.testing.assert_close(p1, p0 - 0.1 * g)  # against D before its update: not Algorithm 1's order


def test_alternating_differs_and_simultaneous_needs_k_1(landscapes32, tmp_path):
    alt, sim = _trainer(landscapes32, tmp_path, "alternating"), _trainer(landscapes32, tmp_path, "simultaneous")
    sim.G.load_state_dict(alt.G.state_dict()), sim.D.load_state_dict(alt.D.state_dict())
    sim.gen.set_state(alt.gen.get_state())
    alt.train_step(), sim.train_step()
    torch.testing.assert_close(sim.D.state_dict(), alt.D.state_dict())  # D's step is the same in both orders
    g_alt, g_sim = alt.G.state_dict(), sim.G.state_dict()
    assert any(not torch.allclose(g_alt[k], g_sim[k]) for k in g_alt)  # G's is not: it saw a different D
    cfg = RunConfig()
    cfg.train.update, cfg.train.k = "simultaneous", 2
    with pytest.raises(ConfigError, match="k = 1"):
        cfg.train.validate()
    cfg.train.update = "sometimes"
    with pytest.raises(ConfigError, match="update must be"):
        cfg.train.validate()
