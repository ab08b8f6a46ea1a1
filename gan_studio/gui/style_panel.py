"""The gallery's styles, for a conditional model (one style per painter): a picker (each seed's own style, one
style, or a blend of two with a slider and a live preview), a style grid (rows = styles, columns = seeds: the same
noise painted each way) and a walk from style to style saved as a GIF. Runs without styles never show any of it.

The pictures are drawn by the gallery's generator host on its pool (gan_studio.gui.gallery_model.GeneratorHost),
like the gallery's pages: never on the GUI thread. A drag of the blend slider asks for many blends; the preview
follows after a short pause (a newer request replaces an older one), and the page after a longer one."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from gan_studio.gui.gallery_actions import KEY_SAVE_FOLDER
from gan_studio.gui.gallery_dialogs import FRAME_MS, WalkDialog, reset_seed_grid
from gan_studio.gui.imaging import ImageView, fit_factor, qimage_from_array, scaled_pixmap
from gan_studio.gui.tasks import Task
from gan_studio.gui.widgets import label, set_tip

EACH, BLEND = "", "\x00blend"  # the picker's data for each seed's own style and for a blend (else a style's name)
PREVIEW_MS = 60  # the blend preview is drawn this long after the slider last moved
PAGE_MS = 350  # and the page this long after it
PREVIEW_SIDE = 72
GRID_CELL = 96  # the side of a style grid's cells on screen
GRID_SEEDS = 8  # a style grid shows this many seeds of the page (or those selected, up to GRID_MAX_SEEDS)
GRID_MAX_SEEDS = 16
WALK_FRAMES_PER_LEG = 12

BAR_STYLE = "QFrame#styleBar { background: #26282c; border: 1px solid #34363b; border-radius: 6px; }"


def weights_text(names: Sequence[str], vector: np.ndarray) -> str:
    """'monet 60% · song 40%' for a blend, 'monet' for a pure style."""
    parts = [(n, float(w)) for n, w in zip(names, vector) if w > 1e-6]
    if len(parts) == 1:
        return parts[0][0]
    return " · ".join(f"{n} {round(100 * w)}%" for n, w in parts)


class StyleChooser(QWidget):
    """Which style to draw: each seed's own, one of the model's styles, or a blend of two (two boxes and a slider
    from 0%, all the first, to 100%, all the second)."""

    picked = Signal()  # the picker or a blend's style changed
    blend_moved = Signal()  # the blend slider moved (a drag sends many)

    def __init__(self, parent: QWidget | None = None, each_text: str = "Each seed's style",
                 stacked: bool = False) -> None:
        """``stacked``: the blend's boxes and slider on a line of their own under the picker (for a narrow form)."""
        super().__init__(parent)
        self.names: list[str] = []
        self.each_text = each_text
        self.picker = QComboBox()
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        set_tip(self.picker, "The style the images are painted in: each seed's own (seed s takes style s mod the "
                             "number of styles), one style, or a blend of two. A seed is the same composition in "
                             "every style.")
        self.picker.currentIndexChanged.connect(self._picker_changed)
        self.style_a, self.style_b = QComboBox(), QComboBox()
        for box, which in ((self.style_a, "first"), (self.style_b, "second")):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            box.setToolTip(f"The {which} style of the blend")
            box.currentIndexChanged.connect(self._blend_styles_changed)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setValue(50)
        self.slider.setSingleStep(5)
        self.slider.setPageStep(10)
        self.slider.setMinimumWidth(140)
        self.slider.setMaximumWidth(300)
        set_tip(self.slider, "How much of the second style: 0% paints the first style alone, 100% the second.")
        self.slider.valueChanged.connect(self._slider_moved)
        self.weights = label("", "hint")
        self.weights.setMinimumWidth(self.weights.fontMetrics().horizontalAdvance("monet 100% · song 100%"))
        self.blend_box = QWidget()
        bl = QHBoxLayout(self.blend_box)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.style_a)
        bl.addWidget(self.slider, 1)
        bl.addWidget(self.style_b)
        bl.addWidget(self.weights)
        self.blend_box.setVisible(False)
        row = QVBoxLayout(self) if stacked else QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.picker, 0, Qt.AlignmentFlag.AlignLeft)
        row.addWidget(self.blend_box)
        if stacked:
            bl.addStretch(1)
        else:
            self.slider.setFixedWidth(240)

    def set_styles(self, names: Sequence[str]) -> None:
        """The model's styles; the choice is kept when they are the same, else reset to each seed's own."""
        names = list(names)
        if names == self.names:
            return
        self.names = names
        for w in (self.picker, self.style_a, self.style_b):
            w.blockSignals(True)
            w.clear()
        self.picker.addItem(self.each_text, EACH)
        for n in names:
            self.picker.addItem(n, n)
            self.style_a.addItem(n)
            self.style_b.addItem(n)
        self.picker.addItem("Blend…", BLEND)
        self.picker.setItemData(self.picker.count() - 1, "A blend of two styles, as much of each as you like",
                                Qt.ItemDataRole.ToolTipRole)
        self.style_a.setCurrentIndex(0)
        self.style_b.setCurrentIndex(min(1, len(names) - 1))
        for w in (self.picker, self.style_a, self.style_b):
            w.blockSignals(False)
        self.slider.blockSignals(True)
        self.slider.setValue(50)
        self.slider.blockSignals(False)
        self._update_weights()
        self.blend_box.setVisible(False)

    # ----------------------------------------------------------------------------------- what is chosen
    def mode(self) -> str:
        """EACH, BLEND or a style's name."""
        data = self.picker.currentData()
        return data if isinstance(data, str) else EACH

    def is_blend(self) -> bool:
        return bool(self.names) and self.mode() == BLEND

    def blend_vector(self) -> np.ndarray:
        """The blend of the two boxes at the slider's weight: float32 (S,), summing to 1."""
        t = self.slider.value() / 100
        v = np.zeros(len(self.names), np.float32)
        v[max(self.style_a.currentIndex(), 0)] += 1 - t
        v[max(self.style_b.currentIndex(), 0)] += t
        return v

    def style_vector(self) -> np.ndarray | None:
        """The style asked for as weights over the styles, or None for each seed's own (and without styles)."""
        mode = self.mode()
        if not self.names or mode == EACH:
            return None
        if mode == BLEND:
            return self.blend_vector()
        v = np.zeros(len(self.names), np.float32)
        v[self.names.index(mode)] = 1
        return v

    def set_style(self, vector: np.ndarray | None) -> None:
        """Show ``vector`` (None: each seed's own): a pure style by its name, else a blend of its two heaviest."""
        if not self.names:
            return
        v = np.asarray(vector, np.float64) if vector is not None else None
        if v is None or v.shape != (len(self.names),) or not v.sum() > 0:  # none, or not one of this model's
            self.picker.setCurrentIndex(0)
            return
        v = v / v.sum()
        order = [int(i) for i in np.argsort(-v, kind="stable")]
        if v[order[0]] > 1 - 1e-6:
            self.picker.setCurrentIndex(self.picker.findData(self.names[order[0]]))
            return
        a, b = sorted(order[:2])
        for w in (self.style_a, self.style_b, self.slider):
            w.blockSignals(True)
        self.style_a.setCurrentIndex(a)
        self.style_b.setCurrentIndex(b)
        self.slider.setValue(round(100 * v[b] / (v[a] + v[b])))
        for w in (self.style_a, self.style_b, self.slider):
            w.blockSignals(False)
        self._update_weights()
        self.picker.setCurrentIndex(self.picker.findData(BLEND))

    def description(self) -> str:
        """What is chosen, in words: "each seed's own style", 'monet', 'monet 60% · song 40%'."""
        vector = self.style_vector()
        return "each seed's own style" if vector is None else weights_text(self.names, vector)

    # ---------------------------------------------------------------------------------------- changes
    def _update_weights(self) -> None:
        if self.names:
            self.weights.setText(weights_text(self.names, self.blend_vector()))

    @Slot(int)
    def _picker_changed(self, _index: int) -> None:
        self.blend_box.setVisible(self.is_blend())
        self.picked.emit()

    @Slot(int)
    def _blend_styles_changed(self, _index: int) -> None:
        self._update_weights()
        if self.is_blend():
            self.picked.emit()

    @Slot(int)
    def _slider_moved(self, _value: int) -> None:
        self._update_weights()
        if self.is_blend():
            self.blend_moved.emit()


class StyleBar(QFrame):
    """The gallery's row of style controls: the chooser, the blend's live preview (of the sample ``preview_seed``
    gives) and the style grid button. Hidden for a model without styles."""

    page_wanted = Signal()  # the page should be drawn again, in the style now chosen
    preview_ready = Signal()  # the blend preview shows the blend now chosen
    grid_requested = Signal()

    def __init__(self, host, preview_seed: Callable[[], int | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("styleBar")
        self.setStyleSheet(BAR_STYLE)
        self.host, self.preview_seed = host, preview_seed
        self.chooser = StyleChooser()
        self.chooser.picked.connect(self._picked)
        self.chooser.blend_moved.connect(self._blend_moved)
        self.preview = ImageView()
        self.preview.setMinimumSize(PREVIEW_SIDE, PREVIEW_SIDE)
        self.preview.setFixedSize(PREVIEW_SIDE, PREVIEW_SIDE)
        self.preview.set_pixel_exact(True)
        self.preview.setVisible(False)
        self.preview_seed_shown: int | None = None
        self.preview_label = ""  # the style label of the picture in the preview
        self.grid_button = QPushButton("Style Grid…")
        set_tip(self.grid_button, "The page's seeds (or those selected) painted in every style: a row per style, "
                                  "the same composition down each column")
        self.grid_button.clicked.connect(self.grid_requested)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(label("Style"))
        row.addWidget(self.chooser)
        row.addWidget(self.preview)
        row.addStretch(1)
        row.addWidget(self.grid_button)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_MS)
        self._preview_timer.timeout.connect(self.render_preview)
        self._page_timer = QTimer(self)
        self._page_timer.setSingleShot(True)
        self._page_timer.setInterval(PAGE_MS)
        self._page_timer.timeout.connect(self.page_wanted)
        self._preview_task: Task | None = None
        self._preview_generation = 0
        self.setVisible(False)

    def set_styles(self, names: Sequence[str]) -> None:
        """The model's styles (none: the bar hides)."""
        self.chooser.set_styles(names)
        self.preview.setVisible(self.chooser.is_blend())
        self.setVisible(bool(names))
        if not names:
            self.stop()

    def stop(self) -> None:
        """Forget pending redraws (another run is opened, or the panel closes)."""
        self._preview_timer.stop()
        self._page_timer.stop()
        self._preview_generation += 1
        if self._preview_task is not None:
            self._preview_task.cancel()

    @Slot()
    def _picked(self) -> None:
        self._page_timer.stop()
        blend = self.chooser.is_blend()
        self.preview.setVisible(blend)
        if blend:
            self.render_preview()
        self.page_wanted.emit()

    @Slot()
    def _blend_moved(self) -> None:
        self._preview_timer.start()
        self._page_timer.start()

    @Slot()
    def render_preview(self) -> Task | None:
        """Draw the blend now chosen for the preview's sample (off the GUI thread); the task, or None."""
        self._preview_timer.stop()
        seed, vector = self.preview_seed(), self.chooser.style_vector()
        if seed is None or vector is None or self.host.generator is None or not self.chooser.is_blend():
            return None
        self._preview_generation += 1
        generation = self._preview_generation
        if self._preview_task is not None:
            self._preview_task.cancel()
        task = self.host.render([seed], vector)
        task.done.connect(lambda result, g=generation: self._on_preview(g, result))
        self._preview_task = task
        return task

    def _on_preview(self, generation: int, result: list) -> None:
        if generation != self._preview_generation or not result:
            return
        seed, image, style = result[0]
        self.preview_seed_shown, self.preview_label = seed, style
        self.preview.set_image(image)
        self.preview.setToolTip(f"Seed {seed} in {weights_text(self.chooser.names, self.chooser.blend_vector())}: "
                                f"the page follows when the slider rests")
        self.preview_ready.emit()


# ------------------------------------------------------------------------------------------- style grid
class StyleGridDialog(QDialog):
    """The same seeds painted in every style: a row per style, a column per seed."""

    ready = Signal()  # the grid is drawn

    def __init__(self, host, seeds: Sequence[int], parent: QWidget | None = None, pixel_exact: bool = True,
                 folder: Path | None = None) -> None:
        super().__init__(parent)
        self.seeds = [int(s) for s in seeds]
        self.pixel_exact = pixel_exact
        self.folder = Path(folder) if folder is not None else Path.home()
        self.run_name = host.run_dir.name if host.run_dir is not None else "run"
        self.labels: list[str] = []
        self.cells: np.ndarray | None = None  # uint8 (styles, seeds, H, W, C)
        self.cell_labels: dict[tuple[int, int], QLabel] = {}
        self.save_task: Task | None = None
        self.setWindowTitle(f"Style grid: {self.run_name}")
        rows = len(host.generator.styles) if host.generator is not None else 3
        self.resize(min(140 + len(self.seeds) * (GRID_CELL + 6), 1100), min(150 + rows * (GRID_CELL + 6), 820))
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(6)
        self.grid.addWidget(label("Painting each seed in every style…", "hint"), 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        note = label("Each column is one seed: the same noise, so the same composition, painted in each style.",
                     "hint")
        note.setWordWrap(True)
        self.saved = label("", "hint")
        self.saved.setWordWrap(True)
        self.save_button = QPushButton("Save Sheet…")
        self.save_button.setToolTip("Save the grid as one PNG contact sheet (rows = styles, columns = seeds)")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(lambda: self.save_sheet())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addWidget(scroll, 1)
        col.addWidget(note)
        col.addWidget(self.saved)
        col.addWidget(buttons)
        seeds = list(self.seeds)

        def job(generator, progress):
            from gan_studio.style_sheets import style_cells

            names = generator.styles
            rows = []
            for r, name in enumerate(names):  # a row at a time: the dialog's closing cancels between two
                rows.append(style_cells(generator, seeds, [name])[0])
                progress(r + 1, len(names))
            cells = np.stack(rows)
            return names, cells, [[qimage_from_array(im) for im in row] for row in cells]

        self.task: Task = host.submit(job)
        self.task.done.connect(self._on_cells)
        self.task.failed.connect(lambda m: self.grid.addWidget(label(m, "error"), 1, 0))

    def _cell_pixmap(self, image: QImage) -> QPixmap:
        pm = QPixmap.fromImage(image)
        return scaled_pixmap(pm, fit_factor(pm.size(), QSize(GRID_CELL, GRID_CELL), self.pixel_exact),
                             self.pixel_exact)

    @Slot(object)
    def _on_cells(self, result) -> None:
        self.labels, self.cells, images = result
        reset_seed_grid(self.grid, self.seeds)
        for r, (name, row) in enumerate(zip(self.labels, images)):
            title = label(name, "subheading")
            title.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.grid.addWidget(title, r + 1, 0)
            for c, image in enumerate(row):
                cell = QLabel()
                cell.setFixedSize(GRID_CELL, GRID_CELL)
                cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setPixmap(self._cell_pixmap(image))
                cell.setToolTip(f"seed {self.seeds[c]} in the style {name}")
                self.grid.addWidget(cell, r + 1, c + 1)
                self.cell_labels[(r, c)] = cell
        self.grid.setRowStretch(len(self.labels) + 1, 1)
        self.grid.setColumnStretch(len(self.seeds) + 1, 1)
        self.save_button.setEnabled(True)
        self.ready.emit()

    def ask_sheet_path(self, suggested: Path) -> Path | None:
        """Ask where to save the sheet; None if cancelled. Tests replace this method."""
        path, _ = QFileDialog.getSaveFileName(self, "Save Style Grid", str(suggested), "PNG image (*.png)")
        return Path(path) if path else None

    def save_sheet(self) -> Task | None:
        """Write the grid as one PNG contact sheet (on the work pool, atomically); the task, or None."""
        if self.cells is None:
            return None
        folder = self.folder if self.folder.is_dir() else Path.home()
        path = self.ask_sheet_path(folder / f"{self.run_name}-style_grid.png")
        if path is None:
            return None
        path = path if path.suffix.lower() == ".png" else path.with_name(path.name + ".png")
        cells = self.cells

        def job(progress):
            from gan_studio.errors import GanStudioError
            from gan_studio.export import save_grid

            try:  # the export's contact sheet: a row per style, a column per seed
                return save_grid(cells.reshape(-1, *cells.shape[2:]), path, columns=cells.shape[1])
            except OSError as e:
                raise GanStudioError(f"could not write {path}: {e.strerror or e}") from None

        task = Task(job, "work", self)
        task.done.connect(lambda p: self.saved.setText(f"Saved {p}"))
        task.failed.connect(lambda m: self.saved.setText(f"Could not save the sheet: {m}"))
        self.save_task = task.start()
        return task

    def done(self, result: int) -> None:
        self.task.cancel()
        super().done(result)


# ------------------------------------------------------------------------------------------- style walk
class StyleWalkDialog(WalkDialog):
    """One seed walking from style to style (and back to the first), played round and round; saved as a GIF."""

    def __init__(self, host, seed: int, names: Sequence[str], parent: QWidget | None = None,
                 pixel_exact: bool = False, folder: Path | None = None,
                 frames_per_leg: int = WALK_FRAMES_PER_LEG) -> None:
        from gan_studio.style_sheets import style_walk_weights

        names = list(names)
        route = " → ".join(names + names[:1])
        super().__init__(f"Walk between styles: seed {seed}", names[0], f"back to {names[0]}",
                         f"Seed {seed} painted along {route}: the same noise throughout, only the style moves.",
                         f"style_walk_seed_{seed}.gif", parent, pixel_exact, folder, bounce=False,
                         placeholder="Painting the seed in each style…")
        self.seed, self.names = seed, names
        eye = np.eye(len(names), dtype=np.float32)
        legs = [(eye[i], eye[(i + 1) % len(names)]) for i in range(len(names))]
        self.weights = [(1 - t) * a + t * b for a, b in legs for t in style_walk_weights(frames_per_leg)]

        def job(generator, progress):
            from gan_studio.style_sheets import style_walk_frames

            return [qimage_from_array(f) for f in style_walk_frames(generator, seed, names, frames_per_leg)]

        self.start(host.submit(job))

    def caption(self, i: int) -> str:
        return weights_text(self.names, self.weights[i]) if i < len(self.weights) else super().caption(i)

    @staticmethod
    def write_gif(path: Path, arrays: list[np.ndarray], pixel_exact: bool, bounce: bool) -> Path:
        from gan_studio.style_sheets import save_style_walk_gif

        return save_style_walk_gif(path, arrays, FRAME_MS, pixel_exact)


# ------------------------------------------------------------------------------- the gallery's part of it
class GalleryStyles:
    """The style controls of GalleryPanel (a mixin: the panel owns the host, the model, the page and settings)."""

    def _build_style_controls(self) -> StyleBar:
        """The style bar (for the row under the page bar) and the walk button (for the detail pane)."""
        self.style_bar = StyleBar(self.host, self._preview_seed)
        self.style_bar.page_wanted.connect(self._restyle_page)
        self.style_bar.grid_requested.connect(lambda: self.show_style_grid())
        self.style_bar.chooser.blend_moved.connect(self._page_outdated)
        self.style_walk_button = QPushButton("Walk Between Styles…")
        set_tip(self.style_walk_button, "The selected sample walking from style to style (the same seed "
                                        "throughout), played and saved as an animated GIF")
        self.style_walk_button.clicked.connect(lambda: self.walk_styles())
        self.style_walk_button.setVisible(False)
        self.style_grid_dialog: StyleGridDialog | None = None
        self.style_walk_dialog: StyleWalkDialog | None = None
        return self.style_bar

    def style_names(self) -> list[str]:
        """The styles of the model on show (none without a generator or for an unconditional model)."""
        generator = self.host.generator
        return list(generator.styles) if generator is not None else []

    def style_vector(self) -> np.ndarray | None:
        """The style the gallery draws: weights over the styles, or None for each seed's own (and without styles)."""
        return self.style_bar.chooser.style_vector() if self.style_names() else None

    def set_style(self, vector: np.ndarray | None) -> None:
        """Draw the gallery in ``vector`` (None: each seed's own style)."""
        self.style_bar.chooser.set_style(vector)

    def _styles_loaded(self, generator) -> None:
        names = list(generator.styles) if generator is not None else []
        self.style_bar.set_styles(names)
        self.style_walk_button.setVisible(bool(names))

    def _styles_closed(self) -> None:
        """Another run is opened: no style controls until its generator says what styles it has."""
        self.style_bar.stop()
        self.style_bar.set_styles([])
        self.style_walk_button.setVisible(False)

    def _restyle_page(self) -> None:
        """Paint the page on show in the style now chosen: the samples (and the selection) stay, and each picture
        is replaced when its new one comes."""
        if self.run_dir is not None:
            self._render_page(self.model.seeds())

    def _page_outdated(self) -> None:
        """The blend moved: a page still being drawn in the old blend would only hold up the preview."""
        if self._render_task is not None and self._render_task.running:
            self._generation += 1
            self._render_task.cancel()

    def _preview_seed(self) -> int | None:
        seed = self._current_seed()
        if seed is None:
            seeds = self.model.seeds()
            seed = seeds[0] if seeds else None
        return seed

    def _style_caption(self, seed: int) -> str:
        item = self.model.item(seed)
        return f" · {item.style}" if item is not None and item.style else ""

    def show_style_grid(self, seeds: Sequence[int] | None = None) -> StyleGridDialog | None:
        """The style grid of ``seeds`` (default: those selected, else the page's first GRID_SEEDS)."""
        if not self.style_names():
            return None
        if not seeds:
            selected = self.selected_seeds()
            seeds = selected if len(selected) > 1 else self.model.seeds()[:GRID_SEEDS]
        elif len(seeds) == 1:  # one seed and the page's next ones, so the rows compare more than one picture
            page = self.model.seeds()
            start = page.index(seeds[0]) if seeds[0] in page else 0
            seeds = list(dict.fromkeys([seeds[0]] + page[start:start + GRID_SEEDS]))[:GRID_SEEDS]
        folder = self.settings.text(KEY_SAVE_FOLDER)
        self.style_grid_dialog = StyleGridDialog(self.host, list(seeds)[:GRID_MAX_SEEDS], self,
                                                 self.pixel_exact.isChecked(), Path(folder) if folder else None)
        self.style_grid_dialog.show()
        return self.style_grid_dialog

    def walk_styles(self, seed: int | None = None) -> StyleWalkDialog | None:
        """The walk between every style of ``seed`` (the selected sample by default)."""
        names = self.style_names()
        seed = self._current_seed() if seed is None else seed
        if not names or seed is None:
            self.status.emit("Select a sample to walk between the styles")
            return None
        folder = self.settings.text(KEY_SAVE_FOLDER)
        self.style_walk_dialog = StyleWalkDialog(self.host, seed, names, self, self.pixel_exact.isChecked(),
                                                 Path(folder) if folder else None)
        self.style_walk_dialog.show()
        return self.style_walk_dialog
