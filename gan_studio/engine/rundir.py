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

Every path and file name of a run is reached through RunDir: nothing else spells them. Every read checks what it
reads (``runfiles``): a damaged file is a one-line RunFileError, or a problem listed by ``summarize``, for that
run alone. Listing runs reads small files only and never imports PyTorch.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from gan_studio.config import RunConfig
from gan_studio.engine import checkpoint_files
from gan_studio.engine.checkpoint_files import BEST_NAME, checkpoint_name, list_checkpoints
from gan_studio.engine.lock import LOCK_NAME, lock_state
from gan_studio.engine.runfiles import (
    BEST_FIELDS,
    STATS_FILE,
    RunFileError,
    check_favourites,
    check_info,
    check_record,
    config_from_dict,
    parse_stats,
    read_bytes,
    read_json,
)
from gan_studio.errors import CheckpointError, GanStudioError
from gan_studio.fileio import atomic_write_text

NOTES_LIMIT = 64 * 1024  # notes are a few lines; a larger file is not read
CONFIG_NAME = "config.json"
FAVOURITES_VERSION = 1
STATS_TAIL = 16 << 10  # the runs list reads this much of the end of stats.jsonl (runs can log for days)


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
        return self.path / LOCK_NAME

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

    @property
    def notes_path(self) -> Path:
        """notes.txt: what the user wrote about the run (the Runs tab's notes field)."""
        return self.path / "notes.txt"

    def notes(self) -> str:
        """The user's notes on this run ('' when none, or when the file cannot be read as text)."""
        try:
            data = read_bytes(self.notes_path, "notes.txt", NOTES_LIMIT)
            return "" if data is None else data.decode("utf-8", errors="replace")
        except RunFileError:
            return ""

    def write_notes(self, text: str) -> None:
        """Keep ``text`` as the run's notes (an empty text removes the file)."""
        if len(text.encode("utf-8")) > NOTES_LIMIT:
            raise RunFileError(f"notes are limited to {NOTES_LIMIT // 1024} kB")
        try:
            if text.strip():
                atomic_write_text(self.notes_path, text)
            else:
                self.notes_path.unlink(missing_ok=True)
        except OSError as e:
            raise RunFileError(f"cannot write the notes of {self.name} ({e.strerror or e})") from None

    def checkpoint_path(self, step: int) -> Path:
        return self.checkpoints / checkpoint_name(step)

    def sample_path(self, step: int) -> Path:
        return self.samples / f"step_{step:08d}.png"

    def eval_paths(self, step: int) -> tuple[Path, Path]:
        """(figures JSON, closest-pairs PNG) of an evaluation at ``step``; the folder is created."""
        try:
            self.eval_dir.mkdir(exist_ok=True)
        except OSError as e:  # a file in its place, say
            raise RunFileError(f"cannot use the folder eval/ of {self.path} ({e.strerror or e})") from None
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
    def open(cls, path: Path, to_train: bool = False) -> "RunDir":
        """An existing run folder; ``to_train``: also that training can write into it (a missing samples/ or
        checkpoints/ is made again; a file in the place of one, or a folder in the place of a file training
        writes, is a RunFileError before any image is loaded)."""
        path = Path(path)
        if not os.path.lexists(path / CONFIG_NAME):
            if is_run_folder(path):
                raise RunFileError(f"{path} is a damaged run folder: config.json is missing")
            raise CheckpointError(f"{path} is not a GAN Studio run folder (no config.json)")
        run = cls(path)
        if to_train:
            for folder in (run.samples, run.checkpoints):
                try:
                    folder.mkdir(exist_ok=True)
                except OSError:
                    raise RunFileError(f"{folder.name} in {path} is not a folder: move it away to train this "
                                       f"run") from None
            for file in (run.info_path, run.stats_path, run.best_record, run.best_checkpoint, run.error_log):
                if file.is_dir():  # training writes it: a folder there would fail a session half way
                    raise RunFileError(f"{file.relative_to(path)} in {path} is a folder where a file belongs: "
                                       f"move it away to train this run")
        return run

    def config(self) -> RunConfig:
        """The run's validated settings; a RunFileError that says what is wrong with config.json."""
        data = read_json(self.config_path, CONFIG_NAME)
        if data is None:
            raise RunFileError(f"config.json is missing from {self.path}")
        return config_from_dict(data)

    def info_checked(self) -> tuple[dict[str, Any], str | None]:
        """run.json's facts (fields of a wrong type left out) and what is damaged in it (None: nothing)."""
        try:
            data = read_json(self.info_path, "run.json")
        except RunFileError as e:
            return {}, f"{e} (ignored)"
        return ({}, None) if data is None else check_info(data)

    def info(self) -> dict[str, Any]:
        return self.info_checked()[0]

    def write_info(self, **facts: Any) -> None:
        info = {**self.info(), **facts, "platform": platform.platform()}
        try:
            atomic_write_text(self.info_path, json.dumps(info, indent=2, default=str) + "\n")
        except OSError as e:  # a folder in the way, say
            raise RunFileError(f"cannot write run.json in {self.path} ({e.strerror or e})") from None

    def append_stats(self, record: dict[str, Any]) -> None:
        with open(self.stats_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def read_stats_checked(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Every valid logged step, and what was skipped; a RunFileError when the file cannot be read at all.
        A last line cut short by a crash is skipped without a word."""
        data = read_bytes(self.stats_path, "stats.jsonl", STATS_FILE)
        return ([], []) if data is None else parse_stats(data)

    def read_stats(self) -> list[dict[str, Any]]:
        """Every valid logged step (damaged lines are skipped; an unreadable file reads as none)."""
        try:
            return self.read_stats_checked()[0]
        except RunFileError:
            return []

    def last_stats(self) -> tuple[dict[str, Any], list[str]]:
        """The newest valid record, read from the end of the file, and what was damaged after it."""
        path = self.stats_path
        if not os.path.lexists(path):
            return {}, []
        if not path.is_file():
            return {}, ["stats.jsonl is not a file (ignored)"]
        try:
            with open(path, "rb") as f:
                start = max(0, f.seek(0, os.SEEK_END) - STATS_TAIL)
                f.seek(start)
                data = f.read(STATS_TAIL)
        except OSError as e:
            return {}, [f"stats.jsonl cannot be read ({e.strerror or e}; ignored)"]
        records, problems = parse_stats(data, partial_first=start > 0)
        return (records[-1] if records else {}), problems

    def truncate_stats(self, after_step: int) -> None:
        """Drop stats logged after ``after_step`` (a resume replays those steps), and any damaged line."""
        records, _ = self.read_stats_checked()
        kept = [r for r in records if r["step"] <= after_step]
        try:
            atomic_write_text(self.stats_path, "".join(json.dumps(r) + "\n" for r in kept))
        except OSError as e:
            raise RunFileError(f"cannot rewrite stats.jsonl in {self.path} ({e.strerror or e})") from None

    def checkpoint_list(self) -> list[tuple[int, Path]]:
        return list_checkpoints(self.checkpoints)

    def latest_step(self) -> int:
        """The step of the newest step checkpoint (0 when there is none yet)."""
        cps = self.checkpoint_list()
        return cps[-1][0] if cps else 0

    def has_checkpoint(self) -> bool:
        """A generator to sample from: a step checkpoint or the best snapshot."""
        return bool(self.checkpoint_list()) or self.best_checkpoint.is_file()

    def checkpoint_candidates(self, best_first: bool = False) -> list[Path]:
        """The checkpoints to try, in order: the newest step checkpoint first, then the best snapshot
        (``best_first``: the best snapshot first)."""
        if os.path.lexists(self.checkpoints) and not self.checkpoints.is_dir():
            raise RunFileError(f"checkpoints in {self.path} is not a folder")
        return checkpoint_files.candidates(self.checkpoints, best_first)

    def best_info_checked(self) -> tuple[dict[str, Any] | None, str | None]:
        """(best.json, what is damaged in it): the best snapshot's step and figures, None when absent or damaged."""
        what = "checkpoints/best.json"
        try:
            info = read_json(self.best_record, what)
        except RunFileError as e:
            return None, f"{e} (ignored)"
        reason = None if info is None else check_record(info, BEST_FIELDS, ("step", "swd"))
        if reason is not None:
            return None, f"{what}: {reason} (ignored)"
        return info, None

    def best_info(self) -> dict[str, Any] | None:
        """best.json (the best snapshot's step and figures), or None when absent or damaged."""
        return self.best_info_checked()[0]

    def write_best_info(self, info: dict[str, Any]) -> None:
        try:
            atomic_write_text(self.best_record, json.dumps(info) + "\n")
        except OSError as e:
            raise RunFileError(f"cannot write checkpoints/best.json in {self.path} ({e.strerror or e})") from None

    # ---------------------------------------------------------------------------------------- favourites
    def read_favourites(self) -> list[int]:
        """The favourite seeds marked in the gallery, sorted (none if absent); a RunFileError when damaged."""
        data = read_json(self.favourites_path, "favourites.json")
        return [] if data is None else check_favourites(data)

    def favourites(self) -> list[int]:
        """The favourite seeds marked in the gallery, sorted; none if absent or damaged."""
        try:
            return self.read_favourites()
        except RunFileError:
            return []

    def save_favourites(self, seeds: Sequence[int]) -> None:
        data = {"version": FAVOURITES_VERSION, "seeds": sorted({int(s) for s in seeds})}
        atomic_write_text(self.favourites_path, json.dumps(data) + "\n")

    def remove_if_untrained(self) -> bool:
        """Delete this run folder when nothing was trained in it (no checkpoint, no statistics): what a run that
        failed before its first step leaves. Returns whether it was removed."""
        if self.has_checkpoint() or self.stats_path.exists():
            return False
        shutil.rmtree(self.path, ignore_errors=True)
        return True

    def remove_stale_temporaries(self) -> None:
        """Delete temporary files left by a process killed mid-write (call only while holding the lock)."""
        for folder in (self.path, self.samples, self.checkpoints):
            if folder.is_dir():
                for p in folder.glob(".*.tmp"):
                    p.unlink(missing_ok=True)

    def sample_grids(self) -> list[Path]:
        """The preview grids, oldest first (regular files only: a FIFO would block whoever reads it)."""
        try:
            found = list(self.samples.glob("step_*.png")) if self.samples.is_dir() else []
        except OSError:
            return []
        return sorted(p for p in found if p.is_file())

    @staticmethod
    def grid_step(path: Path) -> int:
        """The step of a sample grid's file name (step_00000100.png -> 100); -1 for another name."""
        try:
            return int(Path(path).stem.split("_")[-1])
        except ValueError:
            return -1


# ------------------------------------------------------------------------------------------ listing runs
def is_run_folder(path: Path) -> bool:
    """A folder with a config.json, or, lacking one, what only a run has (run.json, checkpoints/): a damaged run."""
    path = Path(path)
    return path.is_dir() and any(os.path.lexists(path / name) for name in (CONFIG_NAME, "run.json", "checkpoints"))


@dataclass
class RunSummary:
    """What a runs list shows of one run, read from its small files only (no checkpoint is loaded)."""

    run: RunDir
    config: RunConfig | None = None
    damage: str | None = None  # why the run cannot be used at all (None: it can)
    problems: list[str] = field(default_factory=list)  # damaged files it can do without, and what is ignored
    step: int = 0  # the newest checkpoint that looks whole (what a resume starts from)
    checkpoints: int = 0  # step checkpoints and best snapshot that look whole
    info: dict[str, Any] = field(default_factory=dict)
    last_stats: dict[str, Any] = field(default_factory=dict)
    lock: str | None = None  # None, "training", "training elsewhere" or "interrupted"
    created: str = ""

    @property
    def usable(self) -> bool:
        return self.damage is None


def summarize(run: RunDir) -> RunSummary:
    """A run's summary; never raises: damage becomes ``damage`` (the run is unusable) or ``problems``."""
    s = RunSummary(run)
    try:
        _summarize(s)
    except Exception as e:  # noqa: BLE001 - the last guard: one run's damage must never break a list of runs
        s.damage = s.damage or f"cannot be read ({type(e).__name__}: {e})"
    return s


def _summarize(s: RunSummary) -> None:
    run = s.run
    try:
        s.config = run.config()
    except GanStudioError as e:
        s.damage = str(e)
    s.info, problem = run.info_checked()
    s.problems += [problem] if problem else []
    s.last_stats, problems = run.last_stats()
    s.problems += problems
    s.lock, problem = lock_state(run.lock_path)
    s.problems += [problem] if problem else []
    _look_at_checkpoints(s)
    try:
        run.read_favourites()
    except RunFileError as e:
        s.problems.append(f"{e} (no favourites shown)")
    created = s.info.get("created")
    if not created:
        try:
            created = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.lstat(run.config_path).st_mtime))
        except OSError:
            created = ""
    s.created = str(created)


def _look_at_checkpoints(s: RunSummary) -> None:
    """The newest checkpoint that looks whole (26 bytes read of each, none loaded), and which ones do not."""
    run = s.run
    for folder in (run.samples, run.checkpoints):
        if os.path.lexists(folder) and not folder.is_dir():
            wrong = f"{folder.name} is not a folder (a file is in its place)"
            if folder == run.checkpoints:
                s.damage = s.damage or wrong
            else:
                s.problems.append(wrong)
    whole, broken = [], []
    for step, path in run.checkpoint_list():
        why = checkpoint_files.damage(path)
        if why == "missing":  # pruned by a training since the folder was listed
            continue
        if why:
            broken.append(f"checkpoints/{path.name} is {why}")
        else:
            whole.append(step)
    best, problem = run.best_info_checked()
    s.problems += [problem] if problem else []
    best_step = None  # the best snapshot's step, when it looks whole
    if os.path.lexists(run.best_checkpoint):
        why = checkpoint_files.damage(run.best_checkpoint)
        if why:
            broken.append(f"checkpoints/{BEST_NAME} is {why}")
        else:
            best_step = best["step"] if best else 0
    s.checkpoints = len(whole) + (best_step is not None)
    s.step = whole[-1] if whole else (best_step or 0)
    if broken and not s.checkpoints:
        s.damage = s.damage or f"no checkpoint is whole: {', '.join(broken)}"
    elif broken:
        s.problems.append(f"{', '.join(broken)}: a resume starts from step {s.step}")


def _age(run: RunDir) -> float:
    for path in (run.config_path, run.path):
        try:
            return os.lstat(path).st_mtime
        except OSError:
            continue
    return 0.0


def list_runs(root: Path | None = None) -> list[RunDir]:
    """Every run folder under ``root``, newest first (damaged ones too: ``summarize`` says what is wrong)."""
    root = Path(root) if root else default_runs_root()
    try:
        entries = [root / name for name in os.listdir(root)] if root.is_dir() else []
    except OSError as e:
        raise CheckpointError(f"cannot read the runs folder {root}: {e.strerror or e}") from None
    runs = [RunDir(p) for p in entries if is_run_folder(p)]
    return sorted(runs, key=_age, reverse=True)


def rename_run(path: Path, new_name: str) -> Path:
    """Give a run folder a new name beside the old one; refused while a process trains it. Returns the new path."""
    run = RunDir(Path(path))
    name = new_name.strip()
    if not name or name in (".", "..") or "/" in name or "\\" in name or name.startswith(".") or len(name) > 200:
        raise CheckpointError(f"{new_name!r} cannot name a folder: use letters, digits, spaces, - or _")
    target = run.path.with_name(name)
    if target == run.path:
        return target
    if os.path.lexists(target):
        raise CheckpointError(f"{target} already exists; choose another name")
    state, _ = lock_state(run.lock_path)
    if state in ("training", "training elsewhere"):
        raise CheckpointError(f"{run.name} is being trained ({state}); stop that training first")
    try:
        run.path.rename(target)
    except OSError as e:
        raise CheckpointError(f"could not rename {run.path} ({e.strerror or e})") from None
    return target


def delete_run(path: Path) -> None:
    """Delete a run folder (the app asks first); refused while a process trains it."""
    run = RunDir(Path(path))
    if not is_run_folder(run.path) or run.path.is_symlink():
        raise CheckpointError(f"{run.path} is not a run folder; nothing was deleted")
    state, _ = lock_state(run.lock_path)
    if state in ("training", "training elsewhere"):
        raise CheckpointError(f"{run.name} is being trained ({state}); stop that training first")
    try:
        shutil.rmtree(run.path)
    except OSError as e:
        raise CheckpointError(f"could not delete all of {run.path} ({e.strerror or e})") from None
