"""Generating images from a trained run: the EMA generator of its best snapshot (by the training-time quality
check, ``checkpoints/best.pt``), else of its newest checkpoint, or of a chosen one.

Every image has its own seed, so image #s of a gallery is the same picture whatever the batch it is drawn in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from gan_studio.config import RunConfig
from gan_studio.engine import checkpoint as ckpt
from gan_studio.engine.device import resolve_device
from gan_studio.engine.rundir import RunDir
from gan_studio.engine.runfiles import config_from_dict
from gan_studio.models import build_models, sample_noise


@dataclass
class LoadedGenerator:
    generator: nn.Module
    config: RunConfig
    step: int
    checkpoint: Path
    run_dir: Path
    device: torch.device
    notes: list[str] = field(default_factory=list)  # damaged checkpoints passed over for this one

    @property
    def z_dim(self) -> int:
        return self.config.model.z_dim

    def noise(self, seeds: Sequence[int]) -> torch.Tensor:
        """z for each seed: (len(seeds), z_dim) on the generator's device."""
        rows = []
        for s in seeds:
            gen = torch.Generator().manual_seed(int(s))
            rows.append(sample_noise(1, self.z_dim, self.config.model.noise, gen))
        return torch.cat(rows).to(self.device)

    @torch.no_grad()
    def images_from_noise(self, z: torch.Tensor, batch: int = 64) -> np.ndarray:
        """uint8 images (N, H, W, C) for noise z."""
        out = []
        for i in range(0, len(z), batch):
            x = self.generator(z[i:i + batch].to(self.device)).float()
            out.append(((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 1, 1, 3), np.uint8)

    def images(self, seeds: Sequence[int], batch: int = 64,
               progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        out = []
        for i in range(0, len(seeds), batch):
            out.append(self.images_from_noise(self.noise(seeds[i:i + batch]), batch))
            if progress:
                progress(min(i + batch, len(seeds)), len(seeds))
        return np.concatenate(out) if out else np.zeros((0, 1, 1, 3), np.uint8)


WHICH = ("best", "latest")


def load_generator(run_path: Path, checkpoint: Path | None = None, device: str = "cpu",
                   ema: bool = True, which: str = "best") -> LoadedGenerator:
    """The (EMA) generator of ``checkpoint``, or else of the run's best snapshot (``which='best'``) or its newest
    checkpoint (``which='latest'``), in eval mode. Without ``checkpoint``, one that is damaged is passed over for
    the next (the newest step checkpoints, then the best snapshot), and ``notes`` says so."""
    if which not in WHICH:
        raise ckpt.CheckpointError(f"which must be one of {', '.join(WHICH)}, got {which!r}")
    run = RunDir.open(run_path)
    if checkpoint is not None:  # the one asked for, or an error: never another one in its place
        chosen = ckpt.load_first([Path(checkpoint)])
    else:
        chosen = ckpt.load_first(run.checkpoint_candidates(best_first=which == "best"))
    state = chosen.state
    config = config_from_dict(state["config"], f"the config inside {chosen.path.name}")
    c, h, w = state["image_shape"]
    generator, _ = build_models(config.model, c, h, w)
    ckpt.load_module_state(generator, state["G_ema" if ema else "G"], "the generator")
    dev = resolve_device(device)
    generator.to(dev).eval()
    note = chosen.note("sampling")
    return LoadedGenerator(generator, config, state["step"], chosen.path, run.path, dev, [note] if note else [])
