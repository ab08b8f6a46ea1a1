"""Checkpoint files without PyTorch: their names, listing, pruning, a cheap look at whether a file is whole, and
the order in which a run's checkpoints are tried. Listing runs imports this, never torch (torch takes seconds)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

_NAME = re.compile(r"^step_(\d{8})\.pt$")
BEST_NAME = "best.pt"
_ZIP_HEAD = b"PK\x03\x04"  # torch.save writes a zip archive: a local file header first ...
_ZIP_END = b"PK\x05\x06"  # ... and the end-of-central-directory record, 22 bytes, last (no archive comment)


def checkpoint_name(step: int) -> str:
    return f"step_{step:08d}.pt"


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(step, path) of every step checkpoint in ``folder``, oldest first (by name: a damaged file is listed too)."""
    try:
        names = os.listdir(folder) if Path(folder).is_dir() else []
    except OSError:  # an unreadable folder holds nothing we can use
        return []
    found = [(int(m.group(1)), Path(folder) / name) for name in names if (m := _NAME.match(name))]
    return sorted(found)


def prune_checkpoints(folder: Path, keep_last: int) -> list[Path]:
    """Delete all but the newest ``keep_last`` checkpoints; return what was removed."""
    removed = []
    for _, path in list_checkpoints(folder)[:-keep_last]:
        if path.is_file():  # never a folder someone put there under a checkpoint's name
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def damage(path: Path) -> str | None:
    """Why ``path`` is certainly not a whole checkpoint (missing, not a file, empty, cut short, not an archive);
    None when it looks whole. Reads 26 bytes, so a runs list can afford it; only loading it proves it good."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return "not a file"
        if st.st_size < len(_ZIP_HEAD) + 22:
            return "empty" if st.st_size == 0 else "cut short"
        with open(path, "rb") as f:
            head = f.read(len(_ZIP_HEAD))
            f.seek(-22, os.SEEK_END)
            tail = f.read(4)
    except FileNotFoundError:
        return "missing"
    except OSError as e:
        return f"unreadable ({e.strerror or e})"
    if head != _ZIP_HEAD:
        return "not a checkpoint archive"
    return None if tail == _ZIP_END else "cut short"


def candidates(folder: Path, best_first: bool = False) -> list[Path]:
    """The checkpoints of a run in the order to try them: step checkpoints newest first, then the best snapshot
    (``best_first``: the best snapshot first). Files that are certainly damaged are still tried, and reported."""
    steps = [path for _, path in reversed(list_checkpoints(folder))]
    best = Path(folder) / BEST_NAME
    found = [best] if os.path.lexists(best) else []
    return found + steps if best_first else steps + found
