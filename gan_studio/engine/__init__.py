"""The training engine: no Qt here. Drivers (CLI, GUI, tests) build a Trainer and iterate its events.

The names below are loaded on first use, so importing one light module of the engine (the run folder, the
latent maths) does not load the trainer and PyTorch with it.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Trainer": "trainer", "RunDir": "rundir", "default_runs_root": "rundir", "list_runs": "rundir",
    "load_generator": "sampling", "LoadedGenerator": "sampling",
    **{name: "events" for name in ("Event", "Started", "StepStats", "Preview", "CheckpointSaved", "Notice",
                                   "Paused", "Finished", "Failed")},
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'gan_studio.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(f"gan_studio.engine.{_WHERE[name]}"), name)
