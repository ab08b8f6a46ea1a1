"""Conditioning on a style: the layers a family uses when its ``ModelConfig.styles`` names two or more.

A style input ``y`` is a point of the simplex of styles, (N, S) float weights summing to 1: a one-hot row is a
style, "60% Monet, 40% Song" is (0.6, 0.4, 0). Every style-dependent quantity is linear in ``y``, so a blend is
the same weighted mix of the styles' own parameters and moves smoothly from one style to another.
- G: conditional batch norm (de Vries et al. 2017; Miyato & Koyama 2018): the normalisation is shared, the scale
  and shift of each channel are the style's.
- D: the projection discriminator (Miyato & Koyama 2018): logit = head(h) + <embed(y), pool(h)>, so D scores how
  well an image matches its style, not only whether it is real.
- The MLP GAN (Mirza & Osindero 2014) concatenates ``y`` to G's noise and to D's input instead.
"""

from __future__ import annotations

import torch
from torch import nn


def style_input(y: torch.Tensor | None, n_styles: int, batch: int, like: torch.Tensor) -> torch.Tensor:
    """``y`` as (batch, S) float on ``like``'s device; None means the mean of every style (the uniform blend), which
    is what a caller that knows nothing of styles (the speed probe, an export) gets."""
    if y is None:
        return torch.full((batch, n_styles), 1.0 / n_styles, device=like.device)
    if y.dim() != 2 or y.shape != (batch, n_styles):
        raise ValueError(f"style input must be (batch={batch}, styles={n_styles}), got {tuple(y.shape)}")
    return y.to(device=like.device, dtype=torch.float32)


class CondBatchNorm2d(nn.BatchNorm2d):
    """Batch norm whose per-channel scale and shift are those of the style (a blend's mix of them)."""

    takes_style = True

    def __init__(self, channels: int, n_styles: int) -> None:
        super().__init__(channels, affine=False)
        self.n_styles = n_styles
        self.style_scale = nn.Parameter(torch.empty(n_styles, channels))  # (S, C)
        self.style_shift = nn.Parameter(torch.zeros(n_styles, channels))
        nn.init.normal_(self.style_scale, 1.0, 0.02)  # as DCGAN's batch-norm scales

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = super().forward(x)
        y = style_input(y, self.n_styles, x.shape[0], x)
        scale, shift = y @ self.style_scale, y @ self.style_shift  # (N, C) each
        return x * scale[:, :, None, None].to(x.dtype) + shift[:, :, None, None].to(x.dtype)


class CondSequential(nn.Sequential):
    """A Sequential that hands the style input to the layers that take one (and its state dict is a Sequential's)."""

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        for module in self:
            x = module(x, y) if getattr(module, "takes_style", False) else module(x)
        return x


def norm2d(channels: int, n_styles: int) -> nn.Module:
    """Batch norm, conditional on the style when there are styles."""
    return CondBatchNorm2d(channels, n_styles) if n_styles else nn.BatchNorm2d(channels)


def sequential(n_styles: int, *layers: nn.Module) -> nn.Sequential:
    return CondSequential(*layers) if n_styles else nn.Sequential(*layers)


class Projection(nn.Module):
    """The projection discriminator's class term: <embed(y), sum over positions of h> for features h (N, C, H, W).

    Summed, as Miyato & Koyama pool for both terms: a mean over the 4x4 grid made the term 16 times weaker than
    that, and a 30-minute run on three traditions learnt styles that its own style meter could barely tell apart
    (benchmarks/README.md, "Many painters, one model")."""

    def __init__(self, channels: int, n_styles: int, spectral: bool = False) -> None:
        super().__init__()
        self.n_styles = n_styles
        embed = nn.Linear(n_styles, channels, bias=False)
        nn.init.normal_(embed.weight, 0.0, 0.02)
        self.embed = nn.utils.spectral_norm(embed) if spectral else embed

    def forward(self, h: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if y is None:  # no style given (the speed probe): D's unconditional part alone
            return h.new_zeros(h.shape[0]).float()
        e = self.embed(style_input(y, self.n_styles, h.shape[0], h))  # (N, C)
        return (h.float().sum((2, 3)) * e.float()).sum(1)  # (N,)


def n_styles_of(styles: list[str]) -> int:
    """How many styles a model is conditioned on (0: unconditional)."""
    return len(styles) if len(styles) >= 2 else 0
