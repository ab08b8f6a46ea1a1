"""The model registry: every GAN family builds a (generator, discriminator) pair for one image shape.

Conventions shared by every family, so the trainer needs no special cases:
- ``G(z)`` takes noise of shape (N, z_dim) and returns images (N, C, H, W) in [-1, 1];
- ``D(x)`` returns one logit per image, shape (N,): D(x) in the paper's sense is ``sigmoid(logit)``;
- ``G.z_dim`` and ``G.noise`` tell how to draw z (see ``sample_noise``);
- a D with a ``reconstruction_loss(x) -> (logits, loss)`` method is self-supervised: the trainer adds that loss
  on real images to D's;
- each family names its loss in ``LOSSES`` (keys of ``gan_studio.engine.losses.LOSSES``).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from gan_studio.config import ModelConfig
from gan_studio.errors import ConfigError
from gan_studio.models.dcgan import build_dcgan
from gan_studio.models.fastgan import build_fastgan
from gan_studio.models.mlp import build_mlp

Builder = Callable[[ModelConfig, int, int, int], tuple[nn.Module, nn.Module]]

# name -> (builder, one-line description shown by the CLI and the GUI)
REGISTRY: dict[str, tuple[Builder, str]] = {
    "mlp": (build_mlp, "Multilayer-perceptron GAN of Goodfellow et al. (2014): ReLU generator, maxout discriminator"),
    "dcgan": (build_dcgan, "Deep convolutional GAN of Radford et al. (2016): strided convolutions and batch norm"),
    "fastgan": (build_fastgan, "Data-efficient GAN after FastGAN (Liu et al. 2021): skip-layer excitation, a "
                               "self-supervised discriminator, hinge loss; for a few hundred images"),
}

# Families whose layers are convolutions: they benefit from the channels_last memory format.
CONVOLUTIONAL = {"dcgan", "fastgan"}

# The loss each family trains with: the paper's value function, or the hinge loss.
LOSSES: dict[str, str] = {"mlp": "gan", "dcgan": "gan", "fastgan": "hinge"}

# Training settings a family does best with, where neither the user nor a preset chose (TrainConfig fields).
# fastgan: measured on 300 paintings at 64 px, learning rates of 3e-4 reach a given SWD in about 70% of the steps
# that 2e-4 needs, and stay stable with the hinge loss and spectral norm.
TRAIN_DEFAULTS: dict[str, dict[str, float]] = {"fastgan": {"lr_g": 3e-4, "lr_d": 3e-4}}

SMALL_DATASET = 2000  # below this many images, a data set is "small": the data-efficient model and augmentation


def default_model(n_images: int, res: int = 64, channels: int = 3) -> str:
    """The model a new run uses when the user names none: the data-efficient one for a small folder of pictures
    (32 to 256 pixels), DCGAN for a large one, the MLP GAN for tiny grayscale images (MNIST-like digits)."""
    if channels == 1 and res < 32:
        return "mlp"
    if n_images < SMALL_DATASET and 32 <= res <= 256:
        return "fastgan"
    return "dcgan"


def build_models(cfg: ModelConfig, channels: int, height: int, width: int) -> tuple[nn.Module, nn.Module]:
    """Build (G, D) for images of shape (channels, height, width)."""
    if cfg.name not in REGISTRY:
        raise ConfigError(f"unknown model {cfg.name!r}; choose one of {', '.join(sorted(REGISTRY))}")
    builder, _ = REGISTRY[cfg.name]
    return builder(cfg, channels, height, width)


def sample_noise(n: int, z_dim: int, kind: str, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """Draw z: standard normal, or uniform on [-sqrt 3, sqrt 3] (zero mean, unit variance, as in the paper)."""
    if kind == "uniform":
        u = torch.rand(n, z_dim, generator=generator, device=device)
        return (u * 2.0 - 1.0) * (3.0 ** 0.5)
    return torch.randn(n, z_dim, generator=generator, device=device)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
