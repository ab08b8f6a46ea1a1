"""The main window: four tabs (Dataset, Train, Runs, Gallery), menus with shortcuts, drag and drop of a folder
anywhere on the window, recent folders, the status bar, the About box, and a careful close while training."""

from __future__ import annotations

import gc
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gan_studio import __version__
from gan_studio.errors import GanStudioError
from gan_studio.gui import tasks
from gan_studio.gui.about import about_html
from gan_studio.gui.dataset_panel import DatasetPanel
from gan_studio.gui.gallery import GalleryPanel
from gan_studio.gui.icon import app_icon
from gan_studio.gui.runs_panel import RunsPanel
from gan_studio.gui.settings import Settings
from gan_studio.gui.tasks import Task
from gan_studio.gui.training_panel import TrainingPanel
from gan_studio.gui.training_state import TrainingState
from gan_studio.gui.widgets import label

DATASET, TRAIN, RUNS, GALLERY = range(4)


def engine_info(progress=None) -> dict:
    """Import the engine (torch: the slow import) and describe the devices and model families."""
    import torch

    from gan_studio.engine.device import device_name, resolve_device

    auto = resolve_device("auto")
    devices = [("auto", f"Auto: {device_name(auto)}")]
    for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0):
        devices.append((f"cuda:{i}", f"GPU {i}: {torch.cuda.get_device_name(i)}"))
    if auto.type == "mps":
        devices.append(("mps", device_name(auto)))
    devices.append(("cpu", device_name(torch.device("cpu"))))
    return {"devices": devices, "gpu": auto.type != "cpu", "device_type": auto.type, "auto": device_name(auto)}


def folder_from_urls(urls: list[QUrl]) -> Path | None:
    """The data a drop means: a dropped folder, a dropped MNIST-style file, or the folder of dropped images."""
    from gan_studio.data.arrays import is_array_file

    for url in urls:
        if not url.isLocalFile():
            continue
        path = Path(url.toLocalFile())
        if path.is_dir() or (path.is_file() and is_array_file(path.name)):
            return path
        if path.exists():
            return path.parent
    return None


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.engine: dict | None = None
        self._close_when_stopped = False
        self.export_dialog = None
        self.setWindowTitle("GAN Studio")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setMinimumSize(720, 480)

        self.dataset = DatasetPanel()
        self.training = TrainingPanel()
        self.runs = RunsPanel()
        self.gallery = GalleryPanel(settings=self.settings)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.dataset, "Dataset")
        self.tabs.addTab(self.training, "Train")
        self.tabs.addTab(self.runs, "Runs")
        self.tabs.addTab(self.gallery, "Gallery")
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.tabs)
        self.setCentralWidget(central)
        self.overlay = QFrame(central)
        self.overlay.setProperty("role", "overlay")
        self.overlay.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        # Opaque, whatever the style: the empty state's text under a see-through overlay read as one jumble.
        self.overlay.setAutoFillBackground(True)
        palette = self.overlay.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(34, 62, 102))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(255, 255, 255))
        self.overlay.setPalette(palette)
        ol = QVBoxLayout(self.overlay)
        drop_text = label("Drop to open this folder", "heading")
        drop_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        ol.addWidget(drop_text)
        self.overlay.hide()

        self.device_label = QLabel("Loading the training engine…")
        self.statusBar().addPermanentWidget(self.device_label)

        self._build_actions()
        self._connect()
        self.dataset.set_recent(self.settings.recent_folders())
        form = self.settings.json("train/form")
        if isinstance(form, dict):
            self.training.restore_form(form)
        self._restore_state()
        self._update_actions()

    # ------------------------------------------------------------------------------------------ setup
    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.open_action = self._action("&Open Folder…", self.choose_folder, K.Open, "Open a folder of images")
        self.demo_action = self._action("Use the &Demo Landscapes", self.open_demo, "Ctrl+Shift+D",
                                        "300 procedural landscape paintings, made on this computer")
        self.export_action = self._action("&Export…", self.export, "Ctrl+E", "Export images from a run")
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q", "Quit GAN Studio")
        self.start_action = self._action("&Start Training", self.training.start, "Ctrl+Return",
                                         "Start (or continue) training")
        self.pause_action = self._action("&Pause / Resume", self.training.toggle_pause, "Ctrl+P",
                                         "Pause or resume training")
        self.stop_action = self._action("S&top", self.training.stop, "Ctrl+.", "Stop and save a checkpoint")
        self.refresh_action = self._action("&Refresh Runs", self.runs.refresh, "F5", "Look for new runs")
        self.new_seeds_action = self._action("&New Seeds", self.gallery.new_seeds, "Ctrl+R", "A new page of samples")
        self.about_action = self._action("&About GAN Studio", self.about, None, "Version and credits")
        bar = self.menuBar()
        m = bar.addMenu("&File")
        m.addAction(self.open_action)
        self.recent_menu = QMenu("Open &Recent", self)
        m.addMenu(self.recent_menu)
        m.addAction(self.demo_action)
        m.addSeparator()
        m.addAction(self.export_action)
        m.addSeparator()
        m.addAction(self.quit_action)
        m = bar.addMenu("&Training")
        for a in (self.start_action, self.pause_action, self.stop_action):
            m.addAction(a)
        m = bar.addMenu("&View")
        for i, name in enumerate(("&Dataset", "&Train", "&Runs", "&Gallery")):
            m.addAction(self._action(name, lambda _=False, i=i: self.tabs.setCurrentIndex(i), f"Ctrl+{i + 1}"))
        m.addSeparator()
        m.addAction(self.refresh_action)
        m.addAction(self.new_seeds_action)
        m = bar.addMenu("&Help")
        m.addAction(self.about_action)
        self._fill_recent_menu()

    def _connect(self) -> None:
        d, t, r, g = self.dataset, self.training, self.runs, self.gallery
        d.open_folder_requested.connect(self.choose_folder)
        d.demo_requested.connect(self.open_demo)
        d.recent_requested.connect(self.open_folder)
        d.loaded.connect(self._on_dataset)
        d.train_requested.connect(lambda: self.tabs.setCurrentIndex(TRAIN))
        t.state_changed.connect(self._on_training_state)
        t.run_ended.connect(self._on_run_ended)
        t.run_started.connect(lambda _: self.runs.refresh() if self.engine else None)
        r.resume_requested.connect(self.resume_run)
        r.browse_requested.connect(self.browse_run)
        r.run_deleted.connect(self._on_run_deleted)
        r.run_renamed.connect(self._on_run_renamed)
        g.export_requested.connect(self.export)
        for panel in (d, t, r, g):
            panel.status.connect(self.show_status)
        self.tabs.currentChanged.connect(lambda _: self._update_actions())

    def _restore_state(self) -> None:
        geometry = self.settings.load_bytes("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1180, 780)
        for key, splitter in self._splitters().items():
            state = self.settings.load_bytes(f"splitters/{key}")
            if state is not None:
                splitter.restoreState(state)

    def _splitters(self) -> dict:
        return {**self.training.splitters(), **self.dataset.splitters(), **self.gallery.splitters()}

    def save_state(self) -> None:
        self.settings.save_bytes("window/geometry", self.saveGeometry())
        for key, splitter in self._splitters().items():
            self.settings.save_bytes(f"splitters/{key}", splitter.saveState())
        self.settings.set_json("train/form", self.training.form_values())
        self.settings.sync()

    # ------------------------------------------------------------------------------- the engine
    def start_engine(self) -> Task:
        """Import torch and the engine in the background, after the window is on screen."""
        task = Task(engine_info)
        task.done.connect(self._on_engine)
        task.failed.connect(lambda m: self.device_label.setText(f"Training engine unavailable: {m}"))
        return task.start()

    @Slot(object)
    def _on_engine(self, info: dict) -> None:
        # torch and the engine bring ~350k long-lived Python objects; a full garbage collection walks them all
        # (~0.3 s on a slow CPU, holding the GIL, so the window freezes whichever thread triggers it). Move
        # them to the permanent generation: later collections only look at what the app allocates itself.
        gc.freeze()
        self.engine = info
        self.device_label.setText(info["auto"])
        self.device_label.setToolTip("The device that trains when Device is Auto")
        self.training.set_engine_ready(info["devices"], info["device_type"])
        self.runs.refresh()
        self._update_actions()

    @property
    def engine_ready(self) -> bool:
        return self.engine is not None

    # ----------------------------------------------------------------------------------- folders
    @Slot()
    def choose_folder(self) -> None:
        recent = self.settings.recent_folders()
        start = recent[0] if recent else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images", start)
        if folder:
            self.open_folder(folder)

    @Slot(str)
    def open_folder(self, folder: str | Path, source: str | None = None) -> None:
        folder = Path(folder).expanduser()
        self.tabs.setCurrentIndex(DATASET)
        if not folder.is_dir() and not folder.is_file():
            self.dataset.show_error(f"Folder not found: {folder}")
            return
        if source != "demo":
            self.dataset.set_recent(self.settings.add_recent_folder(str(folder.resolve())))
            self._fill_recent_menu()
        self.dataset.scan(folder, source)

    @Slot()
    def open_demo(self) -> None:
        self.tabs.setCurrentIndex(DATASET)
        self.dataset.paint_demo()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_folders()
        for f in recent:
            a = self.recent_menu.addAction(f)
            a.triggered.connect(lambda _=False, f=f: self.open_folder(f))
        if recent:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear Recent Folders")
            clear.triggered.connect(self._clear_recent)
        self.recent_menu.setEnabled(bool(recent))

    def confirm_clear_recent(self) -> bool:
        """Ask before forgetting the recent folders (tests replace this method)."""
        answer = QMessageBox.question(
            self, "Clear recent folders",
            "Forget the list of recently opened folders? The folders and their images are not touched.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _clear_recent(self) -> None:
        if not self.confirm_clear_recent():
            return
        self.settings.clear_recent_folders()
        self.dataset.set_recent([])
        self._fill_recent_menu()

    @Slot(object)
    def _on_dataset(self, summary) -> None:
        self.training.set_dataset(summary)
        self.setWindowTitle(f"GAN Studio — {summary.name}")
        self._update_actions()

    # ------------------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.source() is not None:  # a drag that started in this window (a sample dragged out): not data
            event.ignore()
            return
        if event.mimeData().hasUrls() and folder_from_urls(event.mimeData().urls()) is not None:
            event.acceptProposedAction()
            self.overlay.setGeometry(self.centralWidget().rect().adjusted(12, 12, -12, -12))
            self.overlay.raise_()
            self.overlay.show()
        else:
            self.show_status("Only a folder of images (or some of its files) on this computer can be dropped here")
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self.overlay.hide()

    def dropEvent(self, event) -> None:  # noqa: N802
        self.overlay.hide()
        folder = folder_from_urls(event.mimeData().urls()) if event.mimeData().hasUrls() else None
        if folder is None:
            self.show_status("Drop a folder of images (or some of its files)")
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_folder(folder)

    # ------------------------------------------------------------------------------- runs, export
    @Slot(str)
    def resume_run(self, path: str) -> None:
        if self.training.is_active():
            self.show_status("A training is running: stop it before continuing another run")
            return
        try:
            self.training.open_run(Path(path))
        except GanStudioError as e:  # a damaged run folder: say so, keep going
            self.show_status(f"Cannot continue this run: {e}")
            return
        self.setWindowTitle(f"GAN Studio — {Path(path).name}")
        self.tabs.setCurrentIndex(TRAIN)

    @Slot(str)
    def browse_run(self, path: str) -> None:
        try:
            self.gallery.open_run(Path(path), self._gallery_device())
        except GanStudioError as e:
            self.show_status(f"Cannot open this run: {e}")
            return
        self.setWindowTitle(f"GAN Studio — {Path(path).name}")
        self.tabs.setCurrentIndex(GALLERY)

    @Slot(str)
    def _on_run_deleted(self, path: str) -> None:
        if self.training.resume_dir == Path(path):  # the Train tab was set to continue the run just deleted
            self.training.new_run_mode()

    @Slot(str, str)
    def _on_run_renamed(self, old: str, new: str) -> None:
        """A renamed run stays open where it was open, under its new name."""
        if self.training.resume_dir == Path(old) and not self.training.is_active():
            self.training.open_run(Path(new))
        if self.gallery.current_run() == Path(old):
            self.gallery.open_run(Path(new), self._gallery_device())
        if self.windowTitle().endswith(Path(old).name):
            self.setWindowTitle(f"GAN Studio — {Path(new).name}")

    def _gallery_device(self) -> str:
        return "auto" if self.engine and self.engine.get("gpu") else "cpu"

    @Slot(str)
    def _on_run_ended(self, path: str) -> None:
        self.runs.refresh()
        self.runs.select(path)
        self.gallery.run_trained(Path(path), self._gallery_device())

    def export_run_dir(self) -> Path | None:
        if self.tabs.currentIndex() == RUNS and self.runs.selected() is not None:
            return self.runs.selected().path
        if self.gallery.current_run() is not None:
            return self.gallery.current_run()
        return self.training.current_run()

    @Slot()
    def export(self) -> None:
        from gan_studio.engine import RunDir
        from gan_studio.gui.export_dialog import ExportDialog

        run_dir = self.export_run_dir()
        if run_dir is None or not RunDir(run_dir).has_checkpoint():
            self.show_status("Nothing to export yet: train a run first (or choose one in the Runs tab)")
            return
        favourites = self.gallery.favourites_of(run_dir)
        native = self._native_size(run_dir)
        # the checkpoint picked in the gallery, when it shows this run
        shown = self.gallery.current_run() == run_dir
        checkpoint = self.gallery.chosen_checkpoint() if shown else None
        style = self.gallery.style_vector() if shown else None  # the style (or blend) the gallery shows
        self.export_dialog = ExportDialog(run_dir, favourites, native, self.settings, self._gallery_device(),
                                          checkpoint, self, style=style)
        self.export_dialog.exported.connect(
            lambda r: self.show_status(f"Exported {len(r.files):,} files to {r.out}"))
        self.export_dialog.show()

    @staticmethod
    def _native_size(run_dir: Path) -> int:
        from gan_studio.config import image_size
        from gan_studio.engine import RunDir

        try:
            cfg = RunDir.open(run_dir).config()
            return max(image_size(cfg.data.res, cfg.data.aspect))
        except Exception:  # noqa: BLE001
            return 64

    # ------------------------------------------------------------------------------------ status
    @Slot(str)
    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    @Slot(object)
    def _on_training_state(self, state: TrainingState) -> None:
        self._update_actions()
        if not state.active and self._close_when_stopped:
            QTimer.singleShot(0, self.close)

    def _update_actions(self) -> None:
        t = self.training
        self.start_action.setEnabled(t.can_start())
        self.pause_action.setEnabled(t.state.can_pause)
        self.stop_action.setEnabled(t.state.can_stop)
        self.export_action.setEnabled(self.engine_ready)
        self.new_seeds_action.setEnabled(self.tabs.currentIndex() == GALLERY)

    @Slot()
    def about(self) -> None:
        QMessageBox.about(self, "About GAN Studio", about_html(__version__))

    # ------------------------------------------------------------------------------------- closing
    def confirm_close_during_training(self) -> bool:
        """Ask whether to stop the training and close (tests replace this method)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Training is running",
                          "Stop the training and close GAN Studio?\n\nA checkpoint is saved first, so you can "
                          "continue this run later from the Runs tab.", parent=self)
        stop = box.addButton("Stop and Close", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep Training", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return box.clickedButton() is stop

    def confirm_close_during_export(self) -> bool:
        """Ask whether to cancel a running export and close (tests replace this method)."""
        answer = QMessageBox.question(
            self, "Export is running",
            "An export is still writing files. Cancel it and close GAN Studio?\n\nThe files it has written so far "
            "are removed; nothing that was there before is touched.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def export_running(self) -> bool:
        return self.export_dialog is not None and self.export_dialog.is_running()

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.export_running() and not self._close_when_stopped:
            if not self.confirm_close_during_export():
                event.ignore()
                return
            self.export_dialog.cancel_export()  # the job removes what it wrote; shutdown() waits for it
        if self.training.is_active():
            if not self._close_when_stopped:
                if not self.confirm_close_during_training():
                    event.ignore()
                    return
                self._close_when_stopped = True
                self.training.stop()
                self.show_status("Saving a checkpoint before closing…")
            event.ignore()  # closes for real when the worker has finished (see _on_training_state)
            return
        self.save_state()
        self.shutdown()
        event.accept()

    def shutdown(self, msecs: int = 120000) -> None:
        """Stop every background job and join its thread (closing, and the end of each GUI test)."""
        self.training.shutdown(msecs)
        tasks.cancel_all()
        tasks.wait_all(msecs)
        if self.export_dialog is not None:
            self.export_dialog.cancel_export()
