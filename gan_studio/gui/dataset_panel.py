"""The Dataset tab: an empty state that invites a drop (or the demo landscapes), the scan with its progress,
then the thumbnail grid, the counts, the size range and the rejected files with their reasons.

A folder of style folders (gan_studio.data.styles) shows its thumbnails grouped by style, in the styles' order,
the images in no style last, with a filter that shows one group and the counts that say what is left out, and why.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gan_studio.data.styles import style_of
from gan_studio.data.summary import DataSummary
from gan_studio.gui.icon import app_icon
from gan_studio.gui.tasks import Task
from gan_studio.gui.thumbnails import GroupFilter, ThumbnailModel
from gan_studio.gui.widgets import label

NO_STYLE = ""  # the group of the images in no style


def style_groups(summary: DataSummary) -> tuple[list[tuple[str, str]], list[str], dict[str, tuple[str, str]]]:
    """The thumbnails' (path, tooltip), each one's group and the groups' title tiles: with styles, by style in
    the layout's order (the scan's order within one), the images in no style last, each group under a tile with
    its name and count; without, the scan's order, all in no style, no tiles."""
    layout = summary.styles
    rows = []
    for info in summary.images:
        tip = f"{info.path}\n{info.width} × {info.height} px · {info.mode}"
        group = NO_STYLE
        if layout is not None:
            style = style_of(info.path)
            if style in layout.names:
                group, tip = str(style), f"{tip}\nStyle: {style}"
            elif style is None:
                tip = f"{tip}\nAt the top level: in no style, left out of a training with styles"
            else:
                tip = (f"{tip}\nIts folder '{style}' has too few images to be a style: left out of a training "
                       f"with styles")
        rows.append((str(summary.folder / info.path), tip, group))
    titles = {}
    if layout is not None:
        order = {n: i for i, n in enumerate(layout.names)}
        rows.sort(key=lambda r: order.get(r[2], len(order)))  # a stable sort: the scan's order within a group
        titles = {name: (name, _images(count)) for name, count in zip(layout.names, layout.counts)}
        titles[NO_STYLE] = ("Not in any style", f"{_images(layout.left_out)}, left out")
    return [(path, tip) for path, tip, _ in rows], [group for _, _, group in rows], titles


def _images(n: int) -> str:
    return f"{n:,} image{'s' if n != 1 else ''}"


class DatasetPanel(QWidget):
    open_folder_requested = Signal()
    demo_requested = Signal()
    recent_requested = Signal(str)
    train_requested = Signal()
    loaded = Signal(object)  # DataSummary
    status = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary: DataSummary | None = None
        self.task: Task | None = None
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_empty())
        self.stack.addWidget(self._build_busy())
        self.stack.addWidget(self._build_loaded())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    # ------------------------------------------------------------------------------------------ pages
    def _build_empty(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(24, 24, 24, 24)
        zone = QFrame()
        zone.setProperty("role", "dropzone")
        col = QVBoxLayout(zone)
        col.setContentsMargins(32, 28, 32, 28)
        col.setSpacing(10)
        col.addStretch(1)
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(QSize(88, 88)))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(icon)
        title = label("Drop a folder of images here", "heading")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(title)
        hint = label("Paintings, photos or drawings: JPEG, PNG, WebP, TIFF, BMP or GIF, sub-folders included.\n"
                     "A few hundred images are plenty to start. Nothing leaves your computer.", "hint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        col.addWidget(hint)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.open_button = QPushButton("Open Folder…")
        self.open_button.setProperty("primary", True)
        self.open_button.setToolTip("Choose a folder of images (Ctrl+O)")
        self.open_button.clicked.connect(self.open_folder_requested)
        self.demo_button = QPushButton("Try the Demo Landscapes")
        self.demo_button.setToolTip("300 small landscape paintings, generated on your computer: no download")
        self.demo_button.clicked.connect(self.demo_requested)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        self.error = label("", "error")
        self.error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        col.addWidget(self.error)
        col.addSpacing(6)
        col.addLayout(buttons)
        self.recent_title = label("Recent folders", "subheading")
        self.recent_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.recent_list = QListWidget()
        # As wide as a typical path (long ones elide in the middle, never scroll sideways), at most 560 px.
        self.recent_list.setMinimumWidth(460)
        self.recent_list.setMaximumWidth(560)
        self.recent_list.setMaximumHeight(120)
        self.recent_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.recent_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        def open_recent(item: QListWidgetItem) -> None:
            self.recent_requested.emit(item.data(Qt.ItemDataRole.UserRole))

        self.recent_list.itemActivated.connect(open_recent)
        self.recent_list.itemClicked.connect(open_recent)
        col.addSpacing(12)
        col.addWidget(self.recent_title)
        col.addWidget(self.recent_list, 0, Qt.AlignmentFlag.AlignHCenter)
        col.addStretch(2)
        outer.addWidget(zone)
        self.set_recent([])
        return page

    def _build_busy(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(48, 24, 48, 24)
        col.addStretch(1)
        self.busy_title = label("Checking images…", "heading")
        self.busy_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.busy_detail = label("", "hint")
        self.busy_detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.busy_bar = QProgressBar()
        self.busy_bar.setMaximumWidth(520)
        self.busy_bar.setTextVisible(False)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.cancel)
        col.addWidget(self.busy_title)
        col.addWidget(self.busy_bar, 0, Qt.AlignmentFlag.AlignHCenter)
        col.addWidget(self.busy_detail)
        col.addWidget(cancel, 0, Qt.AlignmentFlag.AlignHCenter)
        col.addStretch(2)
        return page

    def _build_loaded(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(12, 12, 12, 8)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.title = label("", "heading")
        self.counts = label("", "hint")
        self.counts.setWordWrap(True)
        self.counts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        titles.addWidget(self.title)
        titles.addWidget(self.counts)
        head.addLayout(titles, 1)
        another = QPushButton("Open Another…")
        another.clicked.connect(self.open_folder_requested)
        self.train_button = QPushButton("Train on These Images")
        self.train_button.setProperty("primary", True)
        self.train_button.setToolTip("Go to the Train tab, with defaults chosen for this folder (Ctrl+2)")
        self.train_button.clicked.connect(self.train_requested)
        head.addWidget(another, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.train_button, 0, Qt.AlignmentFlag.AlignTop)
        col.addLayout(head)

        # With styles: which group the grid shows (all of them, grouped, or one); hidden without styles
        self.filter_box = QWidget()
        fb = QHBoxLayout(self.filter_box)
        fb.setContentsMargins(0, 6, 0, 2)
        self.style_filter = QComboBox()
        self.style_filter.setToolTip("Show the images of one style (one folder), or all of them grouped by style")
        self.style_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.style_filter.currentIndexChanged.connect(self._filter_style)
        fb.addWidget(label("Show", "subheading"))
        fb.addWidget(self.style_filter)
        fb.addStretch(1)
        self.filter_box.setVisible(False)
        col.addWidget(self.filter_box)

        self.model = ThumbnailModel(side=104, parent=self)
        self.proxy = GroupFilter(self.model, self)  # the view shows the model through the style filter
        self.view = QListView()
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setUniformItemSizes(True)
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(200)
        self.view.setIconSize(QSize(104, 104))
        self.view.setGridSize(QSize(114, 114))
        self.view.setSpacing(0)
        self.view.setDragEnabled(False)
        self.view.setAcceptDrops(False)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.NoDragDrop)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setModel(self.proxy)

        self.rejected_box = QWidget()
        rb = QVBoxLayout(self.rejected_box)
        rb.setContentsMargins(0, 4, 0, 0)
        self.rejected_title = label("", "subheading")
        self.rejected_view = QTreeWidget()
        self.rejected_view.setHeaderLabels(["File", "Why it was left out"])
        self.rejected_view.setRootIsDecorated(False)
        self.rejected_view.setAlternatingRowColors(True)
        self.rejected_view.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.rejected_view.header().setStretchLastSection(True)
        self.rejected_view.setColumnWidth(0, 260)
        rb.addWidget(self.rejected_title)
        rb.addWidget(self.rejected_view)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.rejected_box)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        col.addWidget(self.splitter, 1)
        return page

    # ---------------------------------------------------------------------------------------- behaviour
    def set_recent(self, folders: list[str]) -> None:
        self.recent_list.clear()
        for f in folders:
            item = QListWidgetItem(f)
            item.setData(Qt.ItemDataRole.UserRole, f)
            item.setToolTip(f"Open {f}")
            self.recent_list.addItem(item)
        visible = bool(folders)
        self.recent_title.setVisible(visible)
        self.recent_list.setVisible(visible)

    def is_busy(self) -> bool:
        return self.task is not None and self.task.running

    def show_busy(self, title: str, detail: str = "") -> None:
        self.busy_title.setText(title)
        self.busy_detail.setText(detail)
        self.busy_bar.setRange(0, 0)
        self.stack.setCurrentIndex(1)

    @Slot(int, int)
    def set_progress(self, done: int, total: int) -> None:
        self.busy_bar.setRange(0, max(total, 1))
        self.busy_bar.setValue(done)
        self.busy_detail.setText(f"{done:,} of {total:,}")

    def show_error(self, message: str) -> None:
        """Back to the empty page with ``message`` above its buttons (and in the status bar)."""
        self.error.setText(message)
        self.error.setVisible(True)
        self.stack.setCurrentIndex(0)
        self.status.emit(message)

    def splitters(self) -> dict[str, QSplitter]:
        """The panel's splitters by settings key, whose positions the window saves and restores."""
        return {"dataset": self.splitter}

    def paint_demo(self) -> Task:
        """Paint the demo landscapes (once per computer) off the GUI thread, then scan them as the 'demo' source."""
        from gan_studio.data.demo import ensure_demo_folder

        self.show_busy("Painting the demo landscapes…", "300 small paintings, made on this computer")
        task = Task(lambda progress: ensure_demo_folder(progress=progress))
        task.progress.connect(self.set_progress)
        task.done.connect(self._on_demo_painted)
        task.failed.connect(self._on_failed)
        self.task = task.start()
        return task

    @Slot(object)
    def _on_demo_painted(self, folder: Path) -> None:
        self.task = None
        self.scan(Path(folder), source="demo")

    def scan(self, folder: Path, source: str | None = None) -> Task:
        """Scan ``folder`` (or an MNIST-style file; ``source`` 'demo' for the demo landscapes) off the GUI thread;
        ``loaded`` is emitted with the summary when it is done."""
        from gan_studio.data.summary import summarize_source

        self.cancel()
        self.error.setVisible(False)
        folder = Path(folder)
        source = source or str(folder.resolve())
        self.show_busy("Checking images…", str(folder))
        self.status.emit(f"Checking the images in {folder}…")
        task = Task(lambda progress: summarize_source(source, progress))
        task.progress.connect(self.set_progress)
        task.done.connect(self._on_scanned)
        task.failed.connect(self._on_failed)
        task.cancelled.connect(self._on_cancelled)
        self.task = task.start()
        return task

    def cancel(self) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()

    @Slot(object)
    def _on_scanned(self, summary: DataSummary) -> None:
        self.task = None
        self.summary = summary
        self.title.setText(summary.name)
        self.counts.setText(self._counts_text(summary))
        self.counts.setToolTip(str(summary.folder))
        self.model.set_items(*style_groups(summary))
        self._fill_style_filter(summary)
        self.rejected_view.clear()
        for r in summary.rejected:
            item = QTreeWidgetItem([r.path, r.reason])
            item.setToolTip(0, r.path)
            item.setToolTip(1, r.reason)
            self.rejected_view.addTopLevelItem(item)
        n = len(summary.rejected)
        self.rejected_title.setText(f"{n} file{'s' if n != 1 else ''} left out")
        self.rejected_box.setVisible(n > 0)
        self.train_button.setEnabled(summary.count > 0)
        self.stack.setCurrentIndex(2)
        if summary.count:
            self.status.emit(f"{summary.count:,} images ready in {summary.folder}")
        else:
            self.status.emit(f"No usable image in {summary.folder}")
        self.loaded.emit(summary)

    def _fill_style_filter(self, summary: DataSummary) -> None:
        """One entry per style with its count, then the images in no style with why; all of them first."""
        layout, combo = summary.styles, self.style_filter
        combo.blockSignals(True)
        combo.clear()
        if layout is not None:
            more = f" + {layout.left_out:,} in none" if layout.left_out else ""
            combo.addItem(f"All {len(layout.names)} styles — {_images(sum(layout.counts))}{more}", None)
            for name, count in zip(layout.names, layout.counts):
                combo.addItem(f"{name} — {_images(count)}", name)
            if layout.left_out:
                combo.addItem(f"Not in any style — {_images(layout.left_out)}", NO_STYLE)
                combo.setItemData(combo.count() - 1, "\n".join(layout.messages()), Qt.ItemDataRole.ToolTipRole)
        combo.blockSignals(False)
        self.filter_box.setVisible(layout is not None)
        self._filter_style()

    def show_style(self, name: str | None) -> None:
        """Show one style's thumbnails (``NO_STYLE``: those in none), or all of them (None)."""
        i = self.style_filter.findData(name)
        self.style_filter.setCurrentIndex(max(i, 0))

    @Slot()
    def _filter_style(self) -> None:
        self.proxy.set_group(self.style_filter.currentData())

    def _counts_text(self, s: DataSummary) -> str:
        layout = s.styles
        if not s.count:
            parts = ["No usable image in this folder"]
        elif layout is not None:
            listed = ", ".join(f"{n} {c:,}" for n, c in zip(layout.names, layout.counts))
            parts = [f"{_images(sum(layout.counts))} in {len(layout.names)} styles: {listed}"]
            if layout.left_out:
                parts.append(f"{layout.left_out:,} in no style")
        else:
            parts = [f"{s.count:,} usable image{'s' if s.count != 1 else ''}"]
        if s.count:
            (w0, h0), (w1, h1) = s.min_size, s.max_size
            parts.append(f"{w0}×{h0} px" if (w0, h0) == (w1, h1) else f"{w0}×{h0} to {w1}×{h1} px")
            if s.gray:
                parts.append("grayscale")
        if s.rejected:
            parts.append(f"{len(s.rejected)} rejected")
        if s.ignored:
            parts.append(f"{s.ignored} other file{'s' if s.ignored != 1 else ''} ignored")
        # what a training with styles leaves out, and why, one line each
        return "\n".join([" · ".join(parts), *(layout.messages() if layout is not None else [])])

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.task = None
        self.summary = None
        self.show_error(message)

    @Slot()
    def _on_cancelled(self) -> None:
        self.task = None
        self.stack.setCurrentIndex(2 if self.summary else 0)
        self.status.emit("Cancelled")
