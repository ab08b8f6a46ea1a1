"""One training process per run folder: a lock file holding the owner's host and pid.

A lock left by a process that died (a crash, SIGKILL, a power cut) is stale and taken over; one held by a
live process is refused with a clear message. A lock file that is damaged (cut short, noise, wrong types) is
stale too; one that is not a file at all (a folder put there) is never removed for the user.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from gan_studio.engine.runfiles import LOCK_FIELDS, RunFileError, check_record, read_json
from gan_studio.errors import CheckpointError

LOCK_NAME = "train.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except (OSError, OverflowError):
        return False
    return True


def read_owner(path: Path) -> dict[str, Any] | None:
    """The lock's {"pid", "host"}; None when it is absent or damaged (a crash mid-write: stale). A lock that is not
    a regular file raises RunFileError (reading a FIFO would block; a folder cannot be taken over)."""
    try:
        owner = read_json(path, LOCK_NAME)
    except RunFileError:
        if os.path.lexists(path) and not os.path.isfile(path):
            raise
        return None
    if owner is None or check_record(owner, LOCK_FIELDS, ("pid", "host")) is not None:
        return None
    return owner


def lock_state(path: Path) -> tuple[str | None, str | None]:
    """(state, problem): state is None (no lock), "training" (this process), "training elsewhere" (a live process,
    or another machine) or "interrupted" (a stale lock: its process is gone); problem says what is damaged."""
    if not os.path.lexists(path):
        return None, None
    try:
        owner = read_owner(path)
    except RunFileError as e:
        return "interrupted", f"{e}: remove it to train this run again"
    if owner is None:
        return "interrupted", None
    if owner["host"] != socket.gethostname():
        return "training elsewhere", None
    if owner["pid"] == os.getpid():
        return "training", None
    return ("training elsewhere" if _alive(owner["pid"]) else "interrupted"), None


class RunLock:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.held = False

    def acquire(self) -> None:
        me = {"pid": os.getpid(), "host": socket.gethostname()}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    owner = read_owner(self.path)
                except RunFileError as e:
                    raise CheckpointError(f"{e}: remove {self.path} to train this run") from None
                if owner and owner["host"] == me["host"] and owner["pid"] != me["pid"] and _alive(owner["pid"]):
                    raise CheckpointError(
                        f"this run is already being trained by process {owner['pid']}; stop it first") from None
                if owner and owner["host"] != me["host"]:
                    raise CheckpointError(f"this run is locked by {owner['host']} (pid {owner['pid']}); "
                                          f"if that machine no longer trains it, delete {self.path}") from None
                try:
                    self.path.unlink(missing_ok=True)  # stale: its process is gone
                except OSError as e:
                    raise CheckpointError(f"cannot remove the stale lock {self.path}: {e.strerror or e}") from None
                continue
            except OSError as e:
                raise CheckpointError(f"cannot lock the run folder: {e.strerror or e}") from None
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            return
        raise CheckpointError(f"could not take the lock {self.path}")

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

