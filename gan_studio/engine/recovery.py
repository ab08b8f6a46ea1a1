"""After an unclean end (a crash, kill -9, a power cut): what was lost since the newest checkpoint.

A clean end (Stop, time up, the step target) always writes a checkpoint at its last step, so anything logged
after the newest checkpoint was trained but not saved; a resume replays those steps. The app says how much.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gan_studio.engine.rundir import RunDir


@dataclass(frozen=True)
class Lost:
    checkpoint_step: int  # where a resume goes on from
    last_step: int  # the last step that was logged before the end
    seconds: float  # training time logged after the checkpoint

    @property
    def steps(self) -> int:
        return self.last_step - self.checkpoint_step


def _number(record: dict[str, Any], key: str) -> float | None:
    value = record.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def lost_since_checkpoint(run: RunDir) -> Lost | None:
    """The steps and training time logged after the newest step checkpoint, or None after a clean end (or before
    the first checkpoint, when there is nothing to go on from)."""
    checkpoint = run.latest_step()
    if checkpoint == 0 and not run.checkpoint_list():
        return None
    logged = [(s, r) for r in run.read_stats() if (s := _number(r, "step")) is not None]
    later = [(s, r) for s, r in logged if s > checkpoint]
    if not later:
        return None
    before = [r for s, r in logged if s <= checkpoint]
    start = (_number(before[-1], "seconds") or 0.0) if before else 0.0
    end = _number(later[-1][1], "seconds") or start
    return Lost(checkpoint, int(later[-1][0]), max(0.0, end - start))
