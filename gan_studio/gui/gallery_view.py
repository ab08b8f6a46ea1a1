"""The gallery's grid of samples (its keys, and drags that carry a sample out as a PNG file) and the helpers that
write a sample to a file with its seed, run and step."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QDrag, QKeySequence, QPixmap
from PySide6.QtWidgets import QListView, QWidget

from gan_studio.errors import GanStudioError
from gan_studio.gui.imaging import fit_factor, scaled_pixmap

DRAG_ICON = 96  # the longest side of the picture under the pointer while dragging a sample out

_drag_root: Path | None = None


def drag_folder() -> Path:
    """A fresh folder for the files of one drag out of the gallery, under a private temporary folder of this
    process (removed when the app exits; by then every drop has taken its copy)."""
    global _drag_root
    if _drag_root is None or not _drag_root.is_dir():
        _drag_root = Path(tempfile.mkdtemp(prefix="gan-studio-drag-"))
        atexit.register(shutil.rmtree, _drag_root, True)
    return Path(tempfile.mkdtemp(prefix="", dir=_drag_root))


def sample_bytes(array: np.ndarray, seed: int, run_name: str, step: int, fmt: str = "png", style: str = "") -> bytes:
    """One sample (uint8 H x W x C) as the bytes of a PNG (or JPEG) file with its seed, run, step and a conditional
    model's ``style`` in its metadata, exactly as exports write them (gan_studio.export.save_images)."""
    from gan_studio.export import save_images

    with tempfile.TemporaryDirectory(prefix="gan-studio-save-") as tmp:
        [written] = save_images(array[None], [seed], Path(tmp), run_name=run_name, step=step, fmt=fmt,
                                styles=[style] if style else None)
        return written.read_bytes()


def write_sample(array: np.ndarray, seed: int, run_name: str, step: int, path: Path, style: str = "") -> Path:
    """One sample (uint8 H x W x C) as ``path``: PNG, or JPEG for a .jpg/.jpeg name, with its seed, run and step
    (and a conditional model's ``style``) in the file's metadata exactly as exports write them
    (gan_studio.export.save_images); written atomically, so a failure never leaves a half-written file under that
    name."""
    from gan_studio.fileio import atomic_save

    path = Path(path)
    fmt = "jpg" if path.suffix.lower() in (".jpg", ".jpeg") else "png"
    data = sample_bytes(array, seed, run_name, step, fmt, style)
    try:
        atomic_save(path, lambda f: f.write(data))
    except OSError as e:
        raise GanStudioError(f"could not write {path}: {e.strerror or e}") from None
    return path


class GalleryView(QListView):
    """The grid of samples, with the gallery's keys (handled before the item view's own: Ctrl+C would copy the
    text 'seed N'), and drags that carry the sample out as a PNG file (the model's mimeData)."""

    open_requested = Signal()  # double-click, Space, Enter or F11 on a sample
    copy_requested = Signal()  # Ctrl+C
    save_requested = Signal()  # Ctrl+S

    OPEN_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F11)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doubleClicked.connect(lambda index: self.open_requested.emit() if index.isValid() else None)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt naming
        has_current = self.currentIndex().isValid()
        plain = (event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier) == Qt.KeyboardModifier.NoModifier
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
        elif event.matches(QKeySequence.StandardKey.Save):
            self.save_requested.emit()
        elif plain and event.key() in self.OPEN_KEYS and has_current:
            self.open_requested.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def startDrag(self, supported_actions) -> None:  # noqa: N802
        indexes = [i for i in self.selectedIndexes() if i.flags() & Qt.ItemFlag.ItemIsDragEnabled]
        if not indexes:
            return
        current = self.currentIndex()
        if current in indexes:  # the sample under the pointer first: its image is the one the drag carries
            indexes.remove(current)
            indexes.insert(0, current)
        mime = self.model().mimeData(indexes)
        if mime is None:
            return
        drag = QDrag(self)
        drag.setMimeData(mime)
        pm = indexes[0].data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pm, QPixmap) and not pm.isNull():
            icon = scaled_pixmap(pm, fit_factor(pm.size(), QSize(DRAG_ICON, DRAG_ICON), True), True)
            drag.setPixmap(icon)
            drag.setHotSpot(QPoint(icon.width() // 2, icon.height() // 2))
        drag.exec(Qt.DropAction.CopyAction, Qt.DropAction.CopyAction)
