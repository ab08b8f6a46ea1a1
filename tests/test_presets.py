"""Named presets: the paper's MNIST configuration, key checking, and one training step through the Trainer."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest
import torch

from gan_studio.config import ModelConfig, RunConfig
from gan_studio.errors import ConfigError
from gan_studio.presets import PRESETS, Preset, apply_preset


def test_paper_mnist_has_the_papers_values():
    cfg = apply_preset(RunConfig(), "paper-mnist")
    m, t, d = cfg.model, cfg.train, cfg.data
    assert (m.name, m.z_dim, m.noise) == ("mlp", 100, "uniform")
    assert (m.g_hidden, m.g_output) == ([1200, 1200], "sigmoid")
    assert (m.d_hidden, m.d_pieces) == ([240, 240], 5)
    assert (1 - m.d_dropout_input, 1 - m.d_dropout_hidden) == pytest.approx((0.8, 0.5))
    assert m.d_max_col_norm is None  # mnist.yaml sets none
    assert (t.optimizer, t.batch, t.k, t.g_loss) == ("sgd", 100, 1, "non_saturating")
    assert t.lr_g == 0.1 and t.lr_d == 0.05  # 0.1 on the code's 0.5 * (cross-entropy sum)
    assert (t.momentum, t.momentum_final, t.momentum_steps) == (0.5, 0.7, 125_000)
    assert (t.lr_decay, t.lr_min) == (1.000004, 1e-6)
    assert (d.res, d.aspect, d.flip) == (28, "1:1", False)
    cfg.data.source = "digits.csv"
    cfg.train.minutes = 1
    cfg.validate()


def test_every_preset_is_valid_and_described_for_users():
    for name, preset in PRESETS.items():
        assert preset.name == name and preset.description.strip()
        cfg = apply_preset(RunConfig(), name)
        cfg.data.source = "somewhere"
        cfg.validate()


def test_unknown_preset_is_a_config_error_naming_the_known_ones():
    with pytest.raises(ConfigError, match="paper-mnist"):
        apply_preset(RunConfig(), "paper-mnist-typo")


def test_a_preset_with_a_wrong_key_is_refused(monkeypatch):
    monkeypatch.setitem(PRESETS, "bad", Preset("bad", "x", {"model": {"hidden": [3]}}))
    with pytest.raises(ConfigError, match="hidden"):
        apply_preset(RunConfig(), "bad")
    monkeypatch.setitem(PRESETS, "bad", Preset("bad", "x", {"optim": {"lr": 1}}))
    with pytest.raises(ConfigError, match="optim"):
        apply_preset(RunConfig(), "bad")


def test_applying_twice_shares_no_lists():
    a = apply_preset(RunConfig(), "paper-mnist")
    a.model.g_hidden.append(7)
    assert apply_preset(RunConfig(), "paper-mnist").model.g_hidden == [1200, 1200]


def test_the_command_line_starts_from_the_preset_and_options_win(tmp_path):
    from gan_studio.cli import build_parser, config_from_args
    from gan_studio.data.summary import DataSummary

    args = build_parser().parse_args(["train", str(tmp_path), "--preset", "paper-mnist", "--batch", "50"])
    photos = DataSummary(tmp_path, str(tmp_path), 300, min_side=256, median_side=256)  # the policy would say fastgan
    cfg = config_from_args(args, photos)
    assert cfg.model.name == "mlp" and cfg.train.optimizer == "sgd" and cfg.train.batch == 50


def synthetic_digits(path, n: int = 24) -> str:
    """Strokes on black, 28x28 uint8, as an IDX file (the format the Trainer reads for MNIST)."""
    rng = np.random.default_rng(0)
    images = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        r = rng.integers(6, 20)
        images[i, 4:24, r:r + 3] = 255
        images[i, r:r + 2, 6:22] = 200
    header = b"\x00\x00\x08\x03" + np.array(images.shape, dtype=">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + images.tobytes())
    return str(path)


def test_one_training_step_of_the_paper_preset(tmp_path):
    from gan_studio.engine import Trainer

    cfg = apply_preset(RunConfig(), "paper-mnist")
    cfg.data.source = synthetic_digits(tmp_path / "digits-idx3-ubyte.gz")
    cfg.train.steps = 1
    cfg.train.amp = "off"
    trainer = Trainer.new(cfg, out=tmp_path / "run")
    assert trainer.shape == (1, 28, 28)
    assert isinstance(trainer.opt_g, torch.optim.SGD)
    d0 = [p.detach().clone() for p in trainer.D.parameters()]
    stats = trainer.train_step()
    assert torch.isfinite(stats).all() and 0 < stats[2] < 1 and 0 < stats[3] < 1
    assert any(not torch.equal(a, b) for a, b in zip(d0, trainer.D.parameters()))
    z = torch.rand(5, 100) * 2 * math.sqrt(3) - math.sqrt(3)
    x = trainer.G(z)
    assert x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    from gan_studio.engine.schedule import apply_schedules

    apply_schedules(cfg.train, (trainer.opt_g, trainer.opt_d), 1, 0.0)  # the values of the second step
    assert trainer.opt_g.param_groups[0]["lr"] == pytest.approx(0.1 / 1.000004)
    assert trainer.opt_d.param_groups[0]["momentum"] == pytest.approx(0.5 + 0.2 / 125_000)


def test_the_paper_preset_carries_mnist_yaml_initialisation_and_input_range(tmp_path):
    """mnist.yaml's three details live in the preset the app trains, not only in the benchmark: D's weights
    within +-0.005, G's sigmoid output starting at the digits' mean image, D reading pixels in [0, 1]."""
    from gan_studio.data import load_dataset
    from gan_studio.engine import Trainer
    from gan_studio.models import build_models

    cfg = apply_preset(RunConfig(), "paper-mnist")
    cfg.data.source = synthetic_digits(tmp_path / "digits-idx3-ubyte.gz")
    cfg.train.steps, cfg.train.amp = 1, "off"
    trainer = Trainer.new(cfg, out=tmp_path / "run")
    d_linear = [m for m in trainer.D.modules() if isinstance(m, torch.nn.Linear)]
    assert max(float(m.weight.abs().max()) for m in d_linear) <= 0.005
    g_linear = [m for m in trainer.G.modules() if isinstance(m, torch.nn.Linear)]
    assert float(g_linear[0].weight.abs().max()) > 0.01  # G keeps irange .05
    digits = load_dataset(cfg.data.source, res=28).images
    mean = np.clip(digits.reshape(len(digits), -1).mean(0) / 255.0, 1e-3, 1 - 1e-3)
    assert np.allclose(torch.sigmoid(g_linear[-1].bias).detach().numpy(), mean, atol=1e-5)
    assert torch.equal(trainer.G_ema.net[-1].bias, g_linear[-1].bias)  # the EMA starts from the same weights
    # D sees [0, 1]: an all-black image (-1 in the network's range) is zeros at D's first layer
    D = trainer.D.eval()
    seen = []
    hook = D.net[2].register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    D(-torch.ones(1, 1, 28, 28))
    hook.remove()
    assert torch.count_nonzero(seen[0]) == 0
    # the project's own MLP is unchanged: irange .05 on both, [-1, 1] input
    _, d = build_models(ModelConfig(name="mlp"), 1, 28, 28)
    assert float(next(m for m in d.modules() if isinstance(m, torch.nn.Linear)).weight.abs().max()) > 0.01
    assert not d.unit_input
