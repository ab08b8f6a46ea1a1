"""The run directory: the interface shared by the trainer, the CLI, the gallery and anyone watching a run.

    RUN/config.json        the RunConfig (enough to reproduce the run from the CLI)
    RUN/run.json           facts about the run: dataset, image shape, device, created
    RUN/stats.jsonl        one JSON object per logged step
    RUN/samples/           preview grids of the EMA generator on the fixed noise, step_00000100.png ...
    RUN/checkpoints/       step_00000200.pt ... (the newest few are kept)
    RUN/checkpoints/best.pt, best.json   the best snapshot by the quality check, and its figures
    RUN/favourites.json    seeds marked in the gallery
    RUN/eval/              what ``gan-studio eval`` measured: step_*.json and step_*_closest.png
    RUN/train.lock         present while a process trains this run (holds its pid)
    RUN/error.log          the traceback of a training that failed unexpectedly

Every path and file name of a run is reached through RunDir: nothing else spells them.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from gan_studio.config import RunConfig
from gan_studio.engine.checkpoint import checkpoint_name, list_checkpoints
from gan_studio.errors import CheckpointError
from gan_studio.fileio import atomic_write_text

CONFIG_NAME = "config.json"
BEST_NAME = "best.pt"
FAVOURITES_VERSION = 1


def default_runs_root() -> Path:
    """$GAN_STUDIO_RUNS, else the platform's per-user data folder."""
    if os.environ.get("GAN_STUDIO_RUNS"):
        return Path(os.environ["GAN_STUDIO_RUNS"]).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "GAN Studio" / "runs"
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "GAN Studio" / "runs"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "gan_studio" / "runs"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40] or "data"


@dataclass
class RunDir:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_NAME

    @property
    def info_path(self) -> Path:
        return self.path / "run.json"

    @property
    def stats_path(self) -> Path:
        return self.path / "stats.jsonl"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def lock_path(self) -> Path:
        return self.path / "train.lock"

    @property
    def error_log(self) -> Path:
        return self.path / "error.log"

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints / BEST_NAME

    @property
    def best_record(self) -> Path:
        """best.json: the step and quality figures of the best snapshot."""
        return self.checkpoints / "best.json"

    @property
    def favourites_path(self) -> Path:
        return self.path / "favourites.json"

    @property
    def eval_dir(self) -> Path:
        return self.path / "eval"

    def checkpoint_path(self, step: int) -> Path:
        return self.checkpoints / checkpoint_name(step)

    def sample_path(self, step: int) -> Path:
        return self.samples / f"step_{step:08d}.png"

    def eval_paths(self, step: int) -> tuple[Path, Path]:
        """(figures JSON, closest-pairs PNG) of an evaluation at ``step``; the folder is created."""
        self.eval_dir.mkdir(exist_ok=True)
        stem = f"step_{step:08d}"
        return self.eval_dir / f"{stem}.json", self.eval_dir / f"{stem}_closest.png"

    @staticmethod
    def is_best(path: Path) -> bool:
        """Whether a checkpoint path is a run's best snapshot (and not a step checkpoint)."""
        return Path(path).name == BEST_NAME

    @classmethod
    def create(cls, config: RunConfig, out: Path | None = None, root: Path | None = None) -> "RunDir":
        """A new run directory: ``out`` if given (it must be new or empty), else a dated, numbered one under root."""
        if out is not None:
            path = Path(out)
            if path.exists() and any(path.iterdir()):
                if (path / CONFIG_NAME).exists():
                    raise CheckpointError(f"{path} already holds a run; resume it with --resume {path}")
                raise CheckpointError(f"{path} exists and is not empty; choose a new folder for the run")
        else:
            root = Path(root) if root else default_runs_root()
            source = "demo" if config.data.source == "demo" else Path(config.data.source).name
            base = f"{time.strftime('%Y%m%d-%H%M%S')}-{config.model.name}-{_slug(source)}"
            path, n = root / base, 1
            while path.exists():
                n += 1
                path = root / f"{base}-{n}"
        try:
            for sub in ("", "samples", "checkpoints"):
                (path / sub).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CheckpointError(f"cannot create the run folder {path}: {e.strerror or e}") from None
        run = cls(path)
        config.save(run.config_path)
        return run

    @classmethod
    def open(cls, path: Path) -> "RunDir":
        path = Path(path)
        if not (path / CONFIG_NAME).is_file():
            raise CheckpointError(f"{path} is not a GAN Studio run folder (no config.json)")
        return cls(path)

    def config(self) -> RunConfig:
        return RunConfig.load(self.config_path)

    def info(self) -> dict[str, Any]:
        try:
            return json.loads(self.info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def write_info(self, **facts: Any) -> None:
        info = {**self.info(), **facts, "platform": platform.platform()}
        atomic_write_text(self.info_path, json.dumps(info, indent=2, default=str) + "\n")

    def append_stats(self, record: dict[str, Any]) -> None:
        with open(self.stats_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def read_stats(self) -> list[dict[str, Any]]:
        """Every logged step; a line cut short by a crash is skipped."""
        out: list[dict[str, Any]] = []
        try:
            lines = self.stats_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return out
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def truncate_stats(self, after_step: int) -> None:
        """Drop stats logged after ``after_step`` (a resume replays those steps)."""
        kept = [r for r in self.read_stats() if r.get("step", 0) <= after_step]
        atomic_write_text(self.stats_path, "".join(json.dumps(r) + "\n" for r in kept))

    def checkpoint_list(self) -> list[tuple[int, Path]]:
        return list_checkpoints(self.checkpoints)

    def latest_step(self) -> int:
        """The step of the newest step checkpoint (0 when there is none yet)."""
        cps = self.checkpoint_list()
        return cps[-1][0] if cps else 0

    def has_checkpoint(self) -> bool:
        """A generator to sample from: a step checkpoint or the best snapshot."""
        return bool(self.checkpoint_list()) or self.best_checkpoint.is_file()

    def best_info(self) -> dict[str, Any] | None:
        """best.json (the best snapshot's step and figures), or None when absent or unreadable."""
        try:
            info = json.loads(self.best_record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return info if isinstance(info, dict) else None

    def write_best_info(self, info: dict[str, Any]) -> None:
        atomic_write_text(self.best_record, json.dumps(info) + "\n")

    # ---------------------------------------------------------------------------------------- favourites
    def favourites(self) -> list[int]:
        """The favourite seeds marked in the gallery, sorted; none if absent or unreadable."""
        try:
            data = json.loads(self.favourites_path.read_text(encoding="utf-8"))
            return sorted({int(s) for s in data.get("seeds", [])})
        except (OSError, ValueError, TypeError, AttributeError):
            return []

    def save_favourites(self, seeds: Sequence[int]) -> None:
        data = {"version": FAVOURITES_VERSION, "seeds": sorted({int(s) for s in seeds})}
        atomic_write_text(self.favourites_path, json.dumps(data) + "\n")

    def remove_stale_temporaries(self) -> None:
        """Delete temporary files left by a process killed mid-write (call only while holding the lock)."""
        for folder in (self.path, self.samples, self.checkpoints):
            if folder.is_dir():
                for p in folder.glob(".*.tmp"):
                    p.unlink(missing_ok=True)

    def sample_grids(self) -> list[Path]:
        return sorted(self.samples.glob("step_*.png")) if self.samples.is_dir() else []

    @staticmethod
    def grid_step(path: Path) -> int:
        """The step of a sample grid's file name (step_00000100.png -> 100); -1 for another name."""
        try:
            return int(Path(path).stem.split("_")[-1])
        except ValueError:
            return -1


def list_runs(root: Path | None = None) -> list[RunDir]:
    """Every run folder under ``root``, newest first."""
    root = Path(root) if root else default_runs_root()
    if not root.is_dir():
        return []
    runs = [RunDir(p) for p in root.iterdir() if (p / CONFIG_NAME).is_file()]
    return sorted(runs, key=lambda r: r.config_path.stat().st_mtime, reverse=True)
