"""The Runs tab: every run folder under the runs root, newest first, with its latest samples, model, steps,
training time and date, and whether it finished, was stopped, or was interrupted (a crash leaves its lock).
A run reopens to continue training or to browse its gallery."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSize, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QColor, QDesktopServices, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gan_studio.gui.thumbnails import ThumbnailLoader, clipped
from gan_studio.gui.widgets import label
from gan_studio.progress import format_duration

THUMB = 64
COLUMNS = ["Run", "Model", "Steps", "Trained", "Created", "Status"]


@dataclass
class RunRow:
    path: Path
    name: str
    source: str
    model: str
    step: int
    target: int | None
    seconds: float
    created: str
    status: str  # finished | stopped | interrupted | training | no checkpoint
    thumbnail: str  # newest sample grid, or ''
    n_images: int

    @property
    def can_resume(self) -> bool:
        return self.step > 0 and self.status not in ("training", "training elsewhere")


def _last_stats(path: Path) -> dict:
    """The last complete record of a run's stats file, read from its end (runs can log for days)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 4096))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return {}
    for line in reversed(lines):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return {}


def _lock_status(lock: Path) -> str | None:
    if not lock.exists():
        return None
    try:
        owner = json.loads(lock.read_text())
        pid, host = int(owner.get("pid", -1)), owner.get("host")
    except (OSError, ValueError, TypeError):
        return "interrupted"
    if host != socket.gethostname():
        return "training elsewhere"
    if pid == os.getpid():
        return "training"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "interrupted"
    except OSError:
        pass
    return "training elsewhere"


def read_run(run) -> RunRow:
    """A row for one RunDir; never raises (a damaged run still gets a row that says so)."""
    config = None
    try:
        config = run.config()
        model = f"{config.model.name.upper()} {config.data.res} px"
        target = config.train.steps
        source = "Demo landscapes" if config.data.source == "demo" else Path(config.data.source).name
    except Exception:  # noqa: BLE001 - a damaged config: show the folder anyway
        model, target, source = "?", None, "?"
    info = run.info()
    cps = run.checkpoint_list()
    step = run.latest_step()
    last = _last_stats(run.stats_path)
    status = _lock_status(run.lock_path)
    if status is None:
        if not cps:
            status = "no checkpoint"
        elif target is not None and step >= target:
            status = "finished"
        else:
            status = "stopped"
    grids = run.sample_grids()
    created = str(info.get("created")
                  or time.strftime("%Y-%m-%d %H:%M", time.localtime(run.config_path.stat().st_mtime)))
    thumbnail = _thumbnail(grids[-1], config, info) if grids else ""
    return RunRow(run.path, run.path.name, source, model, step, target, float(last.get("seconds", 0.0)),
                  created[:16], status, thumbnail, int(info.get("n_images", 0) or 0))


def _thumbnail(grid: Path, config, info: dict) -> str:
    """The top-left 2 x 2 samples of the newest preview grid (the whole 8 x 8 grid is noise at 64 px)."""
    shape = info.get("image_shape")
    if config is None or not shape or config.train.preview_n < 4:
        return str(grid)
    _, h, w = shape
    pad = 2  # the trainer's make_grid padding
    return clipped(str(grid), pad, pad, 2 * w + pad, 2 * h + pad)


class RunsModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[RunRow] = []
        self.loader = ThumbnailLoader(THUMB, workers=1, parent=self)
        self.loader.ready.connect(self._on_thumb)
        self._blank = QPixmap(QSize(THUMB, THUMB))
        self._blank.fill(QColor("#2c2e33"))

    def set_rows(self, rows: list[RunRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.loader.clear()
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r, c = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return [f"{r.name}\n{r.source}" + (f" · {r.n_images:,} images" if r.n_images else ""), r.model,
                    f"{r.step:,}" + (f" / {r.target:,}" if r.target else ""),
                    format_duration(r.seconds) if r.seconds else "–", r.created, r.status][c]
        if role == Qt.ItemDataRole.DecorationRole and c == 0:
            if not r.thumbnail:
                return self._blank
            pm = self.loader.pixmap(r.thumbnail)
            if pm is None:
                self.loader.request(r.thumbnail)
                return self._blank
            return pm
        if role == Qt.ItemDataRole.ToolTipRole:
            return str(r.path)
        if role == Qt.ItemDataRole.ForegroundRole and c == 5 and r.status in ("interrupted", "training"):
            return QColor("#ffb74d") if r.status == "interrupted" else QColor("#81c784")
        if role == Qt.ItemDataRole.TextAlignmentRole and c in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @Slot(str)
    def _on_thumb(self, path: str) -> None:
        for i, r in enumerate(self.rows):
            if r.thumbnail == path:
                idx = self.index(i, 0)
                self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])


class RunsPanel(QWidget):
    resume_requested = Signal(str)
    browse_requested = Signal(str)
    status = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root: Path | None = None
        self.model = RunsModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setIconSize(QSize(THUMB, THUMB))
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(THUMB + 10)
        self.view.setShowGrid(False)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.view.doubleClicked.connect(lambda _: self.browse())
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)

        self.resume_button = QPushButton("Continue Training")
        self.resume_button.setToolTip("Reopen this run in the Train tab to train it further")
        self.resume_button.clicked.connect(self.resume)
        self.browse_button = QPushButton("Browse Gallery")
        self.browse_button.setProperty("primary", True)
        self.browse_button.setToolTip("Generate and browse samples of this run (double-click a run)")
        self.browse_button.clicked.connect(self.browse)
        self.folder_button = QPushButton("Show Folder")
        self.folder_button.setToolTip("Open the run folder: config.json, stats.jsonl, samples/, checkpoints/")
        self.folder_button.clicked.connect(self.show_folder)
        refresh = QPushButton("Refresh")
        refresh.setToolTip("Look for new runs (F5)")
        refresh.clicked.connect(self.refresh)
        self.root_label = label("", "hint")
        self.root_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        top = QHBoxLayout()
        top.addWidget(label("Runs", "heading"))
        top.addWidget(self.root_label, 1, Qt.AlignmentFlag.AlignBottom)
        top.addWidget(refresh)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.folder_button)
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.browse_button)

        self.empty = label("No runs yet. Train on a folder and every run appears here, to continue or browse later.",
                           "hint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.view)
        col = QVBoxLayout(self)
        col.setContentsMargins(12, 12, 12, 8)
        col.addLayout(top)
        col.addWidget(self.stack, 1)
        col.addLayout(buttons)
        self._update_buttons()

    @Slot()
    def refresh(self) -> None:
        from gan_studio.engine import default_runs_root, list_runs

        self.root = default_runs_root()
        self.root_label.setText(f"in {self.root}")
        selected = self.selected()
        rows = [read_run(r) for r in list_runs(self.root)]
        self.model.set_rows(rows)
        self.stack.setCurrentIndex(1 if rows else 0)
        if selected is not None:
            self.select(selected.path)
        self._update_buttons()

    def select(self, path: str | Path) -> bool:
        for i, r in enumerate(self.model.rows):
            if r.path == Path(path):
                self.view.selectRow(i)
                return True
        return False

    def selected(self) -> RunRow | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    @Slot()
    def _update_buttons(self, *_) -> None:
        r = self.selected()
        self.resume_button.setEnabled(r is not None and r.can_resume)
        self.browse_button.setEnabled(r is not None and r.step > 0)
        self.folder_button.setEnabled(r is not None)

    @Slot()
    def resume(self) -> None:
        r = self.selected()
        if r is not None and r.can_resume:
            self.resume_requested.emit(str(r.path))

    @Slot()
    def browse(self) -> None:
        r = self.selected()
        if r is not None and r.step > 0:
            self.browse_requested.emit(str(r.path))
        elif r is not None:
            self.status.emit("This run has no checkpoint yet: nothing to browse")

    @Slot()
    def show_folder(self) -> None:
        r = self.selected()
        if r is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(r.path)))
