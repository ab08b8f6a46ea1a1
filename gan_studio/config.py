"""Typed configuration for a run: data, model and training, validated into one error type, JSON in and out.

A run directory's ``config.json`` is ``RunConfig.to_dict()``; it is enough to reproduce the run from the CLI.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gan_studio.errors import ConfigError
from gan_studio.families import family
from gan_studio.fileio import atomic_write_text

CONFIG_VERSION = 2  # 2: augmentation and quality checks (off in version-1 runs, which predate them)

CROP_POLICIES = ("center", "pad", "random")
G_LOSSES = ("non_saturating", "minimax")
UPDATES = ("alternating", "simultaneous")
OPTIMIZERS = ("adam", "sgd")
AMP_MODES = ("auto", "bf16", "fp16", "off")
NOISE_KINDS = ("normal", "uniform")
AUGMENT_MODES = ("auto", "on", "off")
AUGMENT_OPS = ("color", "translation", "cutout")  # TrainConfig's default (DiffAugment's); a family may choose others
# every op there is (gan_studio.engine.augment.AUGMENTS): ADA's integer translation with reflected borders, isotropic
# scale, horizontal flips and hue rotation beside DiffAugment's three
ALL_AUGMENT_OPS = AUGMENT_OPS + ("translation_reflect", "scale", "flip", "hue")


def parse_aspect(aspect: str) -> tuple[int, int]:
    """'2:1' -> (2, 1) as width:height; raises ConfigError on anything else."""
    try:
        w, h = (int(p) for p in str(aspect).split(":"))
    except ValueError:
        raise ConfigError(f"aspect must look like 'W:H' (for example 1:1 or 2:1), got {aspect!r}") from None
    if w <= 0 or h <= 0:
        raise ConfigError(f"aspect must be two positive integers, got {aspect!r}")
    return w, h


def image_size(res: int, aspect: str) -> tuple[int, int]:
    """(height, width) in pixels: ``res`` is the short side, the long side follows the aspect."""
    w, h = parse_aspect(aspect)
    if w >= h:
        return res, round(res * w / h)
    return round(res * h / w), res


@dataclass
class DataConfig:
    source: str = ""  # a folder, an MNIST-style file, or "demo" for the built-in landscapes
    res: int = 64  # short side in pixels
    aspect: str = "1:1"  # width:height
    crop: str = "center"  # center | pad (letterbox) | random (random crops at train time)
    flip: bool = False  # random horizontal flips of the data
    # auto: a folder of style folders trains one conditional model (gan_studio.data.styles); off: one model on all
    styles: str = "auto"

    def validate(self) -> None:
        if not self.source:
            raise ConfigError("no data source: give a folder of images, or --demo for the built-in landscapes")
        if not 8 <= self.res <= 1024:
            raise ConfigError(f"resolution must be between 8 and 1024 pixels, got {self.res}")
        parse_aspect(self.aspect)
        if self.crop not in CROP_POLICIES:
            raise ConfigError(f"crop must be one of {', '.join(CROP_POLICIES)}, got {self.crop!r}")
        if self.styles not in ("auto", "off"):
            raise ConfigError(f"styles must be auto or off, got {self.styles!r}")


@dataclass
class ModelConfig:
    name: str = "dcgan"  # a key of gan_studio.families.FAMILIES
    z_dim: int = 100
    noise: str = "normal"  # normal | uniform (uniform on [-sqrt 3, sqrt 3], unit variance, as in the paper)
    width: int = 64  # DCGAN: channels of the widest-resolution layer (ngf = ndf)
    # MLP GAN (Goodfellow et al. 2014)
    g_hidden: list[int] = field(default_factory=lambda: [1200, 1200])
    d_hidden: list[int] = field(default_factory=lambda: [240, 240])
    d_pieces: int = 5  # maxout pieces per unit
    d_dropout_input: float = 0.2  # drop probability (the paper keeps 0.8 of the inputs)
    d_dropout_hidden: float = 0.5
    g_output: str = "sigmoid"  # sigmoid | tanh
    d_max_col_norm: float | None = None  # MLP D: each unit's incoming weight norm is capped (pylearn2's max_col_norm)
    d_init_range: float = 0.05  # MLP D: weights start uniform in [-r, r] (pylearn2's irange; G keeps 0.05)
    d_input: str = "symmetric"  # MLP D sees pixels in [-1, 1] ("symmetric") or [0, 1] ("unit", as pylearn2's MNIST)
    g_bias_from_data: bool = False  # MLP G's sigmoid output starts at the training images' mean pixel values
    # FastGAN D's self-supervision: "whole" (one decoder, the whole image at 32 px from the 8x8 features, squared
    # error) or "whole+crop" (Liu et al.: also a random quadrant from the 16x16 features, both by absolute error)
    d_self_supervision: str = "whole"
    # Per-pixel noise added after each of G's up-sampling convolutions, scaled per channel by a learned weight that
    # starts at zero (StyleGAN, FastGAN): a source of fine stochastic detail; in eval mode a fixed noise map
    g_noise: bool = False
    # A conditional model's styles (the style folders' names, index = label); empty: an unconditional model
    styles: list[str] = field(default_factory=list)

    def validate(self) -> None:
        family(self.name)  # a ConfigError for an unknown family
        if not 1 <= self.z_dim <= 4096:
            raise ConfigError(f"z_dim must be between 1 and 4096, got {self.z_dim}")
        if self.noise not in NOISE_KINDS:
            raise ConfigError(f"noise must be one of {', '.join(NOISE_KINDS)}, got {self.noise!r}")
        if not 4 <= self.width <= 1024:
            raise ConfigError(f"width must be between 4 and 1024 channels, got {self.width}")
        if not self.g_hidden or not self.d_hidden or min(self.g_hidden + self.d_hidden) < 1:
            raise ConfigError("g_hidden and d_hidden must be non-empty lists of positive layer sizes")
        if self.d_pieces < 1:
            raise ConfigError(f"d_pieces must be at least 1, got {self.d_pieces}")
        for name in ("d_dropout_input", "d_dropout_hidden"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if self.d_max_col_norm is not None and self.d_max_col_norm <= 0:
            raise ConfigError(f"d_max_col_norm must be positive, got {self.d_max_col_norm}")
        if not 0 < self.d_init_range <= 1:
            raise ConfigError(f"d_init_range must be in (0, 1], got {self.d_init_range}")
        if self.d_self_supervision not in ("whole", "whole+crop"):
            raise ConfigError(f"d_self_supervision must be whole or whole+crop, got {self.d_self_supervision!r}")
        if self.d_input not in ("symmetric", "unit"):
            raise ConfigError(f"d_input must be symmetric or unit, got {self.d_input!r}")
        if self.g_bias_from_data and self.g_output != "sigmoid":
            raise ConfigError("g_bias_from_data starts a sigmoid output at the data's mean: it needs g_output sigmoid")
        if not isinstance(self.styles, list) or len(self.styles) == 1 or len(set(self.styles)) != len(self.styles) \
                or not all(isinstance(n, str) and n for n in self.styles):
            raise ConfigError(f"styles must be empty or at least two distinct names, got {self.styles!r}")
        if self.g_output not in ("sigmoid", "tanh"):
            raise ConfigError(f"g_output must be sigmoid or tanh, got {self.g_output!r}")


@dataclass
class TrainConfig:
    batch: int = 64
    steps: int | None = None  # total generator steps (the run's end), or
    minutes: float | None = None  # wall-clock budget of this session of training
    k: int = 1  # discriminator steps per generator step (Algorithm 1)
    # alternating: Algorithm 1, G steps against the D just updated. simultaneous: one batch, one forward pass, both
    # players step from the same point, as pylearn2's SGD ran the paper's mnist.yaml (k = 1, one process).
    update: str = "alternating"
    g_loss: str = "non_saturating"
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    momentum: float = 0.5  # SGD only: the starting momentum
    momentum_final: float | None = None  # SGD: momentum rises linearly to this ...
    momentum_steps: int = 0  # ... over this many steps (the paper: 0.5 -> 0.7)
    lr_decay: float = 1.0  # learning rates are divided by this every step (the paper: 1.000004) ...
    lr_min: float = 0.0  # ... down to this floor
    # A session of known length (steps or minutes) anneals both learning rates linearly over its last lr_anneal
    # fraction down to lr_anneal_to of their value: the end of the session settles instead of oscillating; 0: off
    lr_anneal: float = 0.0
    lr_anneal_to: float = 0.1
    ema_decay: float = 0.999  # per step, warmed up as (1 + step) / (10 + step); used when ema_kimg is None
    # EMA counted in images (StyleGAN2-ADA): a half-life of ema_kimg thousand images, ramped up as ema_rampup of the
    # images seen so far, so it does not depend on the batch size
    ema_kimg: float | None = None
    ema_rampup: float = 0.05
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    amp: str = "auto"  # auto | bf16 | fp16 | off
    compile: str = "auto"  # auto (on CUDA) | on | off: torch.compile the training networks, eager if it fails
    checkpoint_every: int | None = None  # steps; a checkpoint is also written every checkpoint_minutes and on stop
    # Every 2 minutes a crash costs at most 2 minutes; measured on monet300 at 64 px, a checkpoint takes well under
    # 2% of that (benchmarks/checkpoint_cost.py).
    checkpoint_minutes: float = 2.0
    keep_last: int = 3
    log_every: int = 10  # steps between statistics (a host sync happens only here)
    sample_every: int = 100  # steps between preview grids saved under samples/
    preview_n: int = 64
    # Differentiable augmentation (DiffAugment) of what D sees, real and fake, with ADA's adaptive probability
    augment: str = "auto"  # auto (on for convolutional models on fewer than 2,000 images) | on | off
    augment_ops: list[str] = field(default_factory=lambda: list(AUGMENT_OPS))
    augment_p: float | None = None  # a fixed probability; None: adaptive (ADA), starting at augment_p_start
    augment_p_start: float = 0.0  # measured: starting higher (0.5) slows a 10-minute run on 300 images
    augment_p_max: float = 1.0  # ADA's p never climbs above this
    ada_target: float = 0.6  # the overfitting signal r_t = E[sign(D(real))] that p steers to
    ada_interval: int = 4  # steps between adjustments of p
    ada_kimg: float = 100.0  # thousands of images for p to move from 0 to 1 at the fastest
    recon_weight: float = 1.0  # self-supervised discriminators: weight of their reconstruction loss
    # Lazy R1 (Mescheder et al. 2018; StyleGAN2): gamma/2 * |grad_x D(x)|^2 on real images every r1_every D steps
    # (weighted by r1_every); 0: off
    r1_gamma: float = 0.0
    r1_every: int = 16
    # A cheap quality check (SWD of EMA samples against the training images) every quality_every steps
    quality_every: int | None = 250  # None or 0: off
    quality_n: int = 300  # samples compared (at most the number of training images)
    stop_on_plateau: bool = False  # end training when quality stops improving ...
    plateau_checks: int = 4  # ... for this many quality checks in a row (gan_studio.engine.trend)

    def validate(self) -> None:
        if not 1 <= self.batch <= 65536:
            raise ConfigError(f"batch must be between 1 and 65536, got {self.batch}")
        if self.steps is not None and self.steps < 1:
            raise ConfigError(f"steps must be positive, got {self.steps}")
        if self.minutes is not None and self.minutes <= 0:
            raise ConfigError(f"minutes must be positive, got {self.minutes}")
        if self.k < 1:
            raise ConfigError(f"k (discriminator steps per generator step) must be at least 1, got {self.k}")
        if self.update not in UPDATES:
            raise ConfigError(f"update must be one of {', '.join(UPDATES)}, got {self.update!r}")
        if self.update == "simultaneous" and self.k != 1:
            raise ConfigError(f"simultaneous updates take one D step per G step (k = 1), got k = {self.k}")
        if self.g_loss not in G_LOSSES:
            raise ConfigError(f"g_loss must be one of {', '.join(G_LOSSES)}, got {self.g_loss!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        for name in ("lr_g", "lr_d"):
            if not 0 < getattr(self, name) <= 10:
                raise ConfigError(f"{name} must be in (0, 10], got {getattr(self, name)}")
        if self.lr_decay < 1.0 or self.lr_min < 0:
            raise ConfigError(f"lr_decay must be at least 1 and lr_min non-negative, got {self.lr_decay}, "
                              f"{self.lr_min}")
        if not 0.0 <= self.lr_anneal <= 1.0 or not 0.0 < self.lr_anneal_to <= 1.0:
            raise ConfigError(f"lr_anneal must be in [0, 1] and lr_anneal_to in (0, 1], got {self.lr_anneal}, "
                              f"{self.lr_anneal_to}")
        if self.momentum_final is not None and not 0 <= self.momentum_final < 1:
            raise ConfigError(f"momentum_final must be in [0, 1), got {self.momentum_final}")
        if not 0 <= self.momentum < 1 or self.momentum_steps < 0:
            raise ConfigError("momentum must be in [0, 1) and momentum_steps non-negative")
        if not 0 <= self.ema_decay < 1:
            raise ConfigError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.compile not in ("auto", "on", "off"):
            raise ConfigError(f"compile must be auto, on or off, got {self.compile!r}")
        if self.amp not in AMP_MODES:
            raise ConfigError(f"amp must be one of {', '.join(AMP_MODES)}, got {self.amp!r}")
        if self.checkpoint_every is not None and self.checkpoint_every < 1:
            raise ConfigError(f"checkpoint_every must be positive, got {self.checkpoint_every}")
        if self.keep_last < 1:
            raise ConfigError(f"keep_last must be at least 1, got {self.keep_last}")
        if self.log_every < 1 or self.sample_every < 1 or self.preview_n < 1:
            raise ConfigError("log_every, sample_every and preview_n must be positive")
        if self.augment not in AUGMENT_MODES:
            raise ConfigError(f"augment must be one of {', '.join(AUGMENT_MODES)}, got {self.augment!r}")
        bad = [op for op in self.augment_ops if op not in ALL_AUGMENT_OPS]
        if bad or not isinstance(self.augment_ops, list):
            raise ConfigError(f"augment_ops must be a list drawn from {', '.join(ALL_AUGMENT_OPS)}, "
                              f"got {self.augment_ops!r}")
        for name in ("augment_p", "augment_p_start", "augment_p_max"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name} must be a probability in [0, 1], got {value}")
        if not -1.0 < self.ada_target < 1.0:
            raise ConfigError(f"ada_target is a mean of signs, in (-1, 1); got {self.ada_target}")
        if self.ada_interval < 1 or self.ada_kimg <= 0:
            raise ConfigError("ada_interval must be at least 1 and ada_kimg positive")
        if self.recon_weight < 0:
            raise ConfigError(f"recon_weight must be non-negative, got {self.recon_weight}")
        if self.ema_kimg is not None and self.ema_kimg <= 0 or not 0 < self.ema_rampup <= 1:
            raise ConfigError(f"ema_kimg must be positive (or null) and ema_rampup in (0, 1], got {self.ema_kimg}, "
                              f"{self.ema_rampup}")
        if self.r1_gamma < 0 or self.r1_every < 1:
            raise ConfigError(f"r1_gamma must be non-negative and r1_every at least 1, got {self.r1_gamma}, "
                              f"{self.r1_every}")
        if (self.quality_every is not None and self.quality_every < 0) or self.quality_n < 2:
            raise ConfigError("quality_every must be non-negative (0: off) and quality_n at least 2")
        if self.plateau_checks < 2:
            raise ConfigError(f"plateau_checks must be at least 2, got {self.plateau_checks}")
        if self.stop_on_plateau and not self.quality_every:
            raise ConfigError("stopping when quality stops improving needs the quality checks (quality_every > 0)")


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    version: int = CONFIG_VERSION

    def validate(self) -> "RunConfig":
        if self.version != CONFIG_VERSION:
            raise ConfigError(f"config version {self.version} is not supported "
                              f"(this GAN Studio reads {CONFIG_VERSION})")
        self.data.validate()
        self.model.validate()
        self.train.validate()
        why_not = family(self.model.name).check_shape(*image_size(self.data.res, self.data.aspect))
        if why_not:  # refused here, before any image is loaded
            raise ConfigError(why_not)
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        if not isinstance(d, dict):
            raise ConfigError("a config must be a JSON object")
        unknown = set(d) - {"data", "model", "train", "version"}
        if unknown:
            raise ConfigError(f"unknown config section(s): {', '.join(sorted(unknown))}")
        version, train = d.get("version", CONFIG_VERSION), d.get("train", {})
        if version == 1 and isinstance(train, dict):
            # Version-1 runs predate augmentation and quality checks: resume them the way they were trained.
            train = {"augment": "off", "quality_every": 0, **train}
            version = CONFIG_VERSION
        return cls(
            data=_section(DataConfig, d.get("data", {}), "data"),
            model=_section(ModelConfig, d.get("model", {}), "model"),
            train=_section(TrainConfig, train, "train"),
            version=version,
        )

    def save(self, path: Path) -> None:
        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> "RunConfig":
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"no config file at {path}") from None
        except (OSError, ValueError) as e:
            raise ConfigError(f"cannot read config {path}: {e}") from None
        return cls.from_dict(d)


def _section(kind: type, values: Any, name: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"config section {name!r} must be a JSON object")
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown key(s) in config section {name!r}: {', '.join(sorted(unknown))}")
    try:
        return kind(**values)
    except TypeError as e:
        raise ConfigError(f"bad config section {name!r}: {e}") from None
