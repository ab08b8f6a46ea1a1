"""The Train tab: the options form, Start / Pause / Resume / Stop, a progress bar with the ETA and images/s,
the live preview of the fixed-noise samples and the charts of the losses and of D's outputs."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QSplitter, QVBoxLayout, QWidget

from gan_studio.engine.events import FINISH_REASONS
from gan_studio.engine.trend import quality_trend
from gan_studio.errors import GanStudioError
from gan_studio.gui.charts import LineChart
from gan_studio.gui.imaging import ImageView
from gan_studio.gui.style import SERIES
from gan_studio.gui.training_form import TrainingForm
from gan_studio.gui.training_state import TrainingState
from gan_studio.gui.widgets import label, open_in_file_manager
from gan_studio.gui.worker import TrainingSession, TrainingWorker
from gan_studio.progress import format_duration

PROGRESS_SCALE = 1000
RATE_SMOOTHING = 0.2  # weight of each new statistics window in the images/s shown


class TrainingPanel(QWidget):
    status = Signal(str)  # a status-bar message
    state_changed = Signal(object)  # TrainingState
    run_started = Signal(str)  # run folder
    run_ended = Signal(str)  # run folder (finished, stopped or failed)
    preview_shown = Signal(int)  # step of the preview now on screen (tests wait for it)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset = None  # DataSummary
        self.resume_dir: Path | None = None
        self.session: TrainingSession | None = None
        self._state = TrainingState.IDLE
        self.engine_ready = False
        self.device_type = "cpu"  # what Device "auto" trains on: cpu, cuda or mps (set when the engine is loaded)
        self._best_swd = float("inf")
        self._quality_parts: dict[str, str] = {}
        self.run_dir: Path | None = None
        self.last_step = 0
        self.total_steps: int | None = None
        self._rate: float | None = None  # images/s, smoothed
        self._swds: list[float] = []  # every quality reading of the run on show, oldest first
        self._training_headline = "Training"  # the headline while training, given back after a pause

        # ------------------------------------------------------------------------------- left: the form
        self.form = TrainingForm()
        self.start_button = QPushButton("Start Training")
        self.start_button.setProperty("primary", True)
        self.start_button.setToolTip("Start training with these options (Ctrl+Return)")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause or resume training (Ctrl+P)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop training and save a checkpoint; the run can be continued later (Ctrl+.)")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button, 2)
        buttons.addWidget(self.pause_button, 1)
        buttons.addWidget(self.stop_button, 1)
        self.error = label("", "error")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left = QWidget()
        lc = QVBoxLayout(left)
        lc.setContentsMargins(8, 8, 4, 8)
        self.dataset_label = label("No images yet: load a folder in the Dataset tab.", "hint")
        self.dataset_label.setWordWrap(True)
        self.new_run_button = QPushButton("New Run Instead")
        self.new_run_button.setToolTip("Leave this run as it is and set up a new one on the loaded images")
        self.new_run_button.clicked.connect(self.new_run_mode)
        head = QHBoxLayout()
        head.addWidget(self.dataset_label, 1)
        head.addWidget(self.new_run_button)
        lc.addLayout(head)
        lc.addWidget(self.form, 1)
        lc.addWidget(self.error)
        lc.addLayout(buttons)
        left.setMinimumWidth(290)

        # ------------------------------------------------------------------------- right: the monitor
        self.headline = label("Ready", "subheading")
        self.run_link = label("", "hint")
        self.run_link.setTextFormat(Qt.TextFormat.RichText)
        self.run_link.linkActivated.connect(
            lambda _: self.run_dir is not None and open_in_file_manager(self.run_dir, self.status.emit))
        self.quality = label("", "hint")
        self.quality.setToolTip("The quality check: SWD compares the generator's samples with your images (lower is "
                                "better); copies are samples that reproduce a training image; the best snapshot is "
                                "the one the gallery and exports use by default.")
        self.notice = label("", "warning")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_SCALE)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.setTextVisible(True)
        self.preview = ImageView("Samples from the generator appear here while it learns: "
                                 "the same noise every time, so you can watch the pictures form.")
        self.preview.set_pixel_exact(True)  # small samples enlarged by whole factors stay crisp
        self.loss_chart = LineChart("Losses", [("D loss", SERIES["D loss"]), ("G loss", SERIES["G loss"])])
        self.d_chart = LineChart("Discriminator outputs", [("D(x)", SERIES["D(x)"]), ("D(G(z))", SERIES["D(G(z))"])],
                                 y_range=(0.0, 1.0), references=[(0.5, "equilibrium ½")])
        self.loss_chart.setToolTip("Discriminator and generator losses. They need not go down: in a healthy GAN "
                                   "they settle and wobble while the samples improve.")
        self.d_chart.setToolTip("D's average belief that real images (D(x)) and generated ones (D(G(z))) are real. "
                                "At the game's equilibrium both are ½ (Goodfellow et al., 2014).")
        charts = QWidget()
        ch = QHBoxLayout(charts)
        ch.setContentsMargins(0, 0, 0, 0)
        ch.addWidget(self.loss_chart)
        ch.addWidget(self.d_chart)
        self.monitor_split = QSplitter(Qt.Orientation.Vertical)
        self.monitor_split.addWidget(self.preview)
        self.monitor_split.addWidget(charts)
        self.monitor_split.setStretchFactor(0, 3)
        self.monitor_split.setStretchFactor(1, 2)
        self.monitor_split.setChildrenCollapsible(False)
        right = QWidget()
        rc = QVBoxLayout(right)
        rc.setContentsMargins(4, 8, 8, 8)
        top = QHBoxLayout()
        top.addWidget(self.headline, 1)
        top.addWidget(self.run_link)
        rc.addLayout(top)
        rc.addWidget(self.progress)
        rc.addWidget(self.quality)
        rc.addWidget(self.notice)
        rc.addWidget(self.monitor_split, 1)

        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(right)
        self.split.setStretchFactor(0, 0)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([410, 790])  # the form fits its longest choices ("Non-saturating (recommended)")
        self.split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.split)
        self._set_state(TrainingState.IDLE)

    # ------------------------------------------------------------------------------ what others ask
    @property
    def state(self) -> TrainingState:
        """What the panel is doing; changed only by the panel (see state_changed)."""
        return self._state

    def current_run(self) -> Path | None:
        """The run folder of the training running now or last (None before the first training)."""
        return self.run_dir

    def form_values(self) -> dict[str, Any]:
        """The form's values, to remember between sessions."""
        return self.form.values()

    def restore_form(self, values: dict[str, Any]) -> None:
        """Restore values saved by form_values() (unknown or missing keys are left alone)."""
        self.form.set_values(values)

    def splitters(self) -> dict[str, QSplitter]:
        """The panel's splitters by settings key, whose positions the window saves and restores."""
        return {"train": self.split, "monitor": self.monitor_split}

    # ------------------------------------------------------------------------------------ inputs
    def set_engine_ready(self, devices: list[tuple[str, str]], device_type: str = "cpu") -> None:
        self.engine_ready = True
        self.form.set_devices(devices)
        self.device_type = device_type
        self._set_state(self._state)

    def set_dataset(self, summary, apply_defaults: bool = True) -> None:
        self.dataset = summary
        if not self._state.active:
            self._leave_resume()
        if apply_defaults and summary.count and not self.is_active():  # the form shows the running config
            self.form.apply_defaults(summary, self.device_type)
        self._describe_source()
        self._set_state(self._state)

    def _describe_source(self) -> None:
        if self.resume_dir is not None:
            self.dataset_label.setText(f"Run <b>{self.resume_dir.name}</b>")
        elif self.dataset is not None and self.dataset.count:
            styles = self.dataset.styles  # a folder of style folders (the form's switch may train one model on all)
            self.dataset_label.setText(f"<b>{self.dataset.name}</b>: {self.dataset.count:,} images"
                                       + (f" in {len(styles.names)} styles" if styles else ""))
        else:
            self.dataset_label.setText("No images yet: load a folder in the Dataset tab.")

    def open_run(self, run_dir: Path) -> None:
        """Show a past run (its curves and newest samples) ready to continue training."""
        from gan_studio.engine import RunDir
        from gan_studio.engine.recovery import lost_since_checkpoint

        if self.is_active():
            return
        run = RunDir.open(run_dir)
        config = run.config()
        has_step_checkpoint = bool(run.checkpoint_list())  # continuing needs a step checkpoint, not best.pt
        step = run.latest_step()
        self.resume_dir = run.path
        self.run_dir = run.path
        self.form.set_resume(config, step, run.path.name)
        self._describe_source()
        lost = lost_since_checkpoint(run)
        self._load_history(run, up_to=lost.checkpoint_step if lost else None)
        if lost:  # what is shown is the state a Continue starts from; say what the unclean end cost
            self.notice.setText(
                f"⚠ This run did not end cleanly (the app or the computer stopped) after step {lost.last_step:,}. "
                f"Its last checkpoint is step {lost.checkpoint_step:,}: {lost.steps:,} steps "
                f"({format_duration(lost.seconds)} of training) after it were lost. Continue Training goes on "
                f"from step {lost.checkpoint_step:,}.")
            self.notice.setVisible(True)
        self._set_run_link(run.path)
        cannot = "" if has_step_checkpoint else " (no checkpoint yet: cannot continue)"
        self.headline.setText(f"Step {step:,}{cannot}")
        self.progress.setValue(0)
        self.progress.setFormat(f"Trained to step {step:,}")
        self._set_state(TrainingState.IDLE)

    def _leave_resume(self) -> None:
        if self.resume_dir is not None:
            self.resume_dir = None
            self.form.clear_resume()
            self._describe_source()

    @Slot()
    def new_run_mode(self) -> None:
        if not self.is_active():
            self._leave_resume()
            self.headline.setText("Ready")
            self.run_link.setText("")
            self.progress.setFormat("")
            self.progress.setValue(0)
            self._set_state(TrainingState.IDLE)

    def _load_history(self, run, up_to: int | None = None) -> None:
        """Charts, quality line and preview of a past run (``up_to``: only what a checkpoint of that step holds)."""
        stats = run.read_stats()
        if up_to is not None:
            stats = [r for r in stats if isinstance(r.get("step"), (int, float)) and r["step"] <= up_to]
        self.loss_chart.clear()
        self.d_chart.clear()
        if stats:
            steps = [r.get("step", 0) for r in stats]
            self.loss_chart.extend(steps, [[r.get("loss_d", float("nan")) for r in stats],
                                           [r.get("loss_g", float("nan")) for r in stats]])
            self.d_chart.extend(steps, [[r.get("d_real", float("nan")) for r in stats],
                                        [r.get("d_fake", float("nan")) for r in stats]])
        self._best_swd, self._quality_parts = float("inf"), {}
        self.quality.setText("")
        self.notice.setVisible(False)
        checked = [r for r in stats if r.get("swd") is not None]
        self._swds = [r["swd"] for r in checked]
        if checked:
            self._best_swd = min(self._swds)
            self._show_quality([SimpleNamespace(**checked[-1])], record=False)
        grids = [g for g in run.sample_grids() if up_to is None or run.grid_step(g) <= up_to]
        if grids:
            image = QImage(str(grids[-1]))
            step = run.grid_step(grids[-1])
            self.preview.set_image(image, f"Step {step:,} · the generator on its fixed noise")
        else:
            self.preview.set_image(None)

    # ---------------------------------------------------------------------------------- controls
    def is_active(self) -> bool:
        return self.session is not None

    def can_start(self) -> bool:
        if not self.engine_ready or self.is_active():
            return False
        return self.resume_dir is not None or (self.dataset is not None and self.dataset.count > 0)

    @Slot()
    def start(self) -> None:
        if not self.can_start():
            return
        self.error.setVisible(False)
        v = self.form.values()
        try:
            if self.resume_dir is not None:
                worker = TrainingWorker(resume=self.resume_dir,
                                        steps=None if v["by_minutes"] else v["steps"],
                                        minutes=v["minutes"] if v["by_minutes"] else None,
                                        device=v["device"])
            else:
                config = self.form.to_config(self.dataset, self.device_type)
                worker = TrainingWorker(config=config)
                self.loss_chart.clear()
                self.d_chart.clear()
                self.preview.set_image(None)
        except GanStudioError as e:
            self._show_error(str(e))
            return
        self.notice.setVisible(False)
        if self.resume_dir is None:
            self.quality.setText("")
            self._best_swd, self._quality_parts, self._swds = float("inf"), {}, []
        self.session = TrainingSession(worker, self)
        worker.loading.connect(self._on_loading)
        worker.started.connect(self._on_started)
        worker.stats.connect(self._on_stats)
        worker.preview.connect(self._on_preview)
        worker.checkpoint.connect(self._on_checkpoint)
        worker.notice.connect(self._on_notice)
        worker.paused_at.connect(self._on_paused_at)
        worker.info.connect(self._on_info)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self.session.ended.connect(self._on_ended)
        self.headline.setText("Loading the images…")
        self.progress.setRange(0, 0)
        self._set_state(TrainingState.LOADING)
        self.session.start()
        self.status.emit("Loading the images…")

    @Slot()
    def toggle_pause(self) -> None:
        if self.session is None or not self._state.can_pause:
            return
        paused = not self.session.worker.paused
        self.session.set_paused(paused)
        self._set_state(TrainingState.PAUSED if paused else TrainingState.TRAINING)
        if paused:  # the step in flight finishes first: _on_paused_at says where it stopped
            self.progress.setFormat("Pausing after this step…")
            self.headline.setText("Pausing…")
        else:
            self.headline.setText(self._training_headline)
            self.status.emit("Training resumed")

    @Slot(int)
    def _on_paused_at(self, step: int) -> None:
        self.last_step = step
        self.progress.setFormat(f"Paused at step {step:,}")
        self.headline.setText(f"Paused at step {step:,}")
        self.status.emit(f"Paused at step {step:,}")

    @Slot()
    def stop(self) -> None:
        if self.session is None or not self._state.can_stop:
            return
        self.session.stop()
        self._set_state(TrainingState.STOPPING)
        self.headline.setText("Stopping: a last quality check and a checkpoint…")
        self.status.emit("Stopping after this step and saving a checkpoint…")

    def shutdown(self, msecs: int = 120000) -> bool:
        """Stop and join the worker (closing the window, end of a test)."""
        if self.session is None:
            return True
        self.session.stop()
        ok = self.session.wait(msecs)
        return ok

    # ------------------------------------------------------------------------------ worker events
    @Slot(int, int)
    def _on_loading(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"Loading images: {done:,} of {total:,}")

    @Slot(object)
    def _on_started(self, e) -> None:
        self._rate = None
        self.run_dir = Path(e.run_dir)
        self.total_steps = e.total_steps
        self.last_step = e.step
        self.progress.setRange(0, PROGRESS_SCALE)
        self.progress.setValue(0)
        length = f"to step {e.total_steps:,}" if e.total_steps else f"for {e.minutes:g} min" if e.minutes else ""
        c, h, w = e.image_shape
        self._training_headline = f"Training on {e.n_images:,} images of {w}×{h} · {e.device}"
        self.headline.setText(self._training_headline)
        self.headline.setToolTip(f"{e.precision}, from step {e.step:,} {length}")
        self._set_run_link(self.run_dir)
        if self._state is TrainingState.LOADING:
            paused = self.session is not None and self.session.worker.paused
            self._set_state(TrainingState.PAUSED if paused else TrainingState.TRAINING)
        self.progress.setFormat(f"Step {e.step:,} · starting…")
        self.status.emit(f"Training started: {self.run_dir.name}")
        self.run_started.emit(str(self.run_dir))

    def _set_run_link(self, path: Path) -> None:
        url = QUrl.fromLocalFile(str(path)).toString()
        self.run_link.setText(f'<a href="{url}">Open run folder</a>')
        self.run_link.setToolTip(str(path))

    @Slot(list)
    def _on_stats(self, batch: list) -> None:
        steps = [s.step for s in batch]
        self.loss_chart.extend(steps, [[s.loss_d for s in batch], [s.loss_g for s in batch]])
        self.d_chart.extend(steps, [[s.d_real for s in batch], [s.d_fake for s in batch]])
        s = batch[-1]
        self.last_step = s.step
        if s.progress is not None:
            self.progress.setValue(int(s.progress * PROGRESS_SCALE))
        for stats in batch:  # an exponential average over ~10 windows: a steady figure, not one window's
            rate = stats.images_per_s
            self._rate = rate if self._rate is None else self._rate + RATE_SMOOTHING * (rate - self._rate)
        parts = [f"Step {s.step:,}" + (f" of {self.total_steps:,}" if self.total_steps else ""),
                 f"{self._rate:,.0f} images/s"]
        if s.eta_s is not None:
            parts.append(f"{format_duration(s.eta_s)} left")
        if not self._state.paused:
            self.progress.setFormat(" · ".join(parts))
        self._show_quality(batch)

    def _show_quality(self, batch: list, record: bool = True) -> None:
        """The newest quality check, its trend in words, and the augmentation strength, when the engine reports
        them (``record=False``: the readings are already in the history)."""
        measured = [s for s in batch if getattr(s, "swd", None) is not None]
        if measured:
            if record:
                self._swds.extend(s.swd for s in measured)
            q = measured[-1]
            self._best_swd = min(self._best_swd, q.swd)
            trend = quality_trend(self._swds)
            self._quality_parts["swd"] = (f"Quality at step {q.step:,}: SWD {q.swd:.3g}"
                                          + (f", {trend}" if trend else "") + f" (best {self._best_swd:.3g})")
            if getattr(q, "copy_share", None) is not None:
                self._quality_parts["copies"] = f"{q.copy_share:.0%} copies of training images"
        p = getattr(batch[-1], "augment_p", None)
        if p is not None:
            self._quality_parts["augment"] = f"augmentation {p:.0%}"
        self.quality.setText(" · ".join(self._quality_parts.values()))

    @Slot(int, QImage, str)
    def _on_preview(self, step: int, image: QImage, path: str) -> None:
        self.preview.set_image(image, f"Step {step:,} · the generator on its fixed noise")
        self.preview_shown.emit(step)

    @Slot(int, str)
    def _on_checkpoint(self, step: int, path: str) -> None:
        self.status.emit(f"Checkpoint saved at step {step:,}")

    @Slot(str)
    def _on_info(self, message: str) -> None:
        """News (how this machine trains): the status line and the headline's tooltip, not the warning line."""
        self.status.emit(message)
        self.headline.setToolTip(f"{self.headline.toolTip()}\n{message}".strip())

    @Slot(int, str)
    def _on_notice(self, step: int, message: str) -> None:
        self.notice.setText(f"⚠ Step {step:,}: {message}")
        self.notice.setVisible(True)
        self.status.emit(message)

    @Slot(object)
    def _on_finished(self, e) -> None:
        if e is None:
            self.headline.setText("Stopped before training began")
            self.progress.setRange(0, PROGRESS_SCALE)
            self.progress.setFormat("")
            return
        why = FINISH_REASONS.get(e.reason, e.reason)
        self.last_step = e.step
        if e.quality:  # the final check (best.json has it when it is the best): the quality line shows it too
            self._show_quality([SimpleNamespace(step=e.step, **e.quality)])
        if e.reason != "stopped":
            self.progress.setValue(PROGRESS_SCALE)
        self.progress.setFormat(f"Step {e.step:,} · {why} · {format_duration(e.seconds)} of training")
        self.headline.setText(f"Finished at step {e.step:,} ({why})")
        self.status.emit(f"Training {why} at step {e.step:,}; checkpoint saved in {Path(e.run_dir).name}")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.progress.setRange(0, PROGRESS_SCALE)
        self.progress.setValue(0)
        self.progress.setFormat("Stopped with an error (see below)")
        self._show_error(message)
        self.headline.setText("Training stopped with an error")

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(True)
        self.status.emit(message)

    @Slot()
    def _on_ended(self) -> None:
        session, self.session = self.session, None
        run_dir = session.worker.run_dir if session else None
        if session is not None:
            session.thread.wait()
            session.worker.deleteLater()
            session.deleteLater()
        if run_dir is not None:
            try:  # Start continues the run from its newest checkpoint unless a new run is asked for
                self.open_run_after_training(Path(run_dir))
            except GanStudioError:
                pass
        self._set_state(TrainingState.IDLE)
        if run_dir is not None:
            self.run_ended.emit(str(run_dir))

    def open_run_after_training(self, run_dir: Path) -> None:
        from gan_studio.engine import RunDir

        run = RunDir.open(run_dir)
        if run.checkpoint_list():
            self.resume_dir = run.path
            self.form.set_resume(run.config(), run.latest_step(), run.path.name)
            self._describe_source()

    # ---------------------------------------------------------------------------------------- state
    def _set_state(self, state: TrainingState) -> None:
        self._state = state
        self.start_button.setEnabled(self.can_start())
        self.start_button.setText("Continue Training" if self.resume_dir is not None else "Start Training")
        if not self.engine_ready:
            self.start_button.setToolTip("Loading the training engine…")
        elif self.resume_dir is not None:
            self.start_button.setToolTip("Continue training this run from its newest checkpoint (Ctrl+Return)")
        else:
            self.start_button.setToolTip("Start training with these options (Ctrl+Return)")
        self.pause_button.setEnabled(state.can_pause)
        self.pause_button.setText("Resume" if state.paused else "Pause")
        self.stop_button.setEnabled(state.can_stop)
        self.form.setEnabled(not state.active)
        self.new_run_button.setVisible(self.resume_dir is not None)
        self.new_run_button.setEnabled(not state.active and self.dataset is not None and self.dataset.count > 0)
        self.state_changed.emit(state)
