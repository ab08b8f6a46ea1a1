"""Quality during and after training: the cheap check a run makes every few hundred steps, the best snapshot,
the notices that tell the user when training has turned bad, and the full evaluation of a finished run.

The check draws the EMA generator's samples from a fixed noise batch (its own seed: the training's random
streams are untouched, so a resumed run still matches an uninterrupted one) and compares them with the
training images by SWD and the copy share (``gan_studio.engine.metrics``). A new lowest SWD with few copies is
written to ``checkpoints/best.pt`` (a full checkpoint, written atomically) with ``best.json`` beside it.

The best is not chosen on one reading: at n = 300 a reading's sample-to-sample spread is about 1.4 SWD, and the
minimum of many noisy readings is biased low (a best read 20.8 in training and 22.3 on fresh samples). A reading
near or below the best (within ``QualityMonitor.LEAD``) is therefore read again on fresh noise with fresh patch
and direction draws, and the snapshot is adopted on the mean of those fresh readings alone. Being adopted for
coming out low biases those readings too, so best.json records (and later checks must beat) the mean of a
further, independent set of readings of the adopted snapshot; at the end of a session the best is read six more
times and the record becomes the mean of all nine (``QualityCheck.refine_best``).

A conditional model is checked style by style: each style's samples (the check's noise carries the styles in the
training set's proportions) against that style's training images, and the reading is the mean over the styles.
One SWD over the pooled sets would forgive a Monet painted in a Song palette as long as the palettes add up.
"""

from __future__ import annotations

import copy
import functools
import math
from pathlib import Path
from typing import Any, Callable, Generator

import numpy as np
import torch

from gan_studio.engine import checkpoint as ckpt
from gan_studio.engine.events import CheckpointSaved, Notice, StepStats
from gan_studio.engine.metrics import (
    ImageBatch,
    Reference,
    closest_pairs_image,
    evaluate,
    memorisation,
    quick_quality,
    reference,
    swd,
)
from gan_studio.engine.rundir import RunDir
from gan_studio.engine.schedule import crosses_multiple
from gan_studio.engine.trend import plateaued
from gan_studio.errors import CheckpointError

OVERFIT_RT = 0.9  # r_t above this: D calls (almost) every training image real with certainty
FRESH_SEED_OFFSET = 555_555_555  # the fresh readings' noise and patch draws: streams of their own


def _draw(generate: Callable[[torch.Tensor], torch.Tensor], noise: torch.Tensor) -> torch.Tensor:
    """uint8 samples of ``generate`` (noise -> images in [0, 1]) for a noise batch, 100 at a time."""
    return torch.cat([generate(z).clamp(0, 1).mul(255).round().to(torch.uint8) for z in noise.split(100)])


@torch.no_grad()
def generate_with(module: torch.nn.Module, z: torch.Tensor, n_styles: int, device: torch.device,
                  y: torch.Tensor | None = None) -> torch.Tensor:
    """Images in [0, 1], float32 on the CPU, of a generator for noise ``z``. With styles, ``y`` (N, S) is each
    image's style (or blend); without it, each row of ``z`` carries its style after its noise (a check's batch)."""
    if n_styles and y is None:
        z, y = z[:, :-n_styles], z[:, -n_styles:]
    y = y.to(device) if y is not None else None
    return (module(z.to(device), y).float().cpu() + 1.0) / 2.0


def snapshot_generate(module: torch.nn.Module, path: Path, n_styles: int, device: torch.device
                      ) -> Callable[[torch.Tensor], torch.Tensor]:
    """``generate`` (noise -> images in [0, 1] on the CPU) for the EMA generator saved in the checkpoint at
    ``path``, on a copy of ``module`` (the training's own generator is left alone)."""
    g = copy.deepcopy(module)
    ckpt.load_module_state(g, ckpt.load_checkpoint(path)["G_ema"], "the best snapshot's generator")
    g.eval()
    return functools.partial(generate_with, g, n_styles=n_styles, device=device)


def center_crop(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """The centred (height, width) window of uint8 (N, C, H, W) images (a random-crop cache stores them larger)."""
    h, w = images.shape[-2:]
    top, left = (h - height) // 2, (w - width) // 2
    return images[..., top:top + height, left:left + width]


class QualityMonitor:
    """The history of checks, the best value so far, and which notices were given."""

    WORSE = 1.25  # SWD this much above the best, twice running, and long after it: quality has turned
    COPIES = 0.05  # more than this share of copies: the generator reproduces training images
    LEAD = 1.07  # a reading below this times the best may be a new best: read it again on fresh draws
    FRESH = 3  # fresh readings that decide a candidate (each a new noise batch and new patch draws)
    REFINE = 6  # further readings of the session's final best, pooled with its record's three (see refine_best)

    def __init__(self, train: np.ndarray | None, seed: int = 0, labels: np.ndarray | None = None) -> None:
        self.train = train
        self.labels = labels  # the training images' styles (a conditional run): SWD is then read style by style
        self.seed = seed
        self._ref: Reference | None = None  # the training side of the copy check, computed at the first check
        self.best_swd = math.inf
        self.best_step = -1
        self.history: list[tuple[int, float, float]] = []  # (step, swd, copy share)
        self.told: list[str] = []  # notices already given (each once until the situation changes)

    def measure(self, samples: ImageBatch, sample_labels: np.ndarray | None = None) -> dict[str, Any]:
        if self.train is None:
            raise ValueError("a quality check needs the training images")
        if self._ref is None:
            self._ref = reference(self.train, max_images=1000, seed=self.seed)
        if self.labels is None or sample_labels is None:
            return quick_quality(samples, self.train, seed=self.seed, ref=self._ref)
        by_style = self.swd_by_style(samples, sample_labels, self.seed)
        copies = memorisation(samples, self.train, ref=self._ref).copy_share
        return {"swd": round(float(np.mean(by_style)), 3), "copy_share": round(copies, 4), "n": len(sample_labels),
                "swd_styles": [round(v, 3) for v in by_style]}

    def fresh_swd(self, samples: ImageBatch, seed: int, sample_labels: np.ndarray | None = None) -> float:
        """SWD alone, with patch positions and directions of ``seed`` (a reading independent of the check's)."""
        if self.train is None:
            raise ValueError("a quality check needs the training images")
        if self.labels is not None and sample_labels is not None:
            return float(np.mean(self.swd_by_style(samples, sample_labels, seed)))
        return swd(samples, self.train, seed=seed).mean

    def swd_by_style(self, samples: ImageBatch, sample_labels: np.ndarray, seed: int) -> list[float]:
        """Each style's SWD: its samples against its training images (at the smaller count); styles in order,
        those without samples or images left out."""
        assert self.train is not None and self.labels is not None
        values = []
        for style in range(int(self.labels.max()) + 1):
            mine, theirs = sample_labels == style, self.labels == style
            if mine.sum() and theirs.sum():
                picked = samples[torch.as_tensor(mine, device=samples.device)] if isinstance(samples, torch.Tensor) \
                    else samples[mine]
                values.append(swd(picked, self.train[theirs], seed=seed + style).mean)
        return values

    def leading(self, swd_value: float, copy_share: float) -> bool:
        """Whether a check's reading is close enough to the best to be read again on fresh draws."""
        return copy_share <= self.COPIES and swd_value < self.LEAD * self.best_swd

    def update(self, step: int, swd_value: float, copy_share: float,
               confirmed: float | None = None) -> tuple[bool, list[str]]:
        """Record a check (``swd_value`` on the fixed noise, the history's figure; ``confirmed``, the mean of
        fresh readings of a leading check, which then decides); returns (is this the best snapshot so far,
        notices for the user)."""
        self.history.append((step, swd_value, copy_share))
        notices: list[str] = []
        value = confirmed if confirmed is not None else swd_value
        best = value < self.best_swd and copy_share <= self.COPIES
        if best:
            self.best_swd, self.best_step = value, step
            self.told = [t for t in self.told if t != "worse"]
        if copy_share > self.COPIES and "copies" not in self.told:
            self.told.append("copies")
            notices.append(f"{copy_share:.0%} of the samples at step {step} are near-copies of training images: the "
                           f"generator is memorising the data set (a larger or more varied folder, or stronger "
                           f"augmentation, helps); snapshots with copies are never kept as the best")
        recent = self.history[-2:]
        if (len(recent) == 2 and math.isfinite(self.best_swd) and step >= 2 * max(self.best_step, 1)
                and all(s > self.WORSE * self.best_swd for _, s, _ in recent) and "worse" not in self.told):
            self.told.append("worse")
            notices.append(f"sample quality has been falling since step {self.best_step} (SWD {self.best_swd:.1f} "
                           f"then, {swd_value:.1f} now; lower is better): training longer is unlikely to help. "
                           f"The best snapshot is kept (checkpoints/best.pt) and is what sampling and export use")
        return best, notices

    def adopt_best(self, best: dict[str, Any] | None) -> None:
        """After a resume from an older checkpoint, keep the bar set by a best snapshot written since (its
        best.json); none, or an unreadable one, leaves the checkpoint's own record standing."""
        try:
            if best is not None and float(best["swd"]) < self.best_swd:
                self.best_swd, self.best_step = float(best["swd"]), int(best["step"])
        except (ValueError, KeyError, TypeError):
            pass

    def state_dict(self) -> dict[str, Any]:
        return {"best_swd": self.best_swd, "best_step": self.best_step,
                "history": [list(h) for h in self.history], "told": list(self.told)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_swd, self.best_step = float(state["best_swd"]), int(state["best_step"])
        self.history = [(int(a), float(b), float(c)) for a, b, c in state.get("history", [])]
        self.told = list(state.get("told", []))


# ------------------------------------------------------------------------------------ during training
class QualityCheck:
    """The check a run makes while it trains: at the first log step at or past each multiple of ``every`` it
    measures the EMA generator's samples of the fixed ``noise`` against the ``train`` images, and a new best is
    written whole to checkpoints/best.pt. On every log it also watches for the discriminator memorising the
    training images. Without ``train`` (the check off, a rank other than 0, tiny images) it only watches."""

    def __init__(self, run_dir: RunDir, every: int | None, log_every: int, train: np.ndarray | None = None,
                 noise: torch.Tensor | None = None, seed: int = 0,
                 fresh_noise: Callable[[int], torch.Tensor] | None = None, labels: np.ndarray | None = None,
                 n_styles: int = 0) -> None:
        self.run_dir = run_dir
        self.n_styles = n_styles  # with styles, each noise row carries its style after its noise (its last columns)
        self.fresh_noise = fresh_noise  # seed -> a noise batch like ``noise``: the fresh readings' samples
        self.every = every or 0
        self.log_every = log_every
        self.monitor = QualityMonitor(train, seed=seed, labels=labels if n_styles else None) \
            if train is not None and self.every else None
        self.noise = noise
        self.last_step = 0  # the step of the latest check
        self.overfit_logs = 0  # consecutive logged windows with D sure of every training image

    @property
    def enabled(self) -> bool:
        return self.monitor is not None

    def due(self, step: int) -> bool:
        """Asked on a log step: whether this is the first one at or past a multiple of ``every``."""
        return self.enabled and crosses_multiple(step, self.every, self.log_every)

    def final_due(self, step: int) -> bool:
        """At the end of a session: whether the final state, not yet checked, is late enough to be."""
        return self.enabled and step > self.last_step and step >= self.every

    def check(self, step: int, generate: Callable[[torch.Tensor], torch.Tensor],
              checkpoint_state: Callable[[], dict[str, Any]]
              ) -> Generator[Notice | CheckpointSaved, None, dict[str, float]]:
        """Measure ``generate`` (noise -> images in [0, 1]) at ``step``; a new best saves ``checkpoint_state()``.
        Returns the figures (as the generator's return value: ``figures = yield from check.check(...)``)."""
        assert self.monitor is not None and self.noise is not None
        figures = self.monitor.measure(_draw(generate, self.noise), self._styles_of(self.noise))
        self.last_step = step
        confirmed = None
        if self.fresh_noise is not None and self.monitor.leading(figures["swd"], figures["copy_share"]):
            confirmed = float(np.mean(self._fresh_readings(step, 0, self.monitor.FRESH, generate)))
            figures["swd_fresh"] = round(confirmed, 3)
        best, notices = self.monitor.update(step, figures["swd"], figures["copy_share"], confirmed)
        for message in notices:
            yield Notice(step, message)
        if best:
            path = self.run_dir.best_checkpoint
            ckpt.save_checkpoint(path, checkpoint_state())
            info = {"step": step, **figures}
            if confirmed is not None:
                # Adopted because its fresh readings came out lower than the best's: biased low by that very
                # selection. The figure recorded (and the bar later checks must pass) is a further, independent
                # set of readings of the adopted snapshot.
                readings = self._fresh_readings(step, self.monitor.FRESH, self.monitor.FRESH, generate)
                self.monitor.best_swd = float(np.mean(readings))
                info.update(swd_check=figures["swd"], swd=round(self.monitor.best_swd, 3),
                            swd_readings=[round(r, 3) for r in readings])
            self.run_dir.write_best_info(info)
            yield CheckpointSaved(step, path)
        return figures

    def refine_best(self, step: int, generate: Callable[[torch.Tensor], torch.Tensor],
                    best_generate: Callable[[], Callable[[torch.Tensor], torch.Tensor]]) -> float | None:
        """At the end of a session, read the best snapshot ``REFINE`` more times and record the mean of these and
        its record's readings. Readings of one snapshot spread by 0.8-1.9 SWD at 64 px between sample sets (eight
        snapshots measured; most of it the 16 px level): three leave best.json's figure uncertain by 0.5-1.1,
        nine by 0.3-0.6. Once per session, after the
        training time: the checks during training stay as cheap as they were. ``generate`` is the model at
        ``step``; ``best_generate()`` makes one for checkpoints/best.pt when the best is older. Returns the new
        figure, or None when there is nothing to refine (no best written this session, already refined, or best.pt
        unreadable)."""
        if self.monitor is None or self.fresh_noise is None:
            return None
        info = self.run_dir.best_info()
        if info is None or info["step"] != self.monitor.best_step:
            return None
        readings = info.get("swd_readings")
        if not (isinstance(readings, list) and len(readings) == self.monitor.FRESH
                and all(isinstance(r, (int, float)) for r in readings)):
            return None
        try:
            best = generate if info["step"] == step else best_generate()
        except CheckpointError:  # best.pt damaged since it was written: its figure stays; sampling falls back
            return None
        readings = readings + self._fresh_readings(info["step"], 2 * self.monitor.FRESH, self.monitor.REFINE, best)
        self.monitor.best_swd = float(np.mean(readings))
        info.update(swd=round(self.monitor.best_swd, 3), swd_readings=[round(r, 3) for r in readings])
        self.run_dir.write_best_info(info)
        return self.monitor.best_swd

    def _fresh_readings(self, step: int, first: int, count: int,
                        generate: Callable[[torch.Tensor], torch.Tensor]) -> list[float]:
        """``count`` SWD readings, each on new noise with new patch draws; seeds of their own for each step and
        reading (never the check's, never the training's streams), from reading ``first`` on."""
        assert self.monitor is not None and self.fresh_noise is not None
        readings = []
        for i in range(first, first + count):
            s = self.monitor.seed + FRESH_SEED_OFFSET + 1000 * step + i
            noise = self.fresh_noise(s)
            readings.append(self.monitor.fresh_swd(_draw(generate, noise), s, self._styles_of(noise)))
        return readings

    def _styles_of(self, noise: torch.Tensor) -> np.ndarray | None:
        """The style of each row of a check's noise batch (None without styles)."""
        return noise[:, -self.n_styles:].argmax(1).cpu().numpy() if self.n_styles else None

    def overfitting(self, stats: StepStats, augment_on: bool, adaptive: bool, n_images: int) -> list[Notice]:
        """Tell the user, once, when D has been sure of every training image for a long while (ADA's r_t near 1)
        with nothing left to hold it back: the classic sign that the game is about to degrade."""
        held_back = augment_on and adaptive and (stats.augment_p or 0.0) < 0.99
        sure = stats.r_t is not None and stats.r_t > OVERFIT_RT and not held_back
        self.overfit_logs = self.overfit_logs + 1 if sure else 0
        if self.overfit_logs != max(3, 200 // self.log_every):
            return []
        advice = ("augmentation is already at its strongest" if augment_on else
                  "augmentation (--augment on) or the data-efficient model (--model fastgan) counter this")
        return [Notice(stats.step, f"the discriminator has been sure of every training image for a while "
                                   f"(r_t = {stats.r_t:.2f}): it is memorising the {n_images} images, and samples "
                                   f"usually get worse from here; {advice}")]

    def plateaued(self, patience: int) -> bool:
        """Whether the last ``patience`` checks brought no real gain (gan_studio.engine.trend)."""
        return self.monitor is not None and plateaued([swd for _, swd, _ in self.monitor.history], patience)

    def state_dict(self) -> dict[str, Any] | None:
        """The monitor's record (a checkpoint's "quality"); None when nothing is measured."""
        return self.monitor.state_dict() if self.monitor is not None else None

    def load_state_dict(self, state: dict[str, Any] | None) -> None:
        if not state or self.monitor is None:
            return
        self.monitor.load_state_dict(state)
        self.monitor.adopt_best(self.run_dir.best_info())  # a best written after this checkpoint stays
        self.last_step = self.monitor.history[-1][0] if self.monitor.history else 0


# ------------------------------------------------------------------------------------------------ a run
def evaluate_run(run_path: Path | str, data: str | None = None, n: int = 300, seed: int = 0, which: str = "best",
                 device: str = "cpu", parzen_ll: bool = True, held_out: str | None = None
                 ) -> tuple[dict[str, Any], np.ndarray]:
    """Every metric for a run's generator: ``n`` samples (seeds seed..seed+n-1) against the run's training images
    (or the folder ``data``, decoded at the run's size). The Parzen estimate is taken on ``held_out`` images, or
    on the test split beside an MNIST training file, else on the training images (and labelled so). Returns (the
    JSON-ready figures, closest pairs image)."""
    from gan_studio.data import load_dataset
    from gan_studio.data.arrays import test_split_beside
    from gan_studio.data.demo import ensure_demo_folder
    from gan_studio.engine.sampling import load_generator

    gen = load_generator(Path(run_path), device=device, which=which)
    cfg = gen.config.data
    source = data or (str(ensure_demo_folder()) if cfg.source == "demo" else cfg.source)
    crop = "center" if cfg.crop == "random" else cfg.crop
    image_set = load_dataset(source, res=cfg.res, aspect=cfg.aspect, crop=crop)
    labels = None
    if gen.styles:  # a conditional run is judged on its styles' images (what it trained on), and style by style
        from gan_studio.data.styles import select_styled

        image_set, labels = select_styled(image_set, gen.styles)
    train = image_set.images
    samples = gen.images(list(range(seed, seed + n)))  # (n, H, W, C); with styles, each seed's own in turn
    held_out = held_out or (test_split_beside(source) if parzen_ll else None)
    test = load_dataset(held_out, res=cfg.res, aspect=cfg.aspect, crop=crop).images if held_out else None

    def channels(images: np.ndarray) -> np.ndarray:  # a grayscale run judged against colour data, or the reverse
        if images.shape[1] == samples.shape[-1]:
            return images
        return np.repeat(images, 3, axis=1) if images.shape[1] == 1 else images.mean(1, keepdims=True).astype(np.uint8)
    train = channels(train)
    figures = evaluate(samples, train, seed=seed, with_parzen=parzen_ll,
                       held_out=channels(test) if test is not None else None)
    if "parzen" in figures:
        figures["parzen"]["images"] = held_out or "the training images (not held out: this rewards memorising)"
    if labels is not None:
        from gan_studio.engine.style_eval import evaluate_styles

        figures.update(evaluate_styles(gen, train, labels, n=n, seed=seed))
    figures = {"run": str(gen.run_dir), "checkpoint": gen.checkpoint.name, "step": gen.step, "data": source,
               "seed": seed, **figures, **({"notes": gen.notes} if gen.notes else {})}  # checkpoints passed over
    return figures, closest_pairs_image(samples, train, memorisation(samples, train), k=min(16, n))
