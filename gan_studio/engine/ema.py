"""An exponential moving average of the generator's weights: smoother samples than the live generator."""

from __future__ import annotations

import copy

import torch
from torch import nn

from gan_studio.config import TrainConfig


def make_ema(model: nn.Module) -> nn.Module:
    ema = copy.deepcopy(model).eval()
    ema.requires_grad_(False)
    return ema


def ema_decay(decay: float, step: int, kimg: float | None = None, rampup: float = 0.05,
              images_per_step: int = 1) -> float:
    """This step's EMA decay. Per step (``kimg`` None): ``decay``, warmed up as (1 + step) / (10 + step), because
    early weights move fast and a fixed 0.999 would average in the random initialisation for too long. In images
    (StyleGAN2-ADA): a half-life of ``kimg`` thousand images, but at most ``rampup`` of the images seen so far, so
    the average follows the fast early weights and does not depend on the batch size."""
    if kimg is None:
        return min(decay, (1.0 + step) / (10.0 + step))
    half_life = min(kimg * 1000.0, rampup * (step + 1) * images_per_step)
    return 0.5 ** (images_per_step / max(half_life, 1e-8))


@torch.no_grad()
def step_ema(ema: nn.Module, model: nn.Module, train: TrainConfig, step: int, images_per_step: int) -> None:
    """The EMA update of a training step, as ``train`` sets it."""
    lerp_ema(ema, model, ema_decay(train.ema_decay, step, train.ema_kimg, train.ema_rampup, images_per_step))


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float, step: int) -> None:
    """A per-step EMA update with the warm-up of ``ema_decay``."""
    lerp_ema(ema, model, ema_decay(decay, step))


@torch.no_grad()
def lerp_ema(ema: nn.Module, model: nn.Module, d: float) -> None:
    """ema <- d * ema + (1 - d) * model for the parameters; buffers copied."""
    ema_params: list[torch.Tensor] = list(ema.parameters())
    params = [p.detach() for p in model.parameters()]
    torch._foreach_lerp_(ema_params, params, 1.0 - d)
    # Buffers (batch-norm statistics, spectral norm's vectors) are copied, not averaged: one foreach call, not a
    # kernel launch per buffer from a Python loop (on a GPU the step is launch-bound at small sizes).
    ema_buffers, buffers = list(ema.buffers()), list(model.buffers())
    if ema_buffers:
        torch._foreach_copy_(ema_buffers, buffers)


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, z_dim: int, noise: str, device: torch.device, seed: int,
                          batches: int = 8, batch: int = 64, n_styles: int = 0) -> None:
    """Re-estimate batch-norm statistics for these (EMA) weights, so eval-mode samples match them.

    Uses its own seeded generator: sampling never disturbs the training's random streams. A conditional G is fed
    styles drawn evenly, as in training (its statistics are shared by the styles; the scales and shifts are not)."""
    from gan_studio.models import sample_noise
    from gan_studio.models.layers import NoiseInjection

    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    was_training = model.training
    saved = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration batches
    model.train()
    for module in model.modules():  # noise injection keeps its fixed map: statistics of what sampling draws,
        if isinstance(module, NoiseInjection):  # and nothing taken from the global random stream
            module.eval()
    gen = torch.Generator(device=device).manual_seed(seed)
    for _ in range(batches):
        z = sample_noise(batch, z_dim, noise, gen, device)
        if n_styles:
            labels = torch.randint(n_styles, (batch,), generator=gen, device=device)
            model(z, nn.functional.one_hot(labels, n_styles).float())
        else:
            model(z)
    for bn, m in zip(bns, saved):
        bn.momentum = m
    model.train(was_training)
