"""The model families: one record each, the single source of what a family is, what it can train and how it
trains by default. The command line's choices, the app's form and the config's validation all read these
records; ``gan_studio.defaults`` turns "this folder on this device" into a full RunConfig with them.

Torch-free on purpose: the app fills its form from here before PyTorch has loaded, and the config validates
against it without importing the models. Each family's builder (the one part that needs torch) is looked up
by name in ``gan_studio.models.BUILDERS``; a test checks that both list the same families.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gan_studio.errors import ConfigError

SMALL_DATASET = 2000  # below this many images, a data set is "small": the data-efficient model and augmentation


def base_grid(height: int, width: int) -> tuple[tuple[int, int], int] | None:
    """The convolutional families' geometry: ((base_h, base_w), doublings) with a 4-pixel short side of the base
    grid, or None when (height, width) has no whole base grid (the short side is not 4 times a power of two, or
    the long side is not a whole number of base cells)."""
    short = min(height, width)
    doublings = int(round(math.log2(short / 4))) if short >= 8 else 0
    scale = 2 ** doublings
    if short < 8 or scale * 4 != short or height % scale or width % scale:
        return None
    return (height // scale, width // scale), doublings


@dataclass(frozen=True)
class ModelFamily:
    name: str  # the config's model.name and the CLI's --model
    title: str  # how the app names it
    summary: str  # one line: what it is
    best_for: str  # one line: when to pick it (the app shows it beside the default)
    loss: str  # a key of gan_studio.engine.losses.LOSSES
    convolutional: bool  # channels-last memory helps; the geometry of base_grid applies
    resolutions: tuple[int, ...]  # the short sides offered as choices (validation: check_shape)
    default_res: int
    min_short_side: int  # the smallest short side it can train
    wide_aspects: bool  # trains 3:2, 2:1, ... as well as squares
    width: int = 64  # channel width of the convolutional families (ngf = ndf)
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    batch: int = 64
    augment_small: bool = False  # augmentation="auto" turns DiffAugment + ADA on below SMALL_DATASET images
    flip: bool = False  # random mirroring by default
    # what D sees through augmentation (gan_studio.engine.augment's names), and the annealing of the learning rates
    # over the end of a session of known length (TrainConfig.lr_anneal)
    augment_ops: tuple[str, ...] = ("color", "translation", "cutout")
    lr_anneal: float = 0.0

    def check_shape(self, height: int, width: int) -> str | None:
        """Why this family cannot train images of (height, width), or None when it can."""
        short = min(height, width)
        if short < self.min_short_side:
            return (f"{self.title} needs images of at least {self.min_short_side} pixels on the short side, "
                    f"got {width}x{height}")
        if self.convolutional and base_grid(height, width) is None:
            return (f"{self.title} needs a short side that is a power of two (16, 32, 64, 128, ...) and a shape "
                    f"whose long side is a whole number of its 4-pixel base cells (1:1, 3:2, 2:1, ...); "
                    f"got {width}x{height}")
        return None


FAMILIES: dict[str, ModelFamily] = {f.name: f for f in (
    ModelFamily(
        name="fastgan", title="FastGAN",
        summary="Data-efficient GAN after FastGAN (Liu et al. 2021): skip-layer excitation, a self-supervised "
                "discriminator, hinge loss",
        best_for=f"made for folders under {SMALL_DATASET:,} images",
        loss="hinge", convolutional=True, resolutions=(32, 64, 128, 256), default_res=64, min_short_side=32,
        wide_aspects=True,
        # Measured on 300 paintings at 64 px: 3e-4 reaches a given SWD in about 70% of the steps 2e-4 needs,
        # and stays stable with the hinge loss and spectral norm.
        lr_g=3e-4, lr_d=3e-4, augment_small=True,
        # Measured on 300 paintings (benchmarks/README.md, issue 16 ablations): ADA's reflected translation, scale
        # and flips beside colour and cutout, and the rates annealed over the last half: at 10 CPU-minutes the best
        # snapshot is unchanged within noise but the newest no longer slides (SWD 24-31 vs 37-41); 60 minutes: 18.9
        augment_ops=("color", "translation_reflect", "cutout", "flip", "scale"), lr_anneal=0.5,
        # Batch 32 (benchmarks/README.md, "Batch 32 becomes FastGAN's default"): a CPU trains as many images a
        # second at 32 as at 64, so twice the steps; 10 minutes on a Zen 4: Monet 25.8 vs 29.0, Song 31.1 vs
        # 40.3, Ming 30.2 vs 34.8; 60 minutes: Monet 18.8 (batch 64 on a CPU twice as fast: 18.9)
        batch=32),
    ModelFamily(
        name="dcgan", title="DCGAN",
        summary="Deep convolutional GAN of Radford et al. (2016): strided convolutions and batch norm",
        best_for=f"large folders ({SMALL_DATASET:,} images or more)",
        loss="gan", convolutional=True, resolutions=(16, 32, 64, 128, 256), default_res=64, min_short_side=16,
        wide_aspects=True, augment_small=True),
    ModelFamily(
        name="mlp", title="MLP GAN",
        summary="Multilayer-perceptron GAN of Goodfellow et al. (2014): ReLU generator, maxout discriminator",
        best_for="small grayscale images such as handwritten digits",
        loss="gan", convolutional=False, resolutions=(16, 28, 32, 48, 64), default_res=28, min_short_side=8,
        wide_aspects=True),
)}


def family(name: str) -> ModelFamily:
    """The record of ``name``; a ConfigError names the families there are."""
    if name not in FAMILIES:
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(sorted(FAMILIES))}")
    return FAMILIES[name]
