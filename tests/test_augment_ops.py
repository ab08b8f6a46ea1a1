"""ADA's further augmentations: reflected translation, scale, flips, hue. Each keeps the conventions of
DiffAugment's three (gan_studio.engine.augment): off gives the image exactly, the random stream is the same at any
strength, gradients reach the input."""

from __future__ import annotations

import pytest
import torch

from gan_studio.config import TrainConfig
from gan_studio.engine.augment import AUGMENTS, AdaptiveAugment, augment

NEW = ("translation_reflect", "scale", "flip", "hue")


def batch(seed: int = 0, shape=(8, 3, 16, 16)) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def run(op: str, x: torch.Tensor, p, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    out = augment(x, [op], p, gen)
    return out, torch.rand(4, generator=gen)  # what the stream gives next


@pytest.mark.parametrize("op", NEW)
def test_off_is_exact_on_changes_and_the_stream_does_not_depend_on_p(op):
    x = batch()
    off, after_off = run(op, x, 0.0)
    on, after_on = run(op, x, 1.0)
    assert torch.equal(off, x)
    assert on.shape == x.shape and on.dtype == x.dtype
    assert not torch.allclose(on, x)
    assert torch.equal(after_off, after_on)


@pytest.mark.parametrize("op", NEW)
def test_gradients_reach_the_input(op):
    x = batch().requires_grad_(True)
    out, _ = run(op, x, 1.0)
    (out * torch.linspace(0, 1, out.numel()).view_as(out)).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@pytest.mark.parametrize("op", NEW)
def test_per_image_strength_changes_only_the_images_it_names(op):
    x = batch()
    p = torch.tensor([0.0, 1.0] * 4)
    out, _ = run(op, x, p)
    for i in range(8):
        same = torch.equal(out[i], x[i])
        assert same if p[i] == 0 else not same, i


@pytest.mark.parametrize("op", NEW)
def test_channels_last_stays_channels_last(op):
    x = batch().contiguous(memory_format=torch.channels_last)
    out, _ = run(op, x, 1.0)
    assert out.is_contiguous(memory_format=torch.channels_last)
    ref, _ = run(op, x.contiguous(), 1.0)
    assert torch.allclose(out, ref, atol=1e-6)


def test_flip_mirrors():
    x = batch()
    assert torch.equal(run("flip", x, 1.0)[0], x.flip(3))


def test_reflected_translation_brings_in_no_zero_border():
    ramp = torch.linspace(0.0, 0.5, 16)
    x = (1.0 + ramp.view(1, 1, 16, 1) + ramp.view(1, 1, 1, 16)).expand(8, 3, 16, 16).contiguous()  # no zero
    for rand in (x, batch() * 0.5 + 0.75):  # a smooth image and a noisy one, every pixel away from 0
        out, _ = run("translation_reflect", rand, 1.0)
        assert (out != 0).all() and out.min() >= rand.min() and out.max() <= rand.max()
    out, _ = run("translation_reflect", x, 1.0)
    assert not torch.equal(out, x)
    zero_padded, _ = run("translation", x, 1.0)
    assert (zero_padded == 0).any()  # DiffAugment's translation, for contrast


def test_hue_turns_colours_about_the_grey_axis():
    x = batch()
    out, _ = run("hue", x, 1.0)
    assert torch.allclose(out.mean(1), x.mean(1), atol=1e-5)  # the projection on the grey axis is kept
    norms = lambda t: (t - t.mean(1, keepdim=True)).norm(dim=1)  # noqa: E731
    assert torch.allclose(norms(out), norms(x), atol=1e-5)  # a rotation: saturation kept
    grey = x.mean(1, keepdim=True).expand_as(x).contiguous()
    assert torch.allclose(run("hue", grey, 1.0)[0], grey, atol=1e-6)
    one_channel = batch(shape=(8, 1, 16, 16))
    out, after = run("hue", one_channel, 1.0)
    assert torch.equal(out, one_channel)
    assert torch.equal(after, run("hue", x, 1.0)[1])  # greyscale still draws its numbers


@pytest.mark.parametrize("op", NEW)
def test_bfloat16_keeps_its_dtype_and_is_exact_when_off(op):
    x = batch().bfloat16()
    assert torch.equal(run(op, x, 0.0)[0], x)
    on, _ = run(op, x, 1.0)
    assert on.dtype == torch.bfloat16 and torch.isfinite(on.float()).all() and not torch.equal(on, x)


def test_scale_keeps_a_flat_image_flat():
    x = torch.full((8, 3, 16, 16), 0.3)
    assert torch.allclose(run("scale", x, 1.0)[0], x, atol=1e-6)


def test_the_config_and_the_controller_take_the_new_operations():
    TrainConfig(augment_ops=list(NEW) + ["color"]).validate()
    assert set(NEW) <= set(AUGMENTS)
    ada = AdaptiveAugment(list(NEW), torch.device("cpu"), 8, fixed=1.0)
    out = ada(batch(), torch.Generator().manual_seed(0))
    assert out.shape == (8, 3, 16, 16) and torch.isfinite(out).all()
