"""Generating images from a trained run: the EMA generator of its best snapshot (by the training-time quality
check, ``checkpoints/best.pt``), else of its newest checkpoint, or of a chosen one.

Every image has its own seed, so image #s of a gallery is the same picture whatever the batch it is drawn in.
A conditional model's images also have a style: a point of the simplex of its styles (a style, or a blend such as
"60% Monet, 40% Song"), one for all seeds; without one, seed s takes style s mod S, so a gallery shows them all.
The same seed in two styles is the same noise: the same composition, painted each way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from gan_studio.config import RunConfig
from gan_studio.data.styles import as_style_vector, labels_for_seeds, seed_style
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

    @property
    def styles(self) -> list[str]:
        """The styles of a conditional model (empty for an unconditional one)."""
        return list(self.config.model.styles)

    def style_rows(self, seeds: Sequence[int], style: np.ndarray | str | None = None) -> torch.Tensor | None:
        """The style input for ``seeds``: ``style`` (S,) for every one, or seed mod S in turn; None without styles.
        Raises ValueError for a style vector that does not fit."""
        names = self.styles
        if not names:
            if style is not None:
                raise ValueError("this model has no styles: it was trained on one data set")
            return None
        if style is None:
            return torch.nn.functional.one_hot(torch.tensor([seed_style(s, len(names)) for s in seeds]),
                                               len(names)).float().to(self.device)
        v = torch.from_numpy(as_style_vector(names, style))
        return v.expand(len(seeds), -1).to(self.device)

    def noise(self, seeds: Sequence[int]) -> torch.Tensor:
        """z for each seed: (len(seeds), z_dim) on the generator's device."""
        rows = []
        for s in seeds:
            gen = torch.Generator().manual_seed(int(s))
            rows.append(sample_noise(1, self.z_dim, self.config.model.noise, gen))
        return torch.cat(rows).to(self.device)

    def style_labels(self, seeds: Sequence[int], style: np.ndarray | None = None) -> list[str]:
        """Each seed's style as a label for names and metadata ('monet', 'monet60-song40'); '' without styles."""
        return labels_for_seeds(self.styles, seeds, style)

    @torch.no_grad()
    def images_from_noise(self, z: torch.Tensor, batch: int = 64, y: torch.Tensor | None = None) -> np.ndarray:
        """uint8 images (N, H, W, C) for noise z (and, for a conditional model, styles y (N, S))."""
        out = []
        for i in range(0, len(z), batch):
            rows = y[i:i + batch].to(self.device) if y is not None else None
            x = self.generator(z[i:i + batch].to(self.device), rows).float()
            out.append(((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 1, 1, 3), np.uint8)

    def images(self, seeds: Sequence[int], batch: int = 64,
               progress: Callable[[int, int], None] | None = None, style: np.ndarray | None = None) -> np.ndarray:
        """uint8 images (N, H, W, C), one per seed; ``style``: a conditional model's style vector (see style_rows)."""
        out = []
        for i in range(0, len(seeds), batch):
            chunk = seeds[i:i + batch]
            out.append(self.images_from_noise(self.noise(chunk), batch, self.style_rows(chunk, style)))
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
