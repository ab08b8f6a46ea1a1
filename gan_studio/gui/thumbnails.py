"""Lazy thumbnails for anything that grows: a loader that decodes files off the GUI thread, and the list model
of the dataset grid that asks it only for the rows the view actually paints.

The loader keeps a LIFO queue (what the user scrolled to last is decoded first), decodes with QImageReader at
the thumbnail size (EXIF orientation applied) on the 'thumbs' pool, and sends finished QImages back in small
batches; the GUI thread turns them into QPixmaps and keeps a bounded cache.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QRunnable,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QImage, QImageReader, QPixmap

from gan_studio.gui import tasks

CACHE_SIZE = 4000
BATCH_SECONDS = 0.04


def clipped(path: str, x: int, y: int, w: int, h: int) -> str:
    """A thumbnail key for a part of an image (e.g. a few samples of a preview grid)."""
    return f"{path}#clip={x},{y},{w},{h}"


def read_thumbnail(key: str, side: int) -> QImage:
    """``key`` (a path, or clipped(path, ...)) decoded straight at (at most) side x side, aspect kept; a null
    QImage when it cannot be read."""
    path, _, clip = key.partition("#clip=")
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if clip:
        x, y, w, h = (int(v) for v in clip.split(","))
        reader.setClipRect(QRect(x, y, w, h))
        size = QSize(w, h)
    if size.isValid() and (clip or size.width() > side or size.height() > side):
        # a few samples of a small preview grid are enlarged to fill the thumbnail; whole pictures only shrink
        reader.setScaledSize(size.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return image
    if image.width() > side or image.height() > side:  # formats that ignore setScaledSize
        image = image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    return image


class _Decoder(QRunnable):
    def __init__(self, loader: "ThumbnailLoader") -> None:
        super().__init__()
        self.loader = loader
        self.setAutoDelete(True)

    def run(self) -> None:
        batch, last = [], time.monotonic()
        while True:
            job = self.loader._next_job()
            if job is None:
                break
            path, generation = job
            batch.append((path, read_thumbnail(path, self.loader.side), generation))
            if time.monotonic() - last >= BATCH_SECONDS:
                self.loader._loaded.emit(batch)
                batch, last = [], time.monotonic()
        if batch:
            self.loader._loaded.emit(batch)


class ThumbnailLoader(QObject):
    ready = Signal(str)  # a path whose thumbnail is now in the cache

    _loaded = Signal(list)

    def __init__(self, side: int = 128, workers: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self.workers = workers
        self._lock = threading.Lock()
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()
        self._running = 0
        self._generation = 0
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._failed: set[str] = set()
        self._loaded.connect(self._on_loaded)

    def pixmap(self, path: str) -> QPixmap | None:
        pm = self._cache.get(path)
        if pm is not None:
            self._cache.move_to_end(path)
        return pm

    def failed(self, path: str) -> bool:
        return path in self._failed

    def request(self, path: str) -> None:
        if path in self._cache or path in self._failed:
            return
        with self._lock:
            if path in self._queued:
                self._queue.remove(path)  # move it to the front: the view needs it now
            self._queue.append(path)
            self._queued.add(path)
            start = self._running < self.workers
            if start:
                self._running += 1
        if start:
            tasks.pool("thumbs").start(_Decoder(self))

    def clear(self) -> None:
        """Forget queued work and cached pictures (a new folder); results still in flight are dropped."""
        with self._lock:
            self._queue.clear()
            self._queued.clear()
            self._generation += 1
        self._cache.clear()
        self._failed.clear()

    def pending(self) -> int:
        with self._lock:
            return len(self._queue) + self._running

    # ---------------------------------------------------------------------------------- pool side
    def _next_job(self) -> tuple[str, int] | None:
        with self._lock:
            if not self._queue:
                self._running -= 1  # under the same lock as the empty check: no request is ever stranded
                return None
            path = self._queue.pop()
            self._queued.discard(path)
            return path, self._generation

    # ----------------------------------------------------------------------------------- GUI side
    @Slot(list)
    def _on_loaded(self, batch: list) -> None:
        for path, image, generation in batch:
            if generation != self._generation:
                continue
            if image.isNull():
                self._failed.add(path)
            else:
                self._cache[path] = QPixmap.fromImage(image)
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
            self.ready.emit(path)


class ThumbnailModel(QAbstractListModel):
    """The images of a data set: a thumbnail, the file name as tooltip, the path as UserRole."""

    PathRole = Qt.ItemDataRole.UserRole

    def __init__(self, side: int = 112, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self.loader = ThumbnailLoader(side, parent=self)
        self.loader.ready.connect(self._on_ready)
        self._items: list[tuple[str, str]] = []  # (absolute path, tooltip)
        self._rows: dict[str, int] = {}
        self._placeholder = QPixmap(QSize(side, side))
        self._placeholder.fill(QColor("#2c2e33"))
        self._broken = QPixmap(QSize(side, side))
        self._broken.fill(QColor("#4a2a2a"))

    def set_items(self, items: list[tuple[str, str]]) -> None:
        self.beginResetModel()
        self.loader.clear()
        self._items = list(items)
        self._rows = {path: row for row, (path, _) in enumerate(self._items)}
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._items)

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._items):
            return None
        path, tip = self._items[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            pm = self.loader.pixmap(path)
            if pm is not None:
                return pm
            if self.loader.failed(path):
                return self._broken
            self.loader.request(path)  # asked only for rows being painted: lazy by construction
            return self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            return tip
        if role == self.PathRole:
            return path
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(self.side + 8, self.side + 8)
        return None

    @Slot(str)
    def _on_ready(self, path: str) -> None:
        row = self._rows.get(path)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
