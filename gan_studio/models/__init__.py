"""The model registry: every GAN family builds a (generator, discriminator) pair for one image shape.

Conventions shared by every family, so the trainer needs no special cases:
- ``G(z)`` takes noise of shape (N, z_dim) and returns images (N, C, H, W) in [-1, 1];
- ``D(x)`` returns one logit per image, shape (N,): D(x) in the paper's sense is ``sigmoid(logit)``;
- ``G.z_dim`` and ``G.noise`` tell how to draw z (see ``sample_noise``);
- a D with a ``reconstruction_loss(x) -> (logits, loss)`` method is self-supervised: the trainer adds that loss
  on real images to D's;
- each family's record (``gan_studio.families``) names its loss, sizes and training defaults.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from gan_studio.config import ModelConfig
from gan_studio.families import family
from gan_studio.models.dcgan import build_dcgan
from gan_studio.models.fastgan import build_fastgan
from gan_studio.models.mlp import build_mlp

Builder = Callable[[ModelConfig, int, int, int], tuple[nn.Module, nn.Module]]

# The one torch-dependent part of a family: its builder, by the name of its record in gan_studio.families.
BUILDERS: dict[str, Builder] = {"mlp": build_mlp, "dcgan": build_dcgan, "fastgan": build_fastgan}


def build_models(cfg: ModelConfig, channels: int, height: int, width: int) -> tuple[nn.Module, nn.Module]:
    """Build (G, D) for images of shape (channels, height, width)."""
    return BUILDERS[family(cfg.name).name](cfg, channels, height, width)


def sample_noise(n: int, z_dim: int, kind: str, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """Draw z: standard normal, or uniform on [-sqrt 3, sqrt 3] (zero mean, unit variance, as in the paper)."""
    if kind == "uniform":
        u = torch.rand(n, z_dim, generator=generator, device=device)
        return (u * 2.0 - 1.0) * (3.0 ** 0.5)
    return torch.randn(n, z_dim, generator=generator, device=device)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
