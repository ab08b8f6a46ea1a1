"""The training engine: no Qt here. Drivers (CLI, GUI, tests) build a Trainer and iterate its events."""

from gan_studio.engine.events import CheckpointSaved, Event, Failed, Finished, Notice, Preview, Started, StepStats
from gan_studio.engine.rundir import RunDir, default_runs_root, list_runs
from gan_studio.engine.sampling import LoadedGenerator, load_generator
from gan_studio.engine.trainer import Trainer

__all__ = ["Trainer", "RunDir", "default_runs_root", "list_runs", "load_generator", "LoadedGenerator",
           "Event", "Started", "StepStats", "Preview", "CheckpointSaved", "Notice", "Finished", "Failed"]
