"""Short background jobs (scan a folder, load a generator, draw a page of samples, export) with progress.

    task = Task(lambda progress: scan_folder(folder, progress))
    task.progress.connect(bar.set_progress); task.done.connect(self.on_scanned); task.failed.connect(self.on_error)
    task.start()          # runs on a QThreadPool thread; the signals arrive on the GUI thread
    task.cancel()         # the next progress() call raises Cancelled inside the job

A Task is a QObject of the GUI thread; the pool thread only emits its private signals, which Qt queues to the
Task's slots, so every public signal (and whatever it is connected to) runs on the GUI thread. Progress is
throttled to about 20 updates a second.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from gan_studio.errors import GanStudioError

ProgressFn = Callable[[int, int], None]

_POOLS: dict[str, QThreadPool] = {}
_POOL_THREADS = {"work": 2, "thumbs": 2, "gallery": 1}
_LIVE: set["Task"] = set()  # tasks are kept alive here until they finish


class Cancelled(Exception):
    """Raised inside a job by its progress callback once the task was cancelled."""


def pool(name: str = "work") -> QThreadPool:
    """A named pool: 'work' (scans, exports), 'thumbs' (thumbnail decoding), 'gallery' (one generator at a time)."""
    if name not in _POOLS:
        p = QThreadPool()
        p.setMaxThreadCount(_POOL_THREADS.get(name, 1))
        p.setExpiryTimeout(5000)
        _POOLS[name] = p
    return _POOLS[name]


def cancel_all() -> None:
    for task in list(_LIVE):
        task.cancel()


def wait_all(msecs: int = 30000) -> bool:
    """Wait for every pool to be idle (at shutdown, and at the end of each GUI test)."""
    deadline = time.monotonic() + msecs / 1000
    for p in list(_POOLS.values()):
        # QThreadPool.waitForDone() keeps the GIL in PySide6, so a job still running Python would stall until
        # the timeout: poll with time.sleep (which releases the GIL) while jobs are active.
        while p.activeThreadCount() > 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        if not p.waitForDone(max(0, int((deadline - time.monotonic()) * 1000))):
            return False
    return True


def busy() -> bool:
    return bool(_LIVE)


class _Runner(QRunnable):
    def __init__(self, task: "Task") -> None:
        super().__init__()
        self.task = task
        self.setAutoDelete(True)

    def run(self) -> None:
        self.task._execute()


class Task(QObject):
    progress = Signal(int, int)  # done, total (throttled)
    done = Signal(object)  # the job's return value
    failed = Signal(str)  # a message for the user
    cancelled = Signal()
    finished = Signal()  # always, last

    _progress_from_job = Signal(int, int)
    _result_from_job = Signal(str, object)  # kind ('done' | 'failed' | 'cancelled'), payload

    def __init__(self, job: Callable[[ProgressFn], Any], pool_name: str = "work",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.pool_name = pool_name
        self._cancel = threading.Event()
        self._last_emit = 0.0
        self.running = False
        self._progress_from_job.connect(self._relay_progress)
        self._result_from_job.connect(self._relay_result)

    def start(self) -> "Task":
        self.running = True
        _LIVE.add(self)
        pool(self.pool_name).start(_Runner(self))
        return self

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    # ------------------------------------------------------------------------------- on the pool thread
    def report(self, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise Cancelled()
        now = time.monotonic()
        if done >= total or now - self._last_emit >= 0.05:
            self._last_emit = now
            self._progress_from_job.emit(int(done), int(total))

    def _execute(self) -> None:
        try:
            if self._cancel.is_set():
                raise Cancelled()
            result = self.job(self.report)
        except Cancelled:
            self._result_from_job.emit("cancelled", None)
        except GanStudioError as e:
            self._result_from_job.emit("failed", str(e))
        except MemoryError:
            self._result_from_job.emit("failed", "not enough memory for this job")
        except Exception as e:  # noqa: BLE001 - a bug must reach the user as a message, not kill a thread
            traceback.print_exc(file=sys.stderr)
            self._result_from_job.emit("failed", f"unexpected error: {type(e).__name__}: {e}")
        else:
            if self._cancel.is_set():
                self._result_from_job.emit("cancelled", None)
            else:
                self._result_from_job.emit("done", result)

    # -------------------------------------------------------------------------------- on the GUI thread
    @Slot(int, int)
    def _relay_progress(self, done: int, total: int) -> None:
        if not self._cancel.is_set():
            self.progress.emit(done, total)

    @Slot(str, object)
    def _relay_result(self, kind: str, payload: Any) -> None:
        self.running = False
        try:
            if kind == "done":
                self.done.emit(payload)
            elif kind == "failed":
                self.failed.emit(payload)
            else:
                self.cancelled.emit()
        finally:
            self.finished.emit()
            _LIVE.discard(self)
