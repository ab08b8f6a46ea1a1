"""The Train tab's state machine: what the training panel is doing, and what the user may do in each state.

    IDLE -> LOADING (Start) -> TRAINING <-> PAUSED -> STOPPING (Stop) -> IDLE (the worker has ended)

The panel emits it with ``state_changed``; the window and the buttons ask it questions (``can_pause``...)
instead of comparing names, so a new state has one place to say what it allows.
"""

from __future__ import annotations

from enum import Enum


class TrainingState(Enum):
    IDLE = "idle"  # no worker: the form is editable, Start is possible
    LOADING = "loading"  # the worker is loading the images (or the run to continue)
    TRAINING = "training"
    PAUSED = "paused"
    STOPPING = "stopping"  # Stop was asked: the worker saves a checkpoint and ends

    @property
    def active(self) -> bool:
        """A worker exists: the form shows the running config and cannot be edited."""
        return self is not TrainingState.IDLE

    @property
    def can_pause(self) -> bool:
        """Pause / Resume applies (a paused worker still loads, so loading can be paused too)."""
        return self in (TrainingState.LOADING, TrainingState.TRAINING, TrainingState.PAUSED)

    @property
    def can_stop(self) -> bool:
        """Stop applies: a worker runs and has not been asked to stop yet."""
        return self in (TrainingState.LOADING, TrainingState.TRAINING, TrainingState.PAUSED)

    @property
    def paused(self) -> bool:
        return self is TrainingState.PAUSED
