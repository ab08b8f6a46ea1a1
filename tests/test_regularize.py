"""Issue 16's training details: lazy R1, EMA counted in images, the reconstruction's gradient share, annealing."""

from __future__ import annotations

import math

import pytest
import torch

from gan_studio.engine import Trainer
from gan_studio.engine.ema import ema_decay
from gan_studio.engine.regularize import lazy_r1, r1_penalty, reconstruction_share
from gan_studio.engine.rundir import RunDir
from tests.test_trainer import events_of, small_config


def test_r1_penalty_is_the_squared_input_gradient():
    w = torch.tensor([[1.0, -2.0, 3.0]])

    class Linear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(w.clone())

        def forward(self, x, y=None):
            return (x.view(len(x), -1) * self.w).sum(1) ** 2  # grad_x = 2 (w.x) w

    d = Linear()
    x = torch.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, 0.0]]).view(2, 3, 1, 1)
    got = r1_penalty(d, x)
    dots = torch.tensor([2.0, -2.0])
    want = ((2 * dots[:, None] * w) ** 2).sum(1).mean()
    assert torch.allclose(got, want)
    got.backward()  # differentiable in D's weights
    assert d.w.grad is not None and d.w.grad.abs().sum() > 0


def test_lazy_r1_acts_every_nth_step_with_the_weight_scaled():
    d = torch.nn.Conv2d(3, 1, 4)
    f = lambda x, y=None: d(x).view(-1)  # noqa: E731
    x = torch.randn(4, 3, 4, 4)
    assert lazy_r1(f, x, None, 3, 10.0, 16) is None
    assert lazy_r1(f, x, None, 0, 0.0, 16) is None
    term = lazy_r1(f, x, None, 32, 10.0, 16)
    assert torch.allclose(term, r1_penalty(f, x) * 10.0 / 2 * 16)


def test_dcgan_trains_with_lazy_r1_and_it_changes_the_discriminator(landscapes32, tmp_path):
    plain = Trainer.new(small_config(landscapes32, "dcgan", steps=2), out=tmp_path / "a")
    r1 = Trainer.new(small_config(landscapes32, "dcgan", steps=2, r1_gamma=10.0, r1_every=1), out=tmp_path / "b")
    plain.train_step()
    stats = r1.train_step()
    assert torch.isfinite(stats).all()
    diffs = [not torch.equal(a, b) for a, b in zip(plain.D.parameters(), r1.D.parameters())]
    assert any(diffs)  # same seed, same batch: only the penalty differs


def test_ema_in_images_has_the_half_life_asked_and_ramps_up():
    # a half-life of 10,000 images at 64 per step: after 10,000 / 64 steps the old weights weigh one half
    d = ema_decay(0.999, 1_000_000, kimg=10.0, rampup=0.05, images_per_step=64)
    assert math.isclose(d ** (10_000 / 64), 0.5, rel_tol=1e-9)
    # early on the half-life is 5% of the images seen: the average follows the young, fast-moving weights
    early = ema_decay(0.999, 99, kimg=10.0, rampup=0.05, images_per_step=64)
    assert math.isclose(early ** (0.05 * 100 * 64 / 64), 0.5, rel_tol=1e-9)
    assert early < d
    # the batch size does not change the average's span in images
    d32 = ema_decay(0.999, 2_000_000, kimg=10.0, rampup=0.05, images_per_step=32)
    assert math.isclose(d32 ** (10_000 / 32), 0.5, rel_tol=1e-9)
    # per step, as before: the warm-up
    assert ema_decay(0.999, 0) == pytest.approx(0.1)
    assert ema_decay(0.999, 10**6) == 0.999


def test_ema_in_images_drives_the_trainers_average(landscapes32, tmp_path):
    a = Trainer.new(small_config(landscapes32, "dcgan", steps=3), out=tmp_path / "a")
    b = Trainer.new(small_config(landscapes32, "dcgan", steps=3, ema_kimg=0.1, ema_rampup=1.0), out=tmp_path / "b")
    for t in (a, b):
        for _ in range(3):
            t.train_step()
            t.step += 1
    diff = [not torch.equal(x, y) for x, y in zip(a.G_ema.parameters(), b.G_ema.parameters())]
    assert any(diff)
    assert all(torch.equal(x, y) for x, y in zip(a.G.parameters(), b.G.parameters()))  # the training itself is alike


def test_reconstruction_share_measures_without_touching_d(landscapes32, tmp_path):
    cfg = small_config(landscapes32, "dcgan", steps=2)
    cfg.model.name = "fastgan"
    trainer = Trainer.new(cfg, out=tmp_path / "run")
    d = trainer.D
    buffers = [b.clone() for b in d.buffers()]
    real = trainer.data.sample(8, torch.Generator().manual_seed(1))
    fake = trainer.G(torch.randn(8, cfg.model.z_dim)).detach()
    one = reconstruction_share(d, trainer.d_loss, real, fake, 1.0)
    ten = reconstruction_share(d, trainer.d_loss, real, fake, 10.0)
    assert 0 < one < ten < 1
    odds = lambda share: share / (1 - share)  # noqa: E731 - |r| / |a|, which the weight scales
    assert odds(ten) == pytest.approx(10 * odds(one), rel=1e-3)
    assert all(torch.equal(a, b) for a, b in zip(buffers, d.buffers()))  # spectral norm's vectors, BN statistics
    assert all(p.grad is None for p in d.parameters())


def test_quality_checks_log_the_reconstruction_share(landscapes32, tmp_path):
    cfg = small_config(landscapes32, "dcgan", steps=4, quality_every=2, quality_n=16)
    cfg.model.name = "fastgan"
    trainer = Trainer.new(cfg, out=tmp_path / "run")
    events_of(trainer)
    rows = RunDir(tmp_path / "run").read_stats()
    shares = [r["recon_share"] for r in rows if r.get("swd") is not None]
    assert shares and all(s is not None and 0 < s <= 1 for s in shares)
    assert all(r.get("recon_share") is None for r in rows if r.get("swd") is None)


def test_the_reconstruction_share_reads_the_batches_d_trains_on(landscapes32, tmp_path):
    # D trains on augmented batches; on clean ones a D past the hinge's margin has no adversarial gradient and the
    # ratio blew up (~1e11 in a 60-minute run). So the measurement augments both batches, at the current p.
    from gan_studio.engine.regularize import trainer_reconstruction_share

    cfg = small_config(landscapes32, "dcgan", steps=2, augment="on", augment_p=1.0)
    cfg.model.name = "fastgan"
    trainer = Trainer.new(cfg, out=tmp_path / "run")
    seen = []
    real_augment = trainer.augment

    def spy(x, gen, y=None):
        seen.append(x.shape)
        return real_augment(x, gen, y)

    trainer.augment = spy
    share = trainer_reconstruction_share(trainer)
    assert share is not None and share > 0
    assert len(seen) == 2  # the real batch and the fake batch
    trainer.augment_on = False
    seen.clear()
    assert trainer_reconstruction_share(trainer) is not None and not seen


def test_annealing_lowers_the_learning_rates_over_the_end_of_the_session():
    from gan_studio.engine.schedule import anneal_scale

    assert anneal_scale(0.3, 0.5, 0.1) == 1.0
    assert anneal_scale(0.75, 0.5, 0.1) == pytest.approx(0.55)
    assert anneal_scale(1.0, 0.5, 0.1) == pytest.approx(0.1)
    assert anneal_scale(1.0, 0.0, 0.1) == 1.0


def test_a_session_of_known_length_ends_at_the_annealed_rate(landscapes32, tmp_path):
    cfg = small_config(landscapes32, "dcgan", steps=8, lr_anneal=0.5, lr_anneal_to=0.1)
    trainer = Trainer.new(cfg, out=tmp_path / "run")
    lrs = []
    for event in trainer.run():
        if hasattr(event, "lr_g"):
            lrs.append((event.step, event.lr_g))
    assert lrs[0][1] == pytest.approx(2e-4)  # the first half at the full rate
    # step s trains with the rate of progress s / 8: at step 7, 1 - 0.9 * (7/8 - 1/2) / (1/2)
    assert lrs[-1][1] == pytest.approx(2e-4 * (1 - 0.9 * (7 / 8 - 0.5) / 0.5))
    assert [lr for _, lr in lrs] == sorted((lr for _, lr in lrs), reverse=True)
