"""Two gallery windows: a latent walk between two samples (played as an animation, scrubbed with a slider, saved
as an animated GIF), and a comparison of checkpoints (the same seeds drawn by each saved checkpoint, plus the
run's sample grids over training on a timeline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gan_studio.gui.imaging import ImageView, array_from_qimage, qimage_from_array, scaled_image
from gan_studio.gui.tasks import Task
from gan_studio.gui.widgets import label

FRAMES = 24
FRAME_MS = 90  # how long each frame of the walk shows, in the dialog and in its GIF


def gif_frames(images: list[np.ndarray], pixel_exact: bool, bounce: bool = True):
    """The walk's frames (uint8 H x W x C) as RGB pictures for a GIF, played there and back as the dialog plays
    them (only forth with ``bounce`` off: a walk that loops by itself). Their long side is brought within the
    export's GIF sizes: by a whole factor, nearest neighbour, when ``pixel_exact`` (sharp pixels), else smoothly as
    exported GIFs are."""
    from gan_studio.export import gif_pictures

    frames = gif_pictures(images, pixel_exact)
    return frames + frames[-2:0:-1] if bounce else frames


def reset_seed_grid(grid: QGridLayout, seeds: list[int]) -> None:
    """Empty ``grid`` and head its columns 1.. with the seeds: the frame of a sheet whose rows are checkpoints or
    styles (column 0 holds each row's name)."""
    while grid.count():
        w = grid.takeAt(0).widget()
        if w is not None:
            w.deleteLater()
    for c, seed in enumerate(seeds):
        head = label(f"seed {seed}", "hint")
        head.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid.addWidget(head, 0, c + 1)


class WalkDialog(QDialog):
    """An animation of generated frames: played (there and back, or round and round), scrubbed with a slider and
    saved as a looping animated GIF. ``start`` gives it the task that draws the frames ([QImage])."""

    def __init__(self, title: str, start_text: str, end_text: str, note: str, gif_name: str,
                 parent: QWidget | None = None, pixel_exact: bool = False, folder: Path | None = None,
                 bounce: bool = True, placeholder: str = "Walking from one sample to the other…") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(560, 620)
        self.gif_name, self.bounce = gif_name, bounce
        self.folder = Path(folder) if folder is not None else Path.home()
        self.images: list[QImage] = []  # the generator's frames at full resolution
        self.frames: list[QPixmap] = []
        self.index, self.direction = 0, 1
        self.gif_task: Task | None = None
        self.task: Task | None = None
        self.view = ImageView(placeholder)
        self.view.set_pixel_exact(pixel_exact)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, FRAMES - 1)
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self._show)
        self.play = QPushButton("Pause")
        self.play.setEnabled(False)
        self.play.clicked.connect(self._toggle)
        self.save_gif_button = QPushButton("Save GIF…")
        self.save_gif_button.setEnabled(False)
        self.save_gif_button.setToolTip("Save the walk as a looping animated GIF" +
                                        (" (there and back)" if bounce else ""))
        self.save_gif_button.clicked.connect(lambda: self.save_gif())
        self.saved = label("", "hint")
        self.saved.setWordWrap(True)
        self.note = label(note, "hint")
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(label(start_text, "hint"))
        row.addWidget(self.slider, 1)
        row.addWidget(label(end_text, "hint"))
        row.addWidget(self.play)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.addButton(self.save_gif_button, QDialogButtonBox.ButtonRole.ActionRole)
        close.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addWidget(self.view, 1)
        col.addLayout(row)
        col.addWidget(self.note)
        col.addWidget(self.saved)
        col.addWidget(close)
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)

    def start(self, task: Task) -> Task:
        """Show the frames ``task`` draws (its result: [QImage]) once they arrive."""
        self.task = task
        task.done.connect(self._on_frames)
        task.failed.connect(lambda m: self.view.set_image(None, m))
        return task

    @Slot(object)
    def _on_frames(self, images: list[QImage]) -> None:
        self.images = list(images)
        self.frames = [QPixmap.fromImage(im) for im in images]  # the view scales them (pixel-exact or smooth)
        self.slider.setRange(0, max(len(self.frames) - 1, 0))
        self.slider.setEnabled(True)
        self.play.setEnabled(True)
        self.save_gif_button.setEnabled(True)
        self._show(0)
        self.timer.start()

    def caption(self, i: int) -> str:
        return f"frame {i + 1} of {len(self.frames)}"

    def _show(self, i: int) -> None:
        if self.frames:
            self.index = i
            self.view.set_image(self.frames[i], self.caption(i))
            if self.slider.value() != i:
                self.slider.blockSignals(True)
                self.slider.setValue(i)
                self.slider.blockSignals(False)

    def _tick(self) -> None:
        i = self.index + self.direction
        if not self.bounce:
            i %= max(len(self.frames), 1)
        elif i < 0 or i >= len(self.frames):
            self.direction = -self.direction
            i = self.index + self.direction
        self._show(max(0, min(i, len(self.frames) - 1)))

    def _toggle(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.play.setText("Play")
        else:
            self.timer.start()
            self.play.setText("Pause")

    def ask_gif_path(self, suggested: Path) -> Path | None:
        """Ask where to save the GIF (Qt's save dialog, which asks before replacing a file); None if cancelled.
        Tests replace this method."""
        dialog = QFileDialog(self, "Save Walk as GIF", str(suggested), "GIF animation (*.gif)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("gif")
        if dialog.exec() != QFileDialog.DialogCode.Accepted or not dialog.selectedFiles():
            return None
        return Path(dialog.selectedFiles()[0])

    @staticmethod
    def write_gif(path: Path, arrays: list[np.ndarray], pixel_exact: bool, bounce: bool) -> Path:
        """Write the frames as a GIF at ``path`` (on a pool thread)."""
        from gan_studio.export import save_gif

        return save_gif(path, gif_frames(arrays, pixel_exact, bounce), FRAME_MS)

    def save_gif(self) -> Task | None:
        """Write the walk as a looping animated GIF (on the work pool, atomically); the task, or None."""
        if not self.images:
            return None
        folder = self.folder if self.folder.is_dir() else Path.home()
        path = self.ask_gif_path(folder / self.gif_name)
        if path is None:
            return None
        path = Path(path)
        if path.suffix.lower() != ".gif":
            path = path.with_name(path.name + ".gif")
            if path.exists():  # the dialog asked about another name: never replace this one unasked
                self.saved.setText(f"{path} already exists; not replaced")
                return None
        arrays = [array_from_qimage(im) for im in self.images]
        pixel_exact, bounce, write = self.view.pixel_exact(), self.bounce, self.write_gif

        def job(progress):
            from gan_studio.errors import GanStudioError

            try:
                return write(path, arrays, pixel_exact, bounce)
            except OSError as e:
                raise GanStudioError(f"could not write {path}: {e.strerror or e}") from None

        self.saved.setText("Saving the GIF…")
        self.save_gif_button.setEnabled(False)
        task = Task(job, "work", self)
        task.done.connect(lambda p: self.saved.setText(f"Saved {p}"))
        task.failed.connect(lambda m: self.saved.setText(f"Could not save the GIF: {m}"))
        task.finished.connect(lambda: self.save_gif_button.setEnabled(True))
        self.gif_task = task.start()
        return task

    def done(self, result: int) -> None:
        self.timer.stop()
        if self.task is not None:
            self.task.cancel()
        super().done(result)


class InterpolationDialog(WalkDialog):
    """A latent walk between two samples: spherical interpolation of their noise, played there and back."""

    def __init__(self, host, seed_a: int, seed_b: int, parent: QWidget | None = None, pixel_exact: bool = False,
                 folder: Path | None = None) -> None:
        super().__init__(f"Latent walk: seed {seed_a} → seed {seed_b}", f"seed {seed_a}", f"seed {seed_b}",
                         "Spherical interpolation between the two noise vectors: every frame is a picture the "
                         "generator could have drawn.", f"latent_walk_seed_{seed_a}_to_{seed_b}.gif", parent,
                         pixel_exact, folder)
        self.seeds = (seed_a, seed_b)
        self.start(host.interpolate(seed_a, seed_b, FRAMES))


class CompareDialog(QDialog):
    def __init__(self, run_dir: Path, seeds: list[int], device: str = "cpu", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from gan_studio.engine import RunDir

        self.run = RunDir.open(run_dir)
        self.seeds = seeds
        self.setWindowTitle(f"Compare checkpoints: {self.run.path.name}")
        self.resize(900, 620)
        tabs = QTabWidget()

        # the same seeds, drawn by every checkpoint
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(6)
        self.grid.addWidget(label("Drawing the samples with each checkpoint…", "hint"), 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        tabs.addTab(scroll, "Checkpoints")

        # the fixed-noise grids saved while training
        timeline = QWidget()
        tc = QVBoxLayout(timeline)
        self.grids = self.run.sample_grids()
        self.timeline_view = ImageView("This run saved no sample grids yet")
        self.timeline_slider = QSlider(Qt.Orientation.Horizontal)
        self.timeline_slider.setRange(0, max(len(self.grids) - 1, 0))
        self.timeline_slider.valueChanged.connect(self._show_grid)
        tc.addWidget(self.timeline_view, 1)
        tc.addWidget(self.timeline_slider)
        tabs.addTab(timeline, "Training timeline")
        if self.grids:
            self.timeline_slider.setValue(len(self.grids) - 1)
            self._show_grid(len(self.grids) - 1)

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addWidget(tabs, 1)
        col.addWidget(close)

        checkpoints = [(f"step {step:,}", path) for step, path in self.run.checkpoint_list()]
        if self.run.best_checkpoint.is_file():
            checkpoints.append(("best", self.run.best_checkpoint))
        run_path = self.run.path

        def job(progress):
            from gan_studio.engine import load_generator

            rows = []
            for i, (name, path) in enumerate(checkpoints):
                gen = load_generator(run_path, checkpoint=path, device=device)
                if name == "best":
                    name = f"best (step {gen.step:,})"
                rows.append((name, [qimage_from_array(im) for im in gen.images(seeds)]))
                progress(i + 1, len(checkpoints))
            return rows

        self.task = Task(job, "gallery", self).start()
        self.task.done.connect(self._on_rows)
        self.task.failed.connect(lambda m: self.grid.addWidget(label(m, "error"), 1, 0))

    @Slot(object)
    def _on_rows(self, rows: list) -> None:
        reset_seed_grid(self.grid, self.seeds)
        for r, (name, images) in enumerate(rows, 1):
            self.grid.addWidget(label(name, "subheading"), r, 0)
            for c, image in enumerate(images):
                cell = QLabel()
                cell.setPixmap(QPixmap.fromImage(scaled_image(image, 96)))
                cell.setToolTip(f"seed {self.seeds[c]}, {name}")
                self.grid.addWidget(cell, r, c + 1)
        if not rows:
            self.grid.addWidget(label("This run has no checkpoint yet.", "hint"), 1, 0)
        self.grid.setRowStretch(len(rows) + 1, 1)
        self.grid.setColumnStretch(len(self.seeds) + 1, 1)

    def _show_grid(self, i: int) -> None:
        if 0 <= i < len(self.grids):
            path = self.grids[i]
            self.timeline_view.set_image(QImage(str(path)), f"step {self.run.grid_step(path):,}")

    def done(self, result: int) -> None:
        self.task.cancel()
        super().done(result)
