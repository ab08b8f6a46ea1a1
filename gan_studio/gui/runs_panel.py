"""The Runs tab: every run folder under the runs root, newest first, with its latest samples, model, steps,
training time and date, and whether it finished, was stopped, or was interrupted (a crash leaves its lock).
A run reopens to continue training or to browse its gallery. Every column sorts; the context menu (and the
buttons) continue, browse, show, rename or delete a run (to the system trash where there is one, else after a
confirmation), and clean up the runs that never wrote a checkpoint; the notes field is kept in the run folder.

Rows are read from each run's small files only (``rundir.summarize``: no checkpoint is loaded, no torch). A run
whose files are damaged gets a row that says so: greyed with the reason when it cannot be used (then it can be
shown in the file manager or deleted, after a confirmation), with a note when it can do without the damaged file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QFile, QModelIndex, QPoint, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gan_studio.errors import GanStudioError
from gan_studio.gui.thumbnails import ThumbnailLoader, clipped
from gan_studio.gui.widgets import label, open_in_file_manager
from gan_studio.progress import format_duration

THUMB = 64
COLUMNS = ["Run", "Model", "Steps", "Trained", "Best SWD", "Created", "Status"]
STATUS = len(COLUMNS) - 1
DAMAGED = "damaged"
GREY = "#7a7d85"


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
    status: str  # finished | stopped | interrupted | training | training elsewhere | no checkpoint | damaged
    thumbnail: str  # newest sample grid, or ''
    n_images: int
    damage: str = ""  # why the run cannot be used ('' when it can)
    problems: list[str] = field(default_factory=list)  # damaged files it does without
    best_swd: float | None = None  # the best snapshot's quality (lower is better), when it has one
    lost_steps: int = 0  # steps logged after the newest checkpoint: an unclean end lost them
    notes: str = ""

    def sort_key(self, column: int):
        """What a column sorts by: numbers as numbers, a missing figure last."""
        missing = float("inf")
        return [self.name.lower(), self.model, self.step, self.seconds,
                missing if self.best_swd is None else self.best_swd, self.created, self.status][column]

    @property
    def can_resume(self) -> bool:
        return not self.damage and self.step > 0 and self.status not in ("training", "training elsewhere")

    @property
    def can_delete(self) -> bool:
        return not self.status.startswith("training")


def read_run(run) -> RunRow:
    """A row for one RunDir; never raises (a damaged run still gets a row that says so)."""
    from gan_studio.engine.rundir import summarize

    s = summarize(run)
    config = s.config
    if config is not None:
        model = f"{config.model.name.upper()} {config.data.res} px"
        target = config.train.steps
        source = "Demo landscapes" if config.data.source == "demo" else Path(config.data.source).name
    else:
        model, target, source = "?", None, "?"
    status = s.lock
    if s.damage:
        status = status if status in ("training", "training elsewhere") else DAMAGED
    elif status is None:
        if not s.checkpoints:
            status = "no checkpoint"
        elif target is not None and s.step >= target:
            status = "finished"
        else:
            status = "stopped"
    seconds, lost = float(s.last_stats.get("seconds", 0.0)), 0
    logged = s.last_stats.get("step")
    if not s.damage and s.checkpoints and isinstance(logged, int) and logged > s.step:
        # an unclean end: what the row shows agrees with the checkpoint a Continue starts from
        from gan_studio.engine.recovery import lost_since_checkpoint

        loss = lost_since_checkpoint(run)
        if loss is not None:
            lost, seconds = loss.steps, max(0.0, seconds - loss.seconds)
    grids = [g for g in run.sample_grids() if not lost or run.grid_step(g) <= s.step]
    thumbnail = _thumbnail(grids[-1], config, s.info) if grids else ""
    best = run.best_info() if not s.damage else None
    return RunRow(run.path, run.path.name, source, model, s.step, target, seconds, s.created[:16], status, thumbnail,
                  int(s.info.get("n_images", 0) or 0), s.damage or "", list(s.problems),
                  float(best["swd"]) if best else None, lost, run.notes())


def _thumbnail(grid: Path, config, info: dict) -> str:
    """The top-left 2 x 2 samples of the newest preview grid (the whole 8 x 8 grid is noise at 64 px)."""
    shape = info.get("image_shape")
    if config is None or not shape or config.train.preview_n < 4:
        return str(grid)
    _, h, w = shape
    pad = 2  # the trainer's make_grid padding
    return clipped(str(grid), pad, pad, 2 * w + pad, 2 * h + pad)


def _second_line(r: RunRow) -> str:
    if r.damage:
        reason = r.damage if len(r.damage) <= 90 else r.damage[:89] + "…"
        return f"damaged: {reason}"
    return r.source + (f" · {r.n_images:,} images" if r.n_images else "")


class RunsModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[RunRow] = []
        self.sort_column, self.sort_order = COLUMNS.index("Created"), Qt.SortOrder.DescendingOrder  # newest first
        self.loader = ThumbnailLoader(THUMB, workers=1, parent=self)
        self.loader.ready.connect(self._on_thumb)
        self._blank = QPixmap(QSize(THUMB, THUMB))
        self._blank.fill(QColor("#2c2e33"))

    def set_rows(self, rows: list[RunRow]) -> None:
        self.beginResetModel()
        self.rows = sorted(rows, key=lambda r: r.sort_key(self.sort_column),
                           reverse=self.sort_order == Qt.SortOrder.DescendingOrder)
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
            status = r.status + (" · damaged file" if r.problems and not r.damage else "")
            status += f" · {r.lost_steps:,} steps lost" if r.lost_steps else ""
            return [f"{r.name}\n{_second_line(r)}", r.model, f"{r.step:,}" + (f" / {r.target:,}" if r.target else ""),
                    format_duration(r.seconds) if r.seconds else "–",
                    f"{r.best_swd:.1f}" if r.best_swd is not None else "–", r.created, status][c]
        if role == Qt.ItemDataRole.DecorationRole and c == 0:
            if not r.thumbnail:
                return self._blank
            pm = self.loader.pixmap(r.thumbnail)
            if pm is None:
                self.loader.request(r.thumbnail)
                return self._blank
            return pm
        if role == Qt.ItemDataRole.ToolTipRole:
            if r.damage:
                return f"{r.path}\n\nDamaged: {r.damage}\nShow the folder to repair it, or delete the run."
            notes = [f"Notes: {r.notes.strip()[:300]}"] if r.notes.strip() else []
            return "\n\n".join([str(r.path)] + notes + [f"Damaged, and ignored: {p}" for p in r.problems])
        if role == Qt.ItemDataRole.ForegroundRole:
            if r.damage:
                return QColor(GREY)  # the whole row: it cannot be used
            if c == STATUS and (r.problems or r.lost_steps or r.status == "interrupted"):
                return QColor("#ffb74d")
            if c == STATUS and r.status == "training":
                return QColor("#81c784")
        if role == Qt.ItemDataRole.TextAlignmentRole and c in (2, 3, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        self.sort_column, self.sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()  # the selection follows its runs to their new rows
        held = [(self.rows[i.row()], i.column()) for i in persistent]
        self.rows.sort(key=lambda r: r.sort_key(column), reverse=order == Qt.SortOrder.DescendingOrder)
        where = {id(r): n for n, r in enumerate(self.rows)}
        self.changePersistentIndexList(persistent, [self.index(where[id(r)], c) for r, c in held])
        self.layoutChanged.emit()

    @Slot(str)
    def _on_thumb(self, path: str) -> None:
        for i, r in enumerate(self.rows):
            if r.thumbnail == path:
                idx = self.index(i, 0)
                self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])


class RunsPanel(QWidget):
    resume_requested = Signal(str)
    browse_requested = Signal(str)
    run_deleted = Signal(str)
    run_renamed = Signal(str, str)  # old path, new path
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
        header.setSortIndicator(self.model.sort_column, self.model.sort_order)  # first: enabling sorts by it
        self.view.setSortingEnabled(True)
        self.view.doubleClicked.connect(lambda _: self.browse())
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self.show_context_menu)
        self.menu: QMenu | None = None
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Notes on this run (kept in its folder as notes.txt)")
        self.notes.setMaximumHeight(64)
        self.notes.setToolTip("What you want to remember about the selected run: the idea, what you changed, what "
                              "you liked. Saved in the run folder as you type.")
        self._notes_timer = QTimer(self)
        self._notes_timer.setSingleShot(True)
        self._notes_timer.setInterval(600)
        self._notes_timer.timeout.connect(self.save_notes)
        self.notes.textChanged.connect(self._notes_edited)
        self._notes_run: Path | None = None  # the run the notes field shows

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
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("Move this run folder to the trash (where there is no trash: delete it, after "
                                      "asking)")
        self.delete_button.clicked.connect(self.delete_selected)
        refresh = QPushButton("Refresh")
        refresh.setToolTip("Look for new runs (F5)")
        refresh.clicked.connect(self.refresh)
        self.root_label = label("", "hint")
        self.root_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.damage_label = label("", "hint")  # what is wrong with the selected run, and what can be done
        self.damage_label.setWordWrap(True)
        self.damage_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        top = QHBoxLayout()
        top.addWidget(label("Runs", "heading"))
        top.addWidget(self.root_label, 1, Qt.AlignmentFlag.AlignBottom)
        top.addWidget(refresh)
        buttons = QHBoxLayout()
        buttons.addWidget(self.damage_label, 1)
        buttons.addWidget(self.delete_button)
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
        col.addWidget(self.notes)
        col.addLayout(buttons)
        self._update_buttons()

    @Slot()
    def refresh(self) -> None:
        from gan_studio.engine.rundir import default_runs_root, list_runs

        self.root = default_runs_root()
        self.root_label.setText(f"in {self.root}")
        selected = self.selected()
        try:
            runs = list_runs(self.root)
        except GanStudioError as e:  # the runs folder itself cannot be read
            runs = []
            self.status.emit(str(e))
        rows = [read_run(r) for r in runs]  # each row alone: a damaged run never hides the others
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
        self.browse_button.setEnabled(r is not None and r.step > 0 and not r.damage)
        self.folder_button.setEnabled(r is not None)
        self.delete_button.setEnabled(r is not None and r.can_delete)
        self._show_notes(r)
        if r is not None and r.damage:
            self.damage_label.setText(f"This run is damaged: {r.damage}. Show its folder to repair it, or delete it.")
        elif r is not None and r.problems:
            self.damage_label.setText("Damaged, and ignored: " + "; ".join(r.problems))
        else:
            self.damage_label.setText("")

    @Slot()
    def resume(self) -> None:
        r = self.selected()
        if r is not None and r.can_resume:
            self.resume_requested.emit(str(r.path))

    @Slot()
    def browse(self) -> None:
        r = self.selected()
        if r is not None and r.damage:
            self.status.emit(f"This run is damaged: {r.damage}")
        elif r is not None and r.step > 0:
            self.browse_requested.emit(str(r.path))
        elif r is not None:
            self.status.emit("This run has no checkpoint yet: nothing to browse")

    @Slot()
    def show_folder(self) -> None:
        r = self.selected()
        if r is not None:
            open_in_file_manager(r.path, self.status.emit)

    def confirm_delete(self, row: RunRow) -> bool:
        """Ask before deleting a run folder for good, where there is no trash (tests replace this method)."""
        damaged = f"\n\nIt is damaged: {row.damage}" if row.damage else ""
        answer = QMessageBox.question(
            self, "Delete this run?",
            f"There is no trash to move it to here. Delete the run folder {row.path} and everything in it?"
            f"{damaged}\n\nThis cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def move_to_trash(self, path: Path) -> bool:
        """The system's trash (undoable), where there is one (tests replace this method)."""
        return QFile.moveToTrash(str(path))

    def _remove(self, r: RunRow) -> bool:
        """Trash or (after asking) delete one run; True when it is gone."""
        from gan_studio.engine.rundir import RunDir, delete_run, lock_state

        if lock_state(RunDir(r.path).lock_path)[0] in ("training", "training elsewhere"):
            self.status.emit(f"{r.name} is being trained: stop that training first")
            return False
        try:
            if self.move_to_trash(r.path):
                self.status.emit(f"Moved {r.name} to the trash")
            elif self.confirm_delete(r):
                delete_run(r.path)
                self.status.emit(f"Deleted {r.name}")
            else:
                return False
        except GanStudioError as e:
            self.status.emit(f"Could not delete the run: {e}")
            return False
        self.run_deleted.emit(str(r.path))
        return True

    @Slot()
    def delete_selected(self) -> None:
        r = self.selected()
        if r is not None and r.can_delete:
            self._remove(r)
            self.refresh()

    def untrained_runs(self) -> list[RunRow]:
        """Runs that never wrote a checkpoint (nothing to continue or browse), not being trained."""
        return [r for r in self.model.rows if r.status == "no checkpoint" and not r.damage]

    def confirm_clean_up(self, rows: list[RunRow]) -> bool:
        """Ask before removing the runs without a checkpoint (tests replace this method)."""
        names = "\n".join(r.name for r in rows[:12]) + ("\n…" if len(rows) > 12 else "")
        answer = QMessageBox.question(
            self, "Remove runs without a checkpoint?",
            f"{len(rows)} run(s) never saved a checkpoint (they stopped or failed before their first one):\n\n"
            f"{names}\n\nMove them to the trash?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    @Slot()
    def clean_up(self) -> int:
        """Remove the runs that never wrote a checkpoint (after asking); returns how many went."""
        rows = self.untrained_runs()
        if not rows:
            self.status.emit("Every run has a checkpoint: nothing to clean up")
            return 0
        if not self.confirm_clean_up(rows):
            return 0
        gone = sum(self._remove(r) for r in rows)
        self.refresh()
        return gone

    # ------------------------------------------------------------------------------------------- rename
    def ask_new_name(self, row: RunRow) -> str | None:
        """The new folder name for a run, or None (tests replace this method)."""
        text, ok = QInputDialog.getText(self, "Rename run", "New name of the run folder:", text=row.name)
        return text if ok else None

    @Slot()
    def rename_selected(self) -> Path | None:
        from gan_studio.engine.rundir import rename_run

        r = self.selected()
        if r is None:
            return None
        name = self.ask_new_name(r)
        if not name or name == r.name:
            return None
        try:
            target = rename_run(r.path, name)
        except GanStudioError as e:
            self.status.emit(f"Could not rename the run: {e}")
            return None
        self.status.emit(f"Renamed {r.name} to {target.name}")
        self.run_renamed.emit(str(r.path), str(target))
        self.refresh()
        self.select(target)
        return target

    # -------------------------------------------------------------------------------------------- notes
    def _show_notes(self, r: RunRow | None) -> None:
        if self._notes_timer.isActive():
            self.save_notes()  # what was typed for the previous run is not lost
        self._notes_run = r.path if r is not None and not r.damage else None
        self.notes.blockSignals(True)
        self.notes.setPlainText(r.notes if r is not None else "")
        self.notes.blockSignals(False)
        self.notes.setEnabled(self._notes_run is not None)

    def _notes_edited(self) -> None:
        self._notes_timer.start()

    @Slot()
    def save_notes(self) -> None:
        from gan_studio.engine.rundir import RunDir

        self._notes_timer.stop()
        if self._notes_run is None:
            return
        text = self.notes.toPlainText()
        try:
            RunDir(self._notes_run).write_notes(text)
        except GanStudioError as e:
            self.status.emit(f"Could not save the notes: {e}")
            return
        for r in self.model.rows:
            if r.path == self._notes_run:
                r.notes = text

    # ------------------------------------------------------------------------------------- context menu
    def context_menu(self, r: RunRow) -> QMenu:
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        entries = [("Continue Training", self.resume, r.can_resume), ("Browse Gallery", self.browse,
                                                                     r.step > 0 and not r.damage),
                   None, ("Show Folder", self.show_folder, True), ("Rename…", self.rename_selected,
                                                                   not r.status.startswith("training")),
                   ("Edit Notes", self.notes.setFocus, not r.damage),
                   ("Move to Trash…", self.delete_selected, r.can_delete), None,
                   ("Remove Runs Without a Checkpoint…", self.clean_up, bool(self.untrained_runs()))]
        for entry in entries:
            if entry is None:
                menu.addSeparator()
                continue
            text, slot, enabled = entry
            action = menu.addAction(text)
            action.setEnabled(enabled)
            action.triggered.connect(slot)
        return menu

    @Slot(QPoint)
    def show_context_menu(self, pos: QPoint) -> QMenu | None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return None
        self.view.selectRow(index.row())
        r = self.selected()
        if r is None:
            return None
        if self.menu is not None:
            self.menu.deleteLater()
        self.menu = self.context_menu(r)
        self.menu.popup(self.view.viewport().mapToGlobal(pos))
        return self.menu
