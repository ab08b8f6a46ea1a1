"""Layers and conventions shared by the convolutional families (DCGAN and FastGAN)."""

from __future__ import annotations

import torch
from torch import nn

from gan_studio.errors import ConfigError
from gan_studio.families import base_grid, family
from gan_studio.models.conditional import norm2d, sequential
from gan_studio.models.small_grid import ConvTranspose2d

MAX_WIDTH_MULT = 8  # cap channels at 8x the base width (as DCGAN at 64 px), so 128 px and up stay affordable


def grid_for(name: str, height: int, width: int) -> tuple[tuple[int, int], int]:
    """((base_h, base_w), doublings) for family ``name``; a ConfigError says why a shape cannot be trained."""
    why_not = family(name).check_shape(height, width)
    grid = base_grid(height, width)
    if why_not or grid is None:
        raise ConfigError(why_not or f"no base grid for {width}x{height}")
    return grid


def channels_at(width: int, level: int, doublings: int) -> int:
    """Channels at ``level`` doublings above the base grid: wide at the bottom, ``width`` at the top."""
    return width * min(2 ** (doublings - 1 - level), MAX_WIDTH_MULT)


class NoiseInjection(nn.Module):
    """x + w * noise: one map of per-pixel Gaussian noise per image, scaled per channel by a learned weight that
    starts at zero (StyleGAN; FastGAN's generator), so G can draw fine stochastic detail (brush grain) from it
    rather than from its weights. Fresh noise while training; in eval mode a fixed map, part of the state dict,
    so an image stays a function of its seed (the gallery, exports and ONNX models depend on that)."""

    fixed: torch.Tensor  # (1, 1, height, width): eval mode's noise map

    def __init__(self, channels: int, height: int, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, channels, 1, 1))
        # a private stream: building the model draws nothing from the global one (the seed's initialisation)
        gen = torch.Generator().manual_seed(height * 7919 + width)
        self.register_buffer("fixed", torch.randn(1, 1, height, width, generator=gen))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
        else:
            noise = self.fixed.to(x.dtype)
            if noise.shape[2:] != x.shape[2:]:
                noise = nn.functional.interpolate(noise, size=x.shape[2:], mode="nearest")
        # one fused kernel with no (N, C, H, W) temporary; the result keeps x's memory format (channels-last)
        return torch.addcmul(x, self.weight.to(x.dtype), noise)


def up_block(c_in: int, c_out: int, n_styles: int = 0, noise_hw: tuple[int, int] | None = None) -> nn.Sequential:
    """(N, c_in, h, w) -> (N, c_out, 2h, 2w): DCGAN's strided transposed convolution, batch norm (conditional on
    the style where there are styles: call it with (x, y)) and ReLU; with ``noise_hw`` (2h, 2w), noise injection
    between the convolution and the batch norm, as in FastGAN."""
    noise = [NoiseInjection(c_out, *noise_hw)] if noise_hw else []
    return sequential(n_styles, ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), *noise, norm2d(c_out, n_styles),
                      nn.ReLU(True))


def init_dcgan_weights(module: nn.Module) -> None:
    """Radford et al.'s initialisation: convolutions N(0, 0.02), batch-norm scales N(1, 0.02), zero shifts."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(getattr(m, "weight_orig", m.weight), 0.0, 0.02)  # spectral norm keeps weight_orig
        elif isinstance(m, nn.BatchNorm2d) and m.affine:  # a conditional one initialises its own
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
