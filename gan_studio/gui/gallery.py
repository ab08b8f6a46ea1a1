"""The Gallery tab: pages of samples of a run's EMA generator, one per seed; a larger view on click
(pixel-exact or smooth, fitted or at 1x, 2x, 4x); a full-screen viewer; copy, drag out or save a sample as a
PNG that carries its seed, run and step; new seeds; favourites (kept in the run folder); a latent walk between
two samples; and the same seeds drawn by each checkpoint, to compare the run over training. A conditional model's
gallery also chooses the style it paints (one, a blend, or each seed's own), and shows a style grid and a walk
between styles (gan_studio.gui.style_panel); a run without styles shows none of it.

Mouse and keys on a sample: double-click, Space, Enter or F11 open the full-screen viewer (gan_studio.gui.viewer);
Ctrl+C copies the image, Ctrl+S saves it, F marks a favourite, dragging it out drops a PNG file; the context menu
has the same. How pictures are shown (pixel-exact, zoom, thumbnail size) is remembered in the user's settings."""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QListView,
    QMenu,
    QPushButton,
    QSlider,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gan_studio.gui.gallery_actions import KEY_SAVE_FOLDER, GallerySampleActions
from gan_studio.gui.gallery_model import GalleryDelegate, GalleryModel, GeneratorHost, SeedRole
from gan_studio.gui.gallery_view import GalleryView
from gan_studio.gui.imaging import FIT, ZOOMS, ImageView, zoom_name
from gan_studio.gui.settings import Settings
from gan_studio.gui.style_panel import GalleryStyles
from gan_studio.gui.tasks import Task
from gan_studio.gui.widgets import label

PAGE = 48
THUMB_MIN, THUMB_MAX, THUMB_DEFAULT = 64, 256, 128
# the viewing choices kept in the user's settings
KEY_PIXEL_EXACT, KEY_ZOOM, KEY_THUMB = "gallery/pixel_exact", "gallery/zoom", "gallery/thumb_size"

ZOOM_BUTTON_STYLE = ("QToolButton { padding: 2px 8px; border: 1px solid #45474d; border-radius: 4px; "
                     "background: #2c2e33; } QToolButton:hover { background: #383a40; } "
                     "QToolButton:checked { background: #3a82d6; border-color: #2f6db5; color: white; }")

class GalleryPanel(GalleryStyles, GallerySampleActions, QWidget):
    status = Signal(str)
    export_requested = Signal()
    page_ready = Signal()  # every sample of the page is drawn (tests wait for it)

    def __init__(self, parent: QWidget | None = None, settings: Settings | None = None) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else Settings()
        self.viewer = None  # the full-screen SampleViewer while it is open
        self.menu: QMenu | None = None  # the context menu last shown
        self._save_task: Task | None = None
        self.run_dir: Path | None = None
        self.first_seed = 0
        self.page = 0
        self.favourites: set[int] = set()
        self.device = "cpu"
        self._render_task = None
        self._generation = 0
        self.host = GeneratorHost(self)
        self.host.loaded.connect(self._on_generator)
        self.host.failed.connect(self._on_error)

        # ------------------------------------------------------------------------------ header
        self.title = label("Gallery", "heading")
        self.subtitle = label("", "hint")
        self.checkpoint = QComboBox()
        self.checkpoint.setToolTip("Which checkpoint draws the samples (the newest by default)")
        # the box grows with its items: the default policy measures them once, when first shown, which cut
        # 'best (by the quality check)' short when the tab was visited before a run was open
        self.checkpoint.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.checkpoint.setMinimumContentsLength(len("step 00,000 (newest)"))
        self.checkpoint.activated.connect(self._checkpoint_changed)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles, 1)
        head.addWidget(label("Checkpoint"))
        head.addWidget(self.checkpoint)
        self.export_button = QPushButton("Export…")
        self.export_button.setProperty("primary", True)
        self.export_button.setToolTip("Export favourites or new samples as files, a contact sheet, a web page or "
                                      "GIFs (Ctrl+E)")
        self.export_button.clicked.connect(self.export_requested)
        head.addWidget(self.export_button)

        self.prev_button = QPushButton("◀")
        self.prev_button.setToolTip("Previous page (Page Up)")
        self.prev_button.clicked.connect(lambda: self.go_page(self.page - 1))
        self.next_button = QPushButton("▶")
        self.next_button.setToolTip("Next page (Page Down)")
        self.next_button.clicked.connect(lambda: self.go_page(self.page + 1))
        for b in (self.prev_button, self.next_button):
            b.setFixedWidth(36)
        self.page_label = label("", "hint")
        self.page_label.setMinimumWidth(96)
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.new_button = QPushButton("New Seeds")
        self.new_button.setToolTip("Draw a fresh page of samples from other random seeds (Ctrl+R)")
        self.new_button.clicked.connect(self.new_seeds)
        self.fav_only = QCheckBox("Favourites only")
        self.fav_only.setToolTip("Show only the samples marked as favourites")
        self.fav_only.toggled.connect(lambda _: self.go_page(0))
        pixel_exact = bool(self.settings.json(KEY_PIXEL_EXACT, True))
        zoom = self.settings.json(KEY_ZOOM, FIT)
        zoom = zoom if zoom in ZOOMS else FIT
        thumb = self.settings.json(KEY_THUMB, THUMB_DEFAULT)
        thumb = min(max(int(thumb), THUMB_MIN), THUMB_MAX) if isinstance(thumb, (int, float)) else THUMB_DEFAULT
        self.pixel_exact = QCheckBox("Pixel-exact")
        self.pixel_exact.setChecked(pixel_exact)
        self.pixel_exact.setToolTip("Show the generator's pixels as sharp square blocks, enlarged by whole factors "
                                    "(nearest neighbour); off: smooth, filtered scaling")
        self.pixel_exact.toggled.connect(self.set_pixel_exact)
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(THUMB_MIN, THUMB_MAX)
        self.zoom.setValue(thumb)
        self.zoom.setFixedWidth(110)
        self.zoom.setToolTip("Thumbnail size")
        self.zoom.valueChanged.connect(self._zoom)
        self.interp_button = QPushButton("Walk Between Two Samples…")
        self.interp_button.setToolTip("Walk smoothly through the latent space between two selected samples "
                                      "(Ctrl-click to select two)")
        self.interp_button.clicked.connect(self.interpolate)
        self.compare_button = QPushButton("Compare Checkpoints…")
        self.compare_button.setToolTip("The same seeds drawn by each saved checkpoint, and the run's sample grids "
                                       "over training")
        self.compare_button.clicked.connect(self.compare)
        bar = QHBoxLayout()
        for w in (self.prev_button, self.page_label, self.next_button, self.new_button, self.fav_only):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.pixel_exact)
        bar.addSpacing(8)
        bar.addWidget(self.zoom)
        style_bar = self._build_style_controls()  # hidden unless the model has styles
        style_bar.preview.set_pixel_exact(pixel_exact)

        # -------------------------------------------------------------------------------- body
        self.model = GalleryModel(self)
        self.model.mime_source = self.drag_mime
        self.delegate = GalleryDelegate(thumb, self, pixel_exact=pixel_exact)
        self.view = GalleryView()
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setUniformItemSizes(True)
        self.view.setSpacing(2)
        # samples are dragged out (as PNG files), never moved around or dropped in
        self.view.setDragEnabled(True)
        self.view.setAcceptDrops(False)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setModel(self.model)
        self.view.setItemDelegate(self.delegate)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self.show_context_menu)
        self.view.open_requested.connect(lambda: self.open_viewer())
        self.view.copy_requested.connect(lambda: self.copy_image())
        self.view.save_requested.connect(lambda: self.save_image_as())

        self.large = ImageView("Click a sample to see it larger")
        self.large.setMinimumSize(200, 200)
        self.large.set_fit_width(True)
        self.large.set_pixel_exact(pixel_exact)
        self.large.set_zoom(zoom)
        self.large.setToolTip("Double-click (or Space) for the full-screen viewer; drag to move a zoomed picture")
        self.large.installEventFilter(self)
        self.zoom_group = QButtonGroup(self)
        self.zoom_group.setExclusive(True)
        zoom_row = QHBoxLayout()
        zoom_row.setSpacing(2)
        zoom_row.addWidget(label("Zoom", "hint"))
        zoom_row.addSpacing(4)
        for z in ZOOMS:
            b = QToolButton()
            b.setText(zoom_name(z))
            b.setCheckable(True)
            b.setChecked(z == zoom)
            b.setToolTip("Fit the picture in the pane" if z == FIT else
                         f"Each pixel of the picture as {z} × {z} pixels of the screen")
            b.setMinimumWidth(38)
            b.setStyleSheet(ZOOM_BUTTON_STYLE)
            self.zoom_group.addButton(b, z)
            zoom_row.addWidget(b)
        zoom_row.addStretch(1)
        self.zoom_group.idClicked.connect(self.set_large_zoom)
        self.large_caption = label("", "subheading")
        self.large_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.fav_button = QPushButton("☆ Mark as Favourite")
        self.fav_button.setToolTip("Favourites are kept in the run folder and can be exported together (F)")
        self.fav_button.clicked.connect(lambda: self.toggle_favourite())
        detail = QWidget()
        dc = QVBoxLayout(detail)
        dc.setContentsMargins(6, 0, 0, 0)
        dc.addLayout(zoom_row)
        dc.addWidget(self.large)
        dc.addWidget(self.large_caption)
        dc.addWidget(self.fav_button)
        dc.addWidget(self.interp_button)
        dc.addWidget(self.style_walk_button)
        dc.addWidget(self.compare_button)
        tip = label("Double-click or Space: full screen. Drag a sample out to save it, or right-click it. "
                    "Ctrl-click a second sample to walk between the two. F marks a favourite; favourites are "
                    "kept with the run.", "hint")
        tip.setWordWrap(True)
        dc.addWidget(tip)
        dc.addStretch(1)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.view)
        self.split.addWidget(detail)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([720, 360])
        self.split.setChildrenCollapsible(False)

        self.empty = label("Choose a run in the Runs tab (or finish a training) to browse what it generates.", "hint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        body = QWidget()
        bc = QVBoxLayout(body)
        bc.setContentsMargins(0, 0, 0, 0)
        bc.addLayout(bar)
        bc.addWidget(style_bar)
        bc.addWidget(self.split, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(body)
        col = QVBoxLayout(self)
        col.setContentsMargins(12, 12, 12, 8)
        col.addLayout(head)
        col.addWidget(self.stack, 1)

        QShortcut(QKeySequence("F"), self.view, lambda: self.toggle_favourite())
        QShortcut(QKeySequence(QKeySequence.StandardKey.MoveToPreviousPage), self, lambda: self.go_page(self.page - 1))
        QShortcut(QKeySequence(QKeySequence.StandardKey.MoveToNextPage), self, lambda: self.go_page(self.page + 1))
        self._zoom(thumb)
        self._update_controls()

    # ------------------------------------------------------------------------------ what others ask
    def current_run(self) -> Path | None:
        """The run folder on show (None before one is opened)."""
        return self.run_dir

    def chosen_checkpoint(self) -> Path | None:
        """The checkpoint the user picked, or None for the default (the best snapshot, else the newest)."""
        if self.run_dir is None or self.checkpoint.currentIndex() <= 0:
            return None
        return Path(self.checkpoint.currentData())

    def favourites_of(self, run_dir: Path) -> list[int]:
        """The favourite seeds of a run, sorted: those marked here if it is on show, else those saved with it."""
        from gan_studio.engine import RunDir

        if self.run_dir is not None and Path(run_dir) == self.run_dir and self.favourites:
            return sorted(self.favourites)
        return RunDir(Path(run_dir)).favourites()

    def splitters(self) -> dict[str, QSplitter]:
        """The panel's splitters by settings key, whose positions the window saves and restores."""
        return {"gallery": self.split}

    # -------------------------------------------------------------------------------------- run
    def open_run(self, run_dir: str | Path, device: str = "cpu") -> None:
        from gan_studio.engine import RunDir

        run = RunDir.open(Path(run_dir))
        if run.path != self.run_dir:
            self._styles_closed()
        self.run_dir, self.device = run.path, device
        self.favourites = set(run.favourites())
        self.title.setText(run.path.name)
        self.checkpoint.clear()
        cps = run.checkpoint_list()
        best = run.best_checkpoint  # the engine's best snapshot by its quality check, when it keeps one
        if best.is_file():
            self.checkpoint.addItem("best (by the quality check)", str(best))
            self.checkpoint.setItemData(0, "The snapshot with the best quality score (lowest SWD, few copies) so "
                                           "far: what exports use by default", Qt.ItemDataRole.ToolTipRole)
        for i, (step, path) in enumerate(reversed(cps)):
            self.checkpoint.addItem(f"step {step:,}" + (" (newest)" if i == 0 else ""), str(path))
        self.first_seed, self.page = 0, 0
        self.model.set_seeds([], set())
        self.large.set_image(None)
        self.large_caption.setText("")
        self.stack.setCurrentIndex(1)
        if not cps:
            self.subtitle.setText("This run has no checkpoint yet")
            return
        self.subtitle.setText("Loading the generator…")
        self.host.load(run.path, None, device)
        self._update_controls()

    def run_trained(self, run_dir: Path, device: str = "cpu") -> None:
        """A training of ``run_dir`` ended: list its new checkpoints if it is on show; show it if nothing is."""
        from gan_studio.engine import RunDir

        run_dir = Path(run_dir)
        if self.run_dir is not None:
            if run_dir == self.run_dir:
                self.refresh_checkpoints()
        elif RunDir(run_dir).checkpoints.is_dir():
            try:
                self.open_run(run_dir, device)
            except Exception:  # noqa: BLE001 - a run without a checkpoint: the gallery stays empty
                pass

    def refresh_checkpoints(self) -> None:
        """A training of this run saved new checkpoints: list them (the view keeps its checkpoint)."""
        if self.run_dir is not None:
            current = self.checkpoint.currentData()
            self.open_run(self.run_dir, self.device)
            i = self.checkpoint.findData(current)
            if i > 0:
                self.checkpoint.setCurrentIndex(i)
                self._checkpoint_changed(i)

    @Slot(int)
    def _checkpoint_changed(self, index: int) -> None:
        if self.run_dir is None or index < 0:
            return
        path = self.checkpoint.itemData(index)
        self.subtitle.setText("Loading the generator…")
        self.host.load(self.run_dir, Path(path) if index > 0 else None, self.device)

    @Slot(int)
    def _on_generator(self, step: int) -> None:
        from gan_studio.engine import RunDir

        generator = self.host.generator
        best = generator is not None and RunDir.is_best(generator.checkpoint)
        which = "best snapshot" if best else "EMA generator"
        self._styles_loaded(generator)
        self.subtitle.setText(f"{which[0].upper()}{which[1:]} at step {step:,} · each image is a function of its seed")
        self.go_page(self.page)

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self.subtitle.setText(message)
        self.status.emit(message)

    # ------------------------------------------------------------------------------------- pages
    def page_seeds(self, page: int) -> list[int]:
        if self.fav_only.isChecked():
            favs = sorted(self.favourites)
            return favs[page * PAGE:(page + 1) * PAGE]
        start = self.first_seed + page * PAGE
        return list(range(start, start + PAGE))

    def go_page(self, page: int) -> None:
        if self.run_dir is None:
            return
        pages = self._page_count()
        page = max(0, page if pages is None else min(page, max(pages - 1, 0)))
        self.page = page
        seeds = self.page_seeds(page)
        self.model.set_seeds(seeds, self.favourites)
        self._update_controls()
        self._render_page(seeds)

    def _render_page(self, seeds: list[int]) -> None:
        """Draw ``seeds`` (the page on show) off the GUI thread; each picture replaces its item's when it comes."""
        if self.host.generator is None or not seeds:
            return
        self._generation += 1
        generation = self._generation
        if self._render_task is not None:
            self._render_task.cancel()
        style = self.style_vector()
        self.model.set_show_styles(style is None)  # one style for all is said by the style bar, not every caption
        task = self.host.render(seeds, style)
        task.done.connect(lambda result, g=generation: self._on_rendered(g, result))
        task.failed.connect(self._on_error)
        self._render_task = task

    def _page_count(self) -> int | None:
        if self.fav_only.isChecked():
            return (len(self.favourites) + PAGE - 1) // PAGE
        return None

    def _on_rendered(self, generation: int, result: list) -> None:
        if generation != self._generation:
            return
        for seed, image, style in result:
            self.model.set_image(seed, image, style)
        self._selection_changed()
        self.page_ready.emit()

    @Slot()
    def new_seeds(self) -> None:
        if self.fav_only.isChecked():
            self.fav_only.setChecked(False)
        self.first_seed = random.randrange(0, 10_000_000 // PAGE) * PAGE
        self.go_page(0)
        self.status.emit(f"New seeds from {self.first_seed:,}")

    def _zoom(self, side: int) -> None:
        self.delegate.side = side
        self.view.setGridSize(QSize(side + 12, side + 28))
        self.view.doItemsLayout()
        if side != self.settings.json(KEY_THUMB, THUMB_DEFAULT):
            self.settings.set_json(KEY_THUMB, side)

    # --------------------------------------------------------------------------------- how it shows
    @Slot(bool)
    def set_pixel_exact(self, on: bool) -> None:
        """Pixel-exact (nearest neighbour, whole factors) or smooth, for the thumbnails and the larger view;
        remembered in the user's settings."""
        on = bool(on)
        if self.pixel_exact.isChecked() != on:
            self.pixel_exact.setChecked(on)  # comes back here through toggled
            return
        self.delegate.pixel_exact = on
        self.large.set_pixel_exact(on)
        self.style_bar.preview.set_pixel_exact(on)
        self.view.viewport().update()
        self.settings.set_json(KEY_PIXEL_EXACT, on)

    @Slot(int)
    def set_large_zoom(self, zoom: int) -> None:
        """The larger view's zoom: FIT (0) or 1, 2, 4; remembered in the user's settings."""
        zoom = zoom if zoom in ZOOMS else FIT
        button = self.zoom_group.button(zoom)
        if button is not None and not button.isChecked():
            button.setChecked(True)
        self.large.set_zoom(zoom)
        self.settings.set_json(KEY_ZOOM, zoom)

    # ------------------------------------------------------------------------------- selection
    def selected_seeds(self) -> list[int]:
        rows = sorted(i.row() for i in self.view.selectionModel().selectedIndexes())
        return [self.model.items[r].seed for r in rows]

    def select_seeds(self, seeds: list[int]) -> None:
        sm = self.view.selectionModel()
        sm.clearSelection()
        for row, item in enumerate(self.model.items):
            if item.seed in seeds:
                sm.select(self.model.index(row), QItemSelectionModel.SelectionFlag.Select)

    @Slot()
    def _selection_changed(self, *_) -> None:
        current = self.view.currentIndex()
        seeds = self.selected_seeds()
        seed = current.data(SeedRole) if current.isValid() and current.data(SeedRole) in seeds else \
            (seeds[-1] if seeds else None)
        item = next((i for i in self.model.items if i.seed == seed), None)
        if item is not None and item.pixmap is not None:
            self.large.set_image(item.pixmap)
            self.large_caption.setText(f"Seed {seed}{self._style_caption(seed)} · step {self.host.step:,}")
        elif item is None:
            self.large.set_image(None)
            self.large_caption.setText("")
        self._update_controls()

    def _current_seed(self) -> int | None:
        seeds = self.selected_seeds()
        current = self.view.currentIndex()
        if current.isValid() and current.data(SeedRole) in seeds:
            return current.data(SeedRole)
        return seeds[-1] if seeds else None

    def toggle_favourite(self, seed: int | None = None) -> None:
        """Mark ``seed`` (the selected sample by default) as a favourite, or no longer; saved in the run folder."""
        from gan_studio.engine import RunDir

        seed = self._current_seed() if seed is None else seed
        if seed is None or self.run_dir is None:
            return
        fav = seed not in self.favourites
        (self.favourites.add if fav else self.favourites.discard)(seed)
        try:
            RunDir(self.run_dir).save_favourites(self.favourites)
        except OSError as e:
            self.status.emit(f"Could not save the favourites: {e}")
        self.model.set_favourite(seed, fav)
        self._update_controls()
        self.status.emit(f"Seed {seed} {'marked as favourite' if fav else 'no longer a favourite'} "
                         f"({len(self.favourites)} favourite{'s' if len(self.favourites) != 1 else ''})")

    def _update_controls(self) -> None:
        has_run = self.run_dir is not None and self.host.generator is not None
        seeds = self.selected_seeds()
        pages = self._page_count()
        page_seeds = self.model.seeds()
        if self.fav_only.isChecked():
            text = f"Favourites: page {self.page + 1} of {max(pages or 1, 1)}" if self.favourites else "No favourites"
        elif page_seeds:
            text = f"Seeds {page_seeds[0]:,}–{page_seeds[-1]:,}"
        else:
            text = ""
        self.page_label.setText(text)
        self.prev_button.setEnabled(has_run and self.page > 0)
        self.next_button.setEnabled(has_run and (pages is None or self.page + 1 < pages))
        self.new_button.setEnabled(has_run)
        self.interp_button.setEnabled(has_run and len(seeds) == 2)
        self.compare_button.setEnabled(self.run_dir is not None)
        self.export_button.setEnabled(has_run)
        seed = self._current_seed()
        self.fav_button.setEnabled(seed is not None)
        self.style_walk_button.setEnabled(has_run and seed is not None)
        self.fav_button.setText("★ Favourite" if seed in self.favourites else "☆ Mark as Favourite")

    # --------------------------------------------------------------------------------- dialogs
    @Slot()
    def interpolate(self) -> None:
        from gan_studio.gui.gallery_dialogs import InterpolationDialog

        seeds = self.selected_seeds()
        if len(seeds) != 2 or self.host.generator is None:
            self.status.emit("Select two samples (Ctrl-click) to interpolate between them")
            return
        folder = self.settings.text(KEY_SAVE_FOLDER)
        self.interp_dialog = InterpolationDialog(self.host, seeds[0], seeds[1], self,
                                                 pixel_exact=self.pixel_exact.isChecked(),
                                                 folder=Path(folder) if folder else None)
        self.interp_dialog.show()

    @Slot()
    def compare(self) -> None:
        from gan_studio.gui.gallery_dialogs import CompareDialog

        if self.run_dir is None:
            return
        seeds = self.selected_seeds() or self.model.seeds()
        self.compare_dialog = CompareDialog(self.run_dir, seeds[:8] or list(range(8)), self.device, self)
        self.compare_dialog.show()

    # ------------------------------------------------------------------------------ one sample
    def _sample(self, seed: int | None = None):
        """The GalleryItem of ``seed`` (the selected sample by default) when its picture is drawn, else None."""
        seed = self._current_seed() if seed is None else seed
        item = self.model.item(seed) if seed is not None else None
        return item if item is not None and item.image is not None else None

    def describe(self, seed: int) -> str:
        """A sample's caption: its seed (and style), the step that drew it and the run."""
        run = f"  ·  {self.run_dir.name}" if self.run_dir is not None else ""
        item = self.model.item(seed)
        style = f"  ·  {item.style}" if item is not None and item.style else ""
        return f"Seed {seed}{style}  ·  step {self.host.step:,}{run}"

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt naming
        if obj is self.large and event.type() == QEvent.Type.MouseButtonDblClick and self.large.has_image():
            self.open_viewer()
            return True
        return super().eventFilter(obj, event)
