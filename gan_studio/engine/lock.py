"""One training process per run folder: a lock file holding the owner's host and pid.

A lock left by a process that died (a crash, SIGKILL, a power cut) is stale and taken over; one held by a
live process is refused with a clear message.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from gan_studio.errors import CheckpointError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return True


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
                owner = self._owner()
                if owner and owner.get("host") == me["host"] and owner.get("pid") != me["pid"] \
                        and _alive(int(owner.get("pid", -1))):
                    raise CheckpointError(
                        f"this run is already being trained by process {owner['pid']}; stop it first") from None
                if owner and owner.get("host") != me["host"]:
                    raise CheckpointError(f"this run is locked by {owner.get('host')} (pid {owner.get('pid')}); "
                                          f"if that machine no longer trains it, delete {self.path}") from None
                self.path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            except OSError as e:
                raise CheckpointError(f"cannot lock the run folder: {e.strerror or e}") from None
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            return
        raise CheckpointError(f"could not take the lock {self.path}")

    def _owner(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None  # unreadable or half-written by a crash: treat as stale

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False
