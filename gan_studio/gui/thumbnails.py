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
    QRectF,
    QRunnable,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QImage,
    QImageReader,
    QPainter,
    QPixmap,
    QTextOption,
)

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


def title_tile(name: str, detail: str, side: int) -> QPixmap:
    """A card of a thumbnail's size that heads a group of thumbnails: its name (bold) over a detail line."""
    app = QGuiApplication.instance()
    ratio = app.devicePixelRatio() if isinstance(app, QGuiApplication) else 1.0
    pm = QPixmap(QSize(round(side * ratio), round(side * ratio)))
    pm.setDevicePixelRatio(ratio)  # sharp text on a high-density screen
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QColor("#4a4d55"))
    p.setBrush(QColor("#2a2c30"))
    p.drawRoundedRect(1, 1, side - 2, side - 2, 8, 8)
    p.fillRect(1, 10, 3, side - 20, QColor("#4f9cf0"))  # the accent stripe of a heading
    wrap = QTextOption()
    wrap.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)  # words whole where they fit
    plain = QFont(p.font())
    bold = QFont(plain)
    bold.setBold(True)
    bold.setPointSizeF(plain.pointSizeF() * 1.15)
    width, line = side - 20, QFontMetrics(plain).lineSpacing()
    detail_top = side - 10 - 2 * line  # room for a detail of two lines
    p.setFont(bold)
    p.setPen(QColor("#e6e6e6"))
    wrap.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    box = QRectF(12, 10, width, detail_top - 14)
    p.setClipRect(box)  # a very long name is cut, never drawn over its detail
    p.drawText(box, name, wrap)
    p.setClipping(False)
    p.setFont(plain)
    p.setPen(QColor("#a0a3a9"))
    p.drawText(QRectF(12, detail_top, width, 2 * line + 2), detail, wrap)
    p.end()
    return pm


class ThumbnailModel(QAbstractListModel):
    """The images of a data set: a thumbnail, the file name as tooltip, the path as PathRole and its group (a
    style's name, '' for none) as GroupRole, which a filter proxy selects on. A group may open with a title
    tile (TitleRole: its name; None for an image), which is not selectable."""

    PathRole = Qt.ItemDataRole.UserRole
    GroupRole = Qt.ItemDataRole.UserRole + 1
    TitleRole = Qt.ItemDataRole.UserRole + 2

    def __init__(self, side: int = 112, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self.loader = ThumbnailLoader(side, parent=self)
        self.loader.ready.connect(self._on_ready)
        self._items: list[tuple[str, str]] = []  # (absolute path, tooltip)
        self._groups: list[str] = []
        self._titles: list[tuple[str, str] | None] = []  # (name, detail) of a title tile, None for an image
        self._tiles: dict[int, QPixmap] = {}
        self._rows: dict[str, int] = {}
        self._placeholder = QPixmap(QSize(side, side))
        self._placeholder.fill(QColor("#2c2e33"))
        self._broken = QPixmap(QSize(side, side))
        self._broken.fill(QColor("#4a2a2a"))

    def set_items(self, items: list[tuple[str, str]], groups: list[str] | None = None,
                  titles: dict[str, tuple[str, str]] | None = None) -> None:
        """(absolute path, tooltip) per image, and each one's group ('' for all when ``groups`` is None), the
        images of a group one after another; a group in ``titles`` opens with a tile: {group: (name, detail)}."""
        self.beginResetModel()
        self.loader.clear()
        self._items, self._groups, self._titles, self._tiles = [], [], [], {}
        for item, group in zip(items, groups if groups is not None else [""] * len(items)):
            if titles and group in titles and (not self._groups or self._groups[-1] != group):
                name, detail = titles[group]
                self._items.append(("", f"{name}: {detail}"))
                self._groups.append(group)
                self._titles.append((name, detail))
            self._items.append(item)
            self._groups.append(group)
            self._titles.append(None)
        self._rows = {path: row for row, (path, _) in enumerate(self._items) if path}
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._items)

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._items):
            return None
        row = index.row()
        path, tip = self._items[row]
        title = self._titles[row]
        if title is not None and role == Qt.ItemDataRole.DecorationRole:
            if row not in self._tiles:
                self._tiles[row] = title_tile(title[0], title[1], self.side)
            return self._tiles[row]
        if title is not None and role == self.PathRole:
            return None
        if role == self.TitleRole:
            return title[0] if title is not None else None
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
        if role == self.GroupRole:
            return self._groups[row]
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(self.side + 8, self.side + 8)
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.row() < len(self._titles) and self._titles[index.row()] is not None:
            return Qt.ItemFlag.ItemIsEnabled  # a heading, not an image: never selected
        return flags

    @Slot(str)
    def _on_ready(self, path: str) -> None:
        row = self._rows.get(path)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class GroupFilter(QSortFilterProxyModel):
    """The rows of a ThumbnailModel in one group (its GroupRole, compared whole), or all of them."""

    def __init__(self, source: ThumbnailModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._group: str | None = None
        self.setSourceModel(source)

    def group(self) -> str | None:
        return self._group

    def set_group(self, group: str | None) -> None:
        """Show the rows of ``group`` ('' is a group too: the images in no style), or all of them (None)."""
        self.beginFilterChange()
        self._group = group
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        if self._group is None:
            return True
        return self.sourceModel().index(row, 0, parent).data(ThumbnailModel.GroupRole) == self._group
