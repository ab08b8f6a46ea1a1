"""An exponential moving average of the generator's weights: smoother samples than the live generator."""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema(model: nn.Module) -> nn.Module:
    ema = copy.deepcopy(model).eval()
    ema.requires_grad_(False)
    return ema


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float, step: int) -> None:
    # Warm up: early weights move fast, so a fixed 0.999 would average in the random initialisation for too long.
    d = min(decay, (1.0 + step) / (10.0 + step))
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

    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    was_training = model.training
    saved = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration batches
    model.train()
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
