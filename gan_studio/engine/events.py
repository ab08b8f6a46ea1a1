"""Plain event objects the trainer yields; the CLI prints them, the GUI turns them into Qt signals."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Started:
    run_dir: Path
    step: int  # the step training starts from (non-zero after a resume)
    total_steps: int | None
    minutes: float | None
    device: str
    precision: str
    n_images: int
    image_shape: tuple[int, int, int]  # (C, H, W)


@dataclass
class StepStats:
    step: int
    seconds: float  # training seconds over the whole run, resumed sessions included
    images_per_s: float
    loss_d: float
    loss_g: float
    d_real: float  # mean D(x) on real images, in (0, 1)
    d_fake: float  # mean D(G(z)), in (0, 1); both tend to 1/2 at the game's equilibrium
    lr_g: float
    lr_d: float
    progress: float | None  # fraction of this session done, when its length is known
    eta_s: float | None  # seconds left in this session
    augment_p: float | None = None  # the probability of each augmentation D sees (None: augmentation off)
    r_t: float | None = None  # the overfitting signal E[sign(D(real))]: near 1, D is sure of every training image
    swd: float | None = None  # the quality check's SWD of EMA samples vs the training images (lower is better),
    copy_share: float | None = None  # and the share of those samples that copy a training image; None: not measured
    augment_p_styles: dict[str, float] | None = None  # a conditional model's p per style (augment_p: their mean)
    # with a quality check, a self-supervised D's reconstruction share of its trunk gradient, |r| / (|r| + |adv|)
    recon_share: float | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class Preview:
    step: int
    image: np.ndarray = field(repr=False)  # uint8 (H, W, 3) grid of the EMA generator on the fixed noise
    path: Path | None = None


@dataclass
class CheckpointSaved:
    step: int
    path: Path


@dataclass
class Notice:
    """Something the user should know that does not stop training (a rollback, a smaller batch)."""
    step: int
    message: str
    info: bool = False  # news, not a warning (a route measured for this machine): the app says it quietly


@dataclass
class Finished:
    step: int
    run_dir: Path
    reason: str  # "steps", "time", "stopped" or "plateau" (quality stopped improving; see TrainConfig)
    seconds: float
    quality: dict[str, float] | None = None  # the final quality check's figures, when one was made


@dataclass
class Paused:
    """Training is paused (between two steps) at ``step``; it goes on from there when resumed."""
    step: int


# Why a session ended, in words (the CLI and the app say the same).
FINISH_REASONS = {"steps": "reached the step target", "time": "time is up", "stopped": "stopped",
                  "plateau": "quality stopped improving"}


@dataclass
class Failed:
    step: int
    run_dir: Path | None
    message: str


Event = Started | StepStats | Preview | CheckpointSaved | Notice | Paused | Finished | Failed
