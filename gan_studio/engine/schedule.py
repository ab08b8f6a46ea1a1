"""When the trainer does its chores (statistics, previews, checkpoints, the end of a session), and the clock that
times a session without its pauses.

Every answer here is a function of the step and of the times passed in, so the cadence is tested without training.
Under torchrun (world > 1) the decisions all ranks must agree on (ending on time or on request, writing a
checkpoint) are taken only on log steps, the steps at which the ranks already talk to each other.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Callable, Iterator

from gan_studio.config import TrainConfig


def anneal_scale(progress: float, span: float, floor: float) -> float:
    """The learning rates' factor at ``progress`` through a session of known length: 1 until the last ``span`` of
    it, then falling linearly to ``floor`` at its end (span 0: always 1)."""
    if span <= 0:
        return 1.0
    start = 1.0 - span
    return 1.0 - (1.0 - floor) * min(max((progress - start) / span, 0.0), 1.0)


def apply_schedules(t: TrainConfig, optimizers: tuple[Any, Any], step: int, progress: float) -> None:
    """Learning-rate decay (a function of the step, so a resume lands on the same value) and annealing (of the
    session's progress) for (G's, D's) optimizers, and SGD's momentum ramp."""
    if t.lr_decay != 1.0 or t.lr_anneal:
        scale = anneal_scale(progress, t.lr_anneal, t.lr_anneal_to)
        for opt, lr0 in zip(optimizers, (t.lr_g, t.lr_d)):
            lr = max(lr0 / t.lr_decay ** step, t.lr_min) * scale
            for group in opt.param_groups:
                group["lr"] = lr
    if t.optimizer == "sgd" and t.momentum_final is not None:
        ramp = min(step / t.momentum_steps, 1.0) if t.momentum_steps else 1.0
        momentum = t.momentum + (t.momentum_final - t.momentum) * ramp
        for opt in optimizers:
            for group in opt.param_groups:
                group["momentum"] = momentum


def crosses_multiple(step: int, every: int, window: int) -> bool:
    """Whether a multiple of ``every`` lies in (step - window, step]: on steps ``window`` apart, true at the first
    one at or past each multiple (the quality check's rule, asked on log steps). Never true when ``every`` is 0."""
    return every > 0 and step // every > (step - window) // every


class Schedule:
    """The cadence of one session's chores, read from the run's TrainConfig; it remembers when it last
    previewed and checkpointed. Times are seconds on the session's clock (``SessionClock.now``)."""

    def __init__(self, train: TrainConfig, start_step: int, world: int = 1, now: float = 0.0) -> None:
        self.log_every = train.log_every
        self.sample_every = train.sample_every
        self.checkpoint_every = train.checkpoint_every
        self.checkpoint_seconds = train.checkpoint_minutes * 60
        self.steps = train.steps
        self.seconds = train.minutes * 60 if train.minutes is not None else None
        self.world = world
        self.start_step = start_step
        self.last_checkpoint_step = start_step  # the session starts from a checkpoint (or from nothing to save)
        self.last_checkpoint_time = now
        self.last_preview_time = now

    # ---------------------------------------------------------------------------------------- the end
    def steps_reached(self, step: int) -> bool:
        return self.steps is not None and step >= self.steps

    def time_up(self, elapsed: float) -> bool:
        """Whether ``elapsed`` seconds of training (pauses excluded) use up the session's minutes."""
        return self.seconds is not None and elapsed >= self.seconds

    def agreed_step(self, step: int) -> bool:
        """Whether ``step`` may take a decision every rank must share: any step in one process, log steps under
        torchrun (where the ranks meet anyway, so the agreement costs no extra wait)."""
        return self.world == 1 or step % self.log_every == 0

    def progress(self, step: int, elapsed: float, steps_per_s: float) -> tuple[float | None, float | None]:
        """(fraction of the session done, seconds left) by whichever limit comes first; (None, None) without one."""
        fractions = []
        if self.steps is not None:
            total = max(self.steps - self.start_step, 1)
            fractions.append(((step - self.start_step) / total, (self.steps - step) / steps_per_s))
        if self.seconds is not None:
            fractions.append((elapsed / self.seconds, self.seconds - elapsed))
        if not fractions:
            return None, None
        progress, eta = max(fractions)
        return min(progress, 1.0), max(eta, 0.0)

    # ---------------------------------------------------------------------------------------- the chores
    def log_due(self, step: int) -> bool:
        return step % self.log_every == 0

    def grid_due(self, step: int) -> bool:
        """A preview grid saved under samples/ (every sample_every steps)."""
        return step % self.sample_every == 0

    def preview_due(self, step: int, now: float, live_every: float | None) -> bool:
        """A saved grid, or between grids an unsaved live preview every ``live_every`` seconds (None: none)."""
        live_due = live_every is not None and live_every != 0 and now - self.last_preview_time >= live_every
        return self.grid_due(step) or live_due

    def previewed(self, now: float) -> None:
        self.last_preview_time = now

    def checkpoint_due(self, step: int, now: float) -> bool:
        """checkpoint_every steps or checkpoint_minutes (wall time) since the last checkpoint, on an agreed step."""
        by_steps = self.checkpoint_every is not None and step - self.last_checkpoint_step >= self.checkpoint_every
        by_time = now - self.last_checkpoint_time >= self.checkpoint_seconds
        return (by_steps or by_time) and self.agreed_step(step)

    def checkpointed(self, step: int, now: float) -> None:
        """A checkpoint was written (or its window rolled back) at ``step``: the next one counts from here."""
        self.last_checkpoint_step, self.last_checkpoint_time = step, now

    def rolled_back_to(self, step: int) -> None:
        """Training went back to ``step`` (the last good state): checkpoint_every counts steps from there again."""
        self.last_checkpoint_step = step


class SessionClock:
    """Training time of one session: wall time since it began less the time spent paused. It also times the
    current statistics window (for images/s), which pauses are kept out of as well."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.start = clock()
        self.paused_for = 0.0
        self.window_start = self.start

    def now(self) -> float:
        return self._clock()

    def elapsed(self, now: float | None = None) -> float:
        """Seconds of training in this session up to ``now`` (default: the present), pauses excluded."""
        return (self._clock() if now is None else now) - self.start - self.paused_for

    @contextlib.contextmanager
    def pause(self) -> Iterator[None]:
        """Time spent inside this block (the trainer waiting for Resume) is not training time."""
        began = self._clock()
        try:
            yield
        finally:
            waited = self._clock() - began
            self.paused_for += waited
            self.window_start += waited

    def new_window(self) -> None:
        self.window_start = self._clock()

    def window_seconds(self, excluded: float = 0.0) -> float:
        """Seconds since the statistics window began, less pauses and ``excluded`` (time spent on a chore)."""
        return self._clock() - (self.window_start + excluded)
