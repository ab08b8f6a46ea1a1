"""Differentiable augmentation: pure functions of (x, p, generator), ADA's controller, and exact resume with it."""

from __future__ import annotations

import pytest
import torch

from gan_studio.config import RunConfig
from gan_studio.engine import Trainer
from gan_studio.engine import augment as A
from gan_studio.engine import checkpoint as ckpt


def batch(n: int = 6, h: int = 32, w: int = 32) -> torch.Tensor:
    return torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(1)) * 2 - 1


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("fn", [f for fns in A.AUGMENTS.values() for f in fns])
def test_each_augmentation_is_identity_at_p0_changes_images_at_p1_and_is_differentiable(fn):
    x = batch().requires_grad_()
    assert torch.equal(fn(x, torch.tensor(0.0), gen()), x)
    y = fn(x, torch.tensor(1.0), gen())
    assert y.shape == x.shape and not torch.equal(y, x)
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # G learns through it


@pytest.mark.parametrize("fn", [f for fns in A.AUGMENTS.values() for f in fns])
def test_randomness_comes_from_the_given_generator_in_the_same_amount_whatever_p(fn):
    x = batch()
    assert torch.equal(fn(x, torch.tensor(0.5), gen(3)), fn(x, torch.tensor(0.5), gen(3)))
    g0, g1 = gen(4), gen(4)
    fn(x, torch.tensor(0.0), g0)
    fn(x, torch.tensor(1.0), g1)
    assert torch.equal(g0.get_state(), g1.get_state())  # the run's stream does not depend on the strength
    before = torch.get_rng_state()
    fn(x, torch.tensor(1.0), gen())
    assert torch.equal(before, torch.get_rng_state())  # the global stream is untouched


def test_translation_shifts_content_and_fills_with_zero():
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0
    y = A.translation(x, torch.tensor(1.0), gen())
    assert torch.allclose(y.sum(dim=(1, 2, 3)), torch.ones(64))  # the dot moves (by at most 2 pixels), never lost
    pos = y[:, 0].flatten(1).argmax(1)
    rows, cols = pos // 16, pos % 16
    assert (rows - 8).abs().max() <= 2 and (cols - 8).abs().max() <= 2 and len(set(pos.tolist())) > 5
    edge = A.translation(torch.ones(64, 1, 16, 16), torch.tensor(1.0), gen())
    assert (edge == 0).any()  # what slides in is zero (mid-grey in [-1, 1])


def test_cutout_zeroes_a_quarter_of_the_image_at_most():
    y = A.cutout(torch.ones(64, 3, 32, 32), torch.tensor(1.0), gen())
    holes = (y[:, 0] == 0).flatten(1).sum(1)
    assert holes.max() == 16 * 16 and holes.min() > 0  # a 16x16 square, clipped at the borders


def test_colour_augmentations_keep_greys_grey_under_saturation():
    grey = torch.full((8, 3, 4, 4), 0.3)
    assert torch.allclose(A.saturation(grey, torch.tensor(1.0), gen()), grey)


def test_augment_keeps_channels_last_and_applies_named_ops():
    x = batch().contiguous(memory_format=torch.channels_last)
    y = A.augment(x, ["color", "translation", "cutout"], 1.0, gen())
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(A.augment(x, [], 1.0, gen()), x)
    with pytest.raises(ValueError, match="unknown augmentation"):
        A.AdaptiveAugment(["rotate"], torch.device("cpu"), 8)


def test_ada_moves_p_towards_the_target_and_clamps_it():
    ada = A.AdaptiveAugment(["color"], torch.device("cpu"), batch=100, target=0.6, interval=4, kimg=1.0)
    sure = torch.ones(100)  # D calls every real image real: r_t = 1 > 0.6
    for _ in range(4):
        ada.observe(sure)
    assert float(ada.p) == pytest.approx(0.4) and float(ada.rt) == 1.0  # 400 images of a 1,000-image ramp
    for _ in range(40):
        ada.observe(sure)
    assert float(ada.p) == 1.0
    unsure = torch.tensor([1.0, -1.0] * 50)  # r_t = 0 < 0.6
    for _ in range(8):
        ada.observe(unsure)
    assert float(ada.p) == pytest.approx(0.2)
    state = ada.state_dict()
    other = A.AdaptiveAugment(["color"], torch.device("cpu"), batch=100, kimg=1.0)
    other.load_state_dict(state)
    assert other.state_dict() == state
    fixed = A.AdaptiveAugment(["color"], torch.device("cpu"), batch=100, kimg=1.0, fixed=0.3)
    for _ in range(8):
        fixed.observe(sure)
    assert float(fixed.p) == pytest.approx(0.3)


def test_each_style_has_its_own_p_steered_by_its_own_images():
    ada = A.AdaptiveAugment(["color"], torch.device("cpu"), batch=100, target=0.6, interval=4, kimg=1.0, styles=3)
    # 60 images of style 0 that D calls real, 40 of style 1 that it doubts, none of style 2
    y = torch.nn.functional.one_hot(torch.tensor([0] * 60 + [1] * 40), 3).float()
    logits = torch.tensor([1.0] * 60 + [1.0, -1.0] * 20)
    for _ in range(4):
        ada.observe(logits, y=y)
    assert ada.p.tolist() == pytest.approx([0.24, 0.0, 0.0])  # style 0 rose by its own 240 images of 1,000
    assert ada.rt_styles.tolist() == pytest.approx([1.0, 0.0, 0.0]) and float(ada.rt) == pytest.approx(0.6)
    assert float(ada.p_mean) == pytest.approx(0.08)
    # each image takes its style's p, a blend the blend of its styles'
    rows = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    assert ada.image_p(rows).tolist() == pytest.approx([0.24, 0.0, 0.12])
    state = ada.state_dict()
    other = A.AdaptiveAugment(["color"], torch.device("cpu"), batch=100, kimg=1.0, styles=3)
    other.load_state_dict(state)
    assert other.state_dict() == state
    older = A.AdaptiveAugment(["color"], torch.device("cpu"), batch=100, kimg=1.0, styles=3)
    older.load_state_dict({"p": 0.5, "signs": 2.0, "seen": 2, "rt": 0.7})  # one p for all, from before
    assert older.p.tolist() == [0.5, 0.5, 0.5] and older.seen == 0


def test_per_image_p_augments_only_the_images_whose_style_asks_for_it():
    x = torch.rand(4, 3, 8, 8) * 2 - 1
    out = A.augment(x, ["color", "cutout"], torch.tensor([0.0, 1.0, 0.0, 1.0]), torch.Generator().manual_seed(1))
    assert torch.equal(out[0], x[0]) and torch.equal(out[2], x[2])
    assert not torch.equal(out[1], x[1]) and not torch.equal(out[3], x[3])


def _config(source, model: str, steps: int) -> RunConfig:
    cfg = RunConfig()
    cfg.data.source, cfg.data.res, cfg.data.flip = str(source), 32, True
    cfg.model.name, cfg.model.width = model, 8
    t = cfg.train
    t.batch, t.steps, t.log_every, t.sample_every, t.checkpoint_every = 8, steps, 2, 100, 100
    t.augment, t.ada_kimg, t.ada_interval, t.quality_every = "on", 0.05, 2, 3  # p moves fast; checks often
    return cfg


@pytest.mark.parametrize("model", ["fastgan", "dcgan"])
def test_resume_with_augmentation_matches_an_uninterrupted_run(landscapes32, tmp_path, model):
    straight = Trainer.new(_config(landscapes32, model, 8), out=tmp_path / "a")
    events = list(straight.run())
    stats = [e for e in events if type(e).__name__ == "StepStats"]
    assert all(s.augment_p is not None and 0 <= s.augment_p <= 1 for s in stats)
    assert len({s.augment_p for s in stats}) > 1  # p moved
    first = Trainer.new(_config(landscapes32, model, 5), out=tmp_path / "b")
    list(first.run())
    state = ckpt.load_checkpoint(first.last_checkpoint)
    assert state["augment"]["p"] == pytest.approx(float(first.augment.p))  # p is in the checkpoint
    resumed = Trainer.resume(tmp_path / "b", steps=8)
    list(resumed.run())
    assert float(resumed.augment.p) == float(straight.augment.p)
    for a, b in [(straight.G, resumed.G), (straight.D, resumed.D), (straight.G_ema, resumed.G_ema)]:
        for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(pa, pb), name
