"""The training worker: a QObject on its own QThread that builds the Trainer (loading the data set, the slow
part the first time) and iterates ``trainer.run()``, turning the engine's events into Qt signals.

Signals are throttled so the GUI thread has little to do however fast the steps are: statistics are batched
and sent at most every ``stats_interval`` seconds, previews at most every ``preview_interval`` seconds (the
newest one wins; the last one is always delivered). Previews cross the thread as QImage, never QPixmap.
Pause and stop go straight to the trainer's thread-safe flags: the worker's own thread is busy training and
does not run an event loop until it is done.

    session = TrainingSession(TrainingWorker(config=cfg))
    session.worker.preview.connect(panel.on_preview)     # receivers live on the GUI thread: queued connections
    session.start(); ... session.set_paused(True); ... session.stop(); session.wait()
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QImage

from gan_studio.errors import GanStudioError
from gan_studio.gui.imaging import qimage_from_array

# A live preview costs a generator pass (plus batch-norm recalibration); on a CPU that can be several training
# steps, so live previews are spaced to take at most about 1/PREVIEW_BUDGET of the training time.
PREVIEW_BUDGET = 8


class _Stopped(Exception):
    pass


class TrainingWorker(QObject):
    loading = Signal(int, int)  # images decoded, total (building the trainer)
    started = Signal(object)  # engine.Started
    stats = Signal(list)  # [engine.StepStats], oldest first
    preview = Signal(int, QImage, str)  # step, grid, path of the saved PNG ('' for a live-only preview)
    checkpoint = Signal(int, str)  # step, path
    notice = Signal(int, str)  # step, something the user should know that does not stop training
    info = Signal(str)  # news that is not a warning (how this machine trains), for the status line
    paused_at = Signal(int)  # the step training is paused at (after a pause request, between two steps)
    finished = Signal(object)  # engine.Finished, or None when stopped before training began
    failed = Signal(str)  # a message for the user
    done = Signal()  # always, last

    def __init__(self, config: Any = None, resume: Path | None = None, steps: int | None = None,
                 minutes: float | None = None, device: str | None = None, runs_root: Path | None = None,
                 stats_interval: float = 0.1, preview_interval: float = 3.0) -> None:
        super().__init__()
        if (config is None) == (resume is None):
            raise ValueError("give a config for a new run, or a run folder to resume")
        self.config, self.resume_dir = config, resume
        self.steps, self.minutes, self.device = steps, minutes, device
        self.runs_root = runs_root
        self.stats_interval, self.preview_interval = stats_interval, preview_interval
        self.trainer = None
        self.run_dir: Path | None = Path(resume) if resume else None
        self._stop = threading.Event()
        self._paused = False
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------ control, from any thread
    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            if self.trainer is not None:
                self.trainer.request_stop()

    def set_paused(self, paused: bool) -> None:
        with self._lock:
            self._paused = paused
            if self.trainer is not None:
                self.trainer.set_paused(paused)

    @property
    def paused(self) -> bool:
        return self._paused

    # --------------------------------------------------------------------------- on the worker thread
    def _loading_progress(self, done: int, total: int) -> None:
        if self._stop.is_set():
            raise _Stopped()
        self.loading.emit(done, total)

    def _build(self):
        from gan_studio.engine import Trainer

        if self.resume_dir is not None:
            return Trainer.resume(self.resume_dir, steps=self.steps, minutes=self.minutes, device=self.device,
                                  progress=self._loading_progress)
        return Trainer.new(self.config, root=self.runs_root, progress=self._loading_progress)

    @Slot()
    def run(self) -> None:
        try:
            try:
                trainer = self._build()
            except _Stopped:
                self.finished.emit(None)
                return
            except GanStudioError as e:
                self.failed.emit(str(e))
                return
            with self._lock:
                self.trainer = trainer
                self.run_dir = trainer.run_dir.path
                trainer.set_paused(self._paused)
                if self._stop.is_set():
                    trainer.request_stop()
            trainer.preview_seconds = self.preview_interval
            self._drive(trainer)
        except Exception as e:  # noqa: BLE001 - never let a bug kill the thread silently
            traceback.print_exc(file=sys.stderr)
            self.failed.emit(f"unexpected error: {type(e).__name__}: {e}")
        finally:
            self.done.emit()

    def _drive(self, trainer) -> None:
        from gan_studio.engine import CheckpointSaved, Failed, Finished, Notice, Paused, Preview, Started, StepStats

        pending_stats: list = []
        pending_preview = None
        last_stats = last_preview = 0.0
        events = trainer.run()
        while True:
            t0 = time.monotonic()
            try:
                event = next(events)
            except StopIteration:
                break
            now = time.monotonic()
            if isinstance(event, StepStats):
                pending_stats.append(event)
            elif isinstance(event, Preview):
                pending_preview = event
                if event.path is None and event.step > 0:  # a live preview: keep them cheap relative to training
                    trainer.preview_seconds = max(self.preview_interval, PREVIEW_BUDGET * (now - t0))
            final = isinstance(event, (Finished, Failed, Paused))  # what the user sees then is up to date
            if pending_stats and (final or now - last_stats >= self.stats_interval):
                self.stats.emit(pending_stats)
                pending_stats, last_stats = [], now
            if pending_preview is not None and (final or now - last_preview >= self.preview_interval
                                                or last_preview == 0.0):
                p = pending_preview
                self.preview.emit(p.step, qimage_from_array(p.image), str(p.path or ""))
                pending_preview, last_preview = None, now
            if isinstance(event, Started):
                self.started.emit(event)
            elif isinstance(event, CheckpointSaved):
                self.checkpoint.emit(event.step, str(event.path))
            elif isinstance(event, Notice) and event.info:
                self.info.emit(event.message)
            elif isinstance(event, Notice):
                self.notice.emit(event.step, event.message)
            elif isinstance(event, Paused):
                self.paused_at.emit(event.step)
            elif isinstance(event, Finished):
                self.finished.emit(event)
            elif isinstance(event, Failed):
                self.failed.emit(event.message)
        if pending_stats:
            self.stats.emit(pending_stats)


class TrainingSession(QObject):
    """Owns the QThread of one training worker: start, pause, stop, and join."""

    ended = Signal()  # the thread has finished (after the worker's last signal)

    def __init__(self, worker: TrainingWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("gan-studio-training")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        # Direct: quit() is thread-safe, and a queued call would wait for the GUI thread's event loop, which
        # is not running while the GUI thread waits for this thread at shutdown.
        worker.done.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(self._on_finished)
        self._ended = False

    def start(self) -> None:
        self.thread.start(QThread.Priority.LowPriority)

    def stop(self) -> None:
        self.worker.stop()

    def set_paused(self, paused: bool) -> None:
        self.worker.set_paused(paused)

    def is_running(self) -> bool:
        return self.thread.isRunning() and not self._ended

    def wait(self, msecs: int = 60000) -> bool:
        """Block until the thread has finished (stop() first); used at shutdown and by tests.

        QThread.wait() keeps the GIL in PySide6, so the worker could never finish its Python code while we
        wait in it: poll with time.sleep (which releases the GIL), then join what is left of the thread."""
        deadline = time.monotonic() + msecs / 1000
        while self.thread.isRunning() and not self.thread.isFinished():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return self.thread.wait(max(0, int((deadline - time.monotonic()) * 1000)))

    @Slot()
    def _on_finished(self) -> None:
        self._ended = True
        self.ended.emit()
