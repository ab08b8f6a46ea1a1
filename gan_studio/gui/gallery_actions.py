"""What a user does with one sample of the gallery: open it full screen, copy it, drag it out, save it, and the
context menu that offers them. A mixin of GalleryPanel (gan_studio.gui.gallery), which owns the state these
read: the model of samples, the open run, the generator host, the settings and the status signal.

A conditional model's sample carries its style (or blend) wherever it goes: in the file's name
(seed_000005_monet.png) and in its PNG metadata ("style"), as exports write them."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QMimeData, QPoint, QStandardPaths, QUrl, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMenu

from gan_studio.errors import GanStudioError
from gan_studio.gui.gallery_model import SeedRole
from gan_studio.gui.gallery_view import drag_folder, sample_bytes, write_sample
from gan_studio.gui.imaging import array_from_qimage
from gan_studio.gui.tasks import Task

KEY_SAVE_FOLDER = "gallery/save_folder"  # where Save Image As last saved (the user's settings)


class GallerySampleActions:
    """Viewer, copy, drag, save and context menu of the gallery's samples (see the module docstring)."""

    def open_viewer(self, seed: int | None = None):
        """The full-screen viewer on ``seed`` (the selected sample by default), over this page's seeds."""
        from gan_studio.gui.viewer import SampleViewer

        seed = self._current_seed() if seed is None else seed
        row = self.model.row_of(seed) if seed is not None else -1
        if row < 0:
            return None
        if self.viewer is not None:
            self.viewer.go(row)
            self.viewer.show_full_screen()
            return self.viewer
        viewer = SampleViewer(self.model, row, self.describe, self)
        viewer.seed_changed.connect(self._viewer_moved)
        viewer.favourite_requested.connect(self.toggle_favourite)
        viewer.copy_requested.connect(self.copy_image)
        viewer.save_requested.connect(self.save_image_as)
        viewer.closed.connect(self._viewer_closed)
        self.viewer = viewer
        viewer.show_full_screen()
        return viewer

    @Slot(int)
    def _viewer_moved(self, seed: int) -> None:
        row = self.model.row_of(seed)
        if row >= 0:
            index = self.model.index(row)
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index)

    @Slot()
    def _viewer_closed(self) -> None:
        self.viewer = None
        self.activateWindow()
        self.view.setFocus()

    def copy_image(self, seed: int | None = None) -> bool:
        """Put the sample's picture (full resolution) on the clipboard, as an image."""
        item = self._sample(seed)
        if item is None:
            self.status.emit("Select a sample (once it is drawn) to copy it")
            return False
        if item.style and self.run_dir is not None:
            # a styled sample also goes as a PNG file's bytes, whose metadata name its seed, run, step and style
            mime = QMimeData()
            mime.setImageData(item.image)
            mime.setData("image/png", sample_bytes(array_from_qimage(item.image), item.seed, self.run_dir.name,
                                                   self.host.step, style=item.style))
            QGuiApplication.clipboard().setMimeData(mime)
        else:
            QGuiApplication.clipboard().setImage(item.image)
        style = f", {item.style}" if item.style else ""
        self.status.emit(f"Copied seed {item.seed}{style} ({item.image.width()} × {item.image.height()} px)")
        return True

    def drag_mime(self, seeds: list[int]) -> QMimeData | None:
        """What a drag of ``seeds`` out of the gallery carries: each as a PNG file (seed, run and step in its
        metadata) in a temporary folder, as file URLs, and the first one's picture itself."""
        from gan_studio.export import save_images

        items = [item for item in (self._sample(s) for s in seeds) if item is not None]
        if not items or self.run_dir is None:
            return None
        try:
            folder = drag_folder()
            paths = [save_images(array_from_qimage(item.image)[None], [item.seed], folder, run_name=self.run_dir.name,
                                 step=self.host.step, overwrite=True, styles=[item.style] if item.style else None)[0]
                     for item in items]
        except (GanStudioError, OSError) as e:
            self.status.emit(f"Could not prepare the image to drag: {e}")
            return None
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
        mime.setImageData(items[0].image)
        return mime

    def ask_save_path(self, suggested: Path) -> Path | None:
        """Ask where to save an image (Qt's save dialog, which asks before replacing a file); None if cancelled.
        Tests replace this method."""
        dialog = QFileDialog(self, "Save Image As", str(suggested), "PNG image (*.png);;JPEG image (*.jpg *.jpeg)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setDefaultSuffix("png")
        if dialog.exec() != QFileDialog.DialogCode.Accepted or not dialog.selectedFiles():
            return None
        return Path(dialog.selectedFiles()[0])

    def save_image_as(self, seed: int | None = None) -> Task | None:
        """Save the sample (full resolution) where the user says, with its seed, run, step (and style) in the file;
        the writing runs on the work pool and is atomic. Returns the task, or None when nothing is written."""
        item = self._sample(seed)
        if item is None or self.run_dir is None:
            self.status.emit("Select a sample (once it is drawn) to save it")
            return None
        folder = Path(self.settings.text(KEY_SAVE_FOLDER) or
                      QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation) or Path.home())
        if not folder.is_dir():
            folder = Path.home()
        from gan_studio.export import image_name

        path = self.ask_save_path(folder / f"{self.run_dir.name}-{image_name(item.seed, 'png', item.style)}")
        if path is None:
            return None
        path = Path(path)
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            path = path.with_name(path.name + ".png")
            if path.exists():  # the dialog asked about another name: never replace this one unasked
                self.status.emit(f"{path} already exists; not replaced")
                return None
        self.settings.set_text(KEY_SAVE_FOLDER, str(path.parent))
        array, seed, run_name, step = array_from_qimage(item.image), item.seed, self.run_dir.name, self.host.step
        style = item.style
        task = Task(lambda progress: write_sample(array, seed, run_name, step, path, style), "work", self)
        task.done.connect(lambda p: self.status.emit(f"Saved seed {seed} as {p}"))
        task.failed.connect(lambda m: self.status.emit(f"Could not save the image: {m}"))
        self._save_task = task.start()
        return task

    # ------------------------------------------------------------------------------ context menu
    def context_menu(self, seed: int) -> QMenu:
        """The menu of one sample: view, copy, save, favourite."""
        item = self._sample(seed)
        ready = item is not None
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        actions = (
            ("Open in Viewer\tSpace", lambda: self.open_viewer(seed), "Full screen, pixel-exact; arrows for the "
                                                                       "other seeds, Esc to close"),
            ("Copy Image\tCtrl+C", lambda: self.copy_image(seed), "The picture at full resolution"),
            ("Save Image As…\tCtrl+S", lambda: self.save_image_as(seed), "A PNG with its seed, run and step"),
        )
        for text, slot, tip in actions:
            a = menu.addAction(text)
            a.setToolTip(tip)
            a.setEnabled(ready)
            a.triggered.connect(slot)
        menu.addSeparator()
        fav = seed in self.favourites
        a = menu.addAction(("Remove from Favourites" if fav else "Mark as Favourite") + "\tF")
        a.triggered.connect(lambda: self.toggle_favourite(seed))
        if self.style_names():  # a conditional model: this seed in each style
            menu.addSeparator()
            a = menu.addAction("Walk Between Styles…")
            a.setToolTip("This seed walking from style to style, saved as an animated GIF")
            a.triggered.connect(lambda: self.walk_styles(seed))
            a = menu.addAction("Style Grid…")
            a.setToolTip("This seed and the page's next ones in every style")
            a.triggered.connect(lambda: self.show_style_grid([seed]))
        return menu

    @Slot(QPoint)
    def show_context_menu(self, pos: QPoint) -> QMenu | None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return None
        if not self.view.selectionModel().isSelected(index):
            self.view.setCurrentIndex(index)
        else:
            self.view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
        if self.menu is not None:
            self.menu.deleteLater()
        self.menu = self.context_menu(index.data(SeedRole))
        self.menu.popup(self.view.viewport().mapToGlobal(pos))
        return self.menu
