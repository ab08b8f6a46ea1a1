"""Layers and conventions shared by the convolutional families (DCGAN and FastGAN)."""

from __future__ import annotations

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


def up_block(c_in: int, c_out: int, n_styles: int = 0) -> nn.Sequential:
    """(N, c_in, h, w) -> (N, c_out, 2h, 2w): DCGAN's strided transposed convolution, batch norm (conditional on
    the style where there are styles: call it with (x, y)) and ReLU."""
    return sequential(n_styles, ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), norm2d(c_out, n_styles),
                      nn.ReLU(True))


def init_dcgan_weights(module: nn.Module) -> None:
    """Radford et al.'s initialisation: convolutions N(0, 0.02), batch-norm scales N(1, 0.02), zero shifts."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(getattr(m, "weight_orig", m.weight), 0.0, 0.02)  # spectral norm keeps weight_orig
        elif isinstance(m, nn.BatchNorm2d) and m.affine:  # a conditional one initialises its own
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
