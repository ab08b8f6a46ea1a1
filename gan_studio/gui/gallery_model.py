"""The gallery's model/view parts: one item per seed (its picture arrives when generated; it can be dragged out
as a PNG), a delegate that draws the picture (pixel-exact or smooth), its seed (and a conditional model's style)
and a favourite star, and the host of a run's generator, which draws pictures on the 'gallery' pool (one job at a
time, so the generator is never used by two threads at once)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPalette, QPixmap, QPolygonF
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from gan_studio.gui.imaging import draw_pixmap, fit_factor, qimage_from_array
from gan_studio.gui.style import FAVOURITE
from gan_studio.gui.tasks import Task

SeedRole = Qt.ItemDataRole.UserRole
FavouriteRole = Qt.ItemDataRole.UserRole + 1


@dataclass
class GalleryItem:
    seed: int
    pixmap: QPixmap | None = None
    favourite: bool = False
    image: QImage | None = None  # the generator's pixels at full resolution (copied, dragged and saved)
    style: str = ""  # a conditional model's style (or blend) of the picture ('monet', 'monet60-song40'); '' without

    def caption(self, style: bool = True) -> str:
        """'seed 5', or with its ``style`` (when it has one) 'seed 5 · monet'."""
        return f"seed {self.seed} · {self.style}" if style and self.style else f"seed {self.seed}"


class GalleryModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.items: list[GalleryItem] = []
        # seeds -> the QMimeData a drag of them carries (set by the panel, which knows the run and step)
        self.mime_source: Callable[[list[int]], QMimeData | None] | None = None
        # the captions name each picture's style: when the seeds have their own (one style for all is said once)
        self.show_styles = True

    def set_seeds(self, seeds: Sequence[int], favourites: set[int]) -> None:
        self.beginResetModel()
        self.items = [GalleryItem(s, None, s in favourites) for s in seeds]
        self.endResetModel()

    def seeds(self) -> list[int]:
        return [i.seed for i in self.items]

    def set_image(self, seed: int, image: QImage, style: str = "") -> None:
        """The picture of ``seed`` arrived (GUI thread: its QPixmap is made here), in ``style`` (a label)."""
        self.set_pixmap(seed, QPixmap.fromImage(image), image, style)

    def set_pixmap(self, seed: int, pixmap: QPixmap, image: QImage | None = None, style: str = "") -> None:
        for row, item in enumerate(self.items):
            if item.seed == seed:
                item.pixmap = pixmap
                item.image = image if image is not None else pixmap.toImage()
                item.style = style
                idx = self.index(row)
                self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.DisplayRole])

    def set_show_styles(self, on: bool) -> None:
        if on != self.show_styles:
            self.show_styles = on
            if self.items:
                self.dataChanged.emit(self.index(0), self.index(len(self.items) - 1), [Qt.ItemDataRole.DisplayRole])

    def set_favourite(self, seed: int, favourite: bool) -> None:
        for row, item in enumerate(self.items):
            if item.seed == seed:
                item.favourite = favourite
                idx = self.index(row)
                self.dataChanged.emit(idx, idx, [FavouriteRole])

    def ready_count(self) -> int:
        return sum(1 for i in self.items if i.pixmap is not None)

    def row_of(self, seed: int) -> int:
        """The row of ``seed`` on this page, or -1."""
        return next((r for r, i in enumerate(self.items) if i.seed == seed), -1)

    def item(self, seed: int) -> GalleryItem | None:
        row = self.row_of(seed)
        return self.items[row] if row >= 0 else None

    # ------------------------------------------------------------------------------- dragging samples out
    def flags(self, index):
        flags = super().flags(index)
        if index.isValid() and self.items[index.row()].image is not None:
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return ["text/uri-list", "application/x-qt-image"]

    def supportedDragActions(self):  # noqa: N802
        return Qt.DropAction.CopyAction

    def mimeData(self, indexes):  # noqa: N802
        seeds = [self.items[i.row()].seed for i in sorted(indexes, key=lambda i: i.row()) if i.isValid()]
        if not seeds or self.mime_source is None:
            return None
        return self.mime_source(seeds)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.items)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item = self.items[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            return item.pixmap
        if role == Qt.ItemDataRole.DisplayRole:
            return item.caption(self.show_styles)
        if role == Qt.ItemDataRole.ToolTipRole:
            style = f" in the style {item.style}" if item.style else ""
            return f"Seed {item.seed}{style}" + (" ★ favourite" if item.favourite else "") + \
                "\nClick to enlarge; double-click or Space for full screen; drag out to save the PNG;" \
                "\nF marks a favourite; Ctrl-click a second one to walk between the two"
        if role == SeedRole:
            return item.seed
        if role == FavouriteRole:
            return item.favourite
        return None


def star_path(center: QPointF, r: float) -> QPainterPath:
    import math

    points = []
    for i in range(10):
        rr = r if i % 2 == 0 else r * 0.45
        a = -math.pi / 2 + i * math.pi / 5
        points.append(QPointF(center.x() + rr * math.cos(a), center.y() + rr * math.sin(a)))
    path = QPainterPath()
    path.addPolygon(QPolygonF(points))
    path.closeSubpath()
    return path


class GalleryDelegate(QStyledItemDelegate):
    """Draws a sample in a side x side square: pixel-exact (the largest whole enlargement that fits,
    nearest-neighbour) or smooth (fitted, filtered); pictures larger than the square are shrunk smoothly."""

    def __init__(self, side: int = 128, parent: QObject | None = None, pixel_exact: bool = False) -> None:
        super().__init__(parent)
        self.side = side
        self.pixel_exact = pixel_exact

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return QSize(self.side + 12, self.side + 28)

    def paint(self, p: QPainter, option, index) -> None:
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        r = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        if selected:
            p.setBrush(pal.color(QPalette.ColorRole.Highlight))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawRoundedRect(QRectF(r).adjusted(2, 2, -2, -2), 8, 8)
        img = QRect(r.x() + (r.width() - self.side) // 2, r.y() + 6, self.side, self.side)
        pm = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pm, QPixmap) and not pm.isNull():
            dpr = p.device().devicePixelRatioF()
            s = fit_factor(pm.size(), QSize(int(self.side * dpr), int(self.side * dpr)), self.pixel_exact) / dpr
            w, h = pm.width() * s, pm.height() * s
            x = round((img.x() + (img.width() - w) / 2) * dpr) / dpr  # on whole device pixels
            y = round((img.y() + (img.height() - h) / 2) * dpr) / dpr
            draw_pixmap(p, QRectF(x, y, w, h), pm, self.pixel_exact)
        else:
            p.setBrush(QColor("#2c2e33"))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawRoundedRect(QRectF(img), 4, 4)
        p.setPen(pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.PlaceholderText))
        f = QFont(option.font)
        f.setPointSizeF(max(7.5, f.pointSizeF() - 1))
        p.setFont(f)
        text = QFontMetrics(f).elidedText(str(index.data(Qt.ItemDataRole.DisplayRole)), Qt.TextElideMode.ElideRight,
                                          r.width() - 4)
        p.drawText(QRect(r.x(), img.bottom() + 3, r.width(), 18), Qt.AlignmentFlag.AlignHCenter, text)
        if index.data(FavouriteRole):
            star = star_path(QPointF(img.right() - 11, img.top() + 11), 9)
            p.setPen(QColor(0, 0, 0, 160))
            p.setBrush(FAVOURITE)
            p.drawPath(star)
        p.restore()


class GeneratorHost(QObject):
    """The EMA generator of one run and checkpoint, loaded and used only on the 'gallery' pool."""

    loaded = Signal(int)  # step of the loaded checkpoint
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.run_dir: Path | None = None
        self.checkpoint: Path | None = None
        self.generator = None  # LoadedGenerator, touched only by gallery-pool jobs
        self.step = 0
        self.noise_kind = "normal"
        self._task: Task | None = None
        self._load_id = 0

    def load(self, run_dir: Path, checkpoint: Path | None = None, device: str = "cpu") -> Task:
        from gan_studio.engine import load_generator

        self.run_dir, self.checkpoint = Path(run_dir), checkpoint
        self.generator = None
        self._load_id += 1
        load_id = self._load_id

        def job(progress):
            return load_id, load_generator(run_dir, checkpoint=checkpoint, device=device)

        task = Task(job, "gallery", self)
        task.done.connect(self._on_loaded)
        task.failed.connect(self.failed)
        self._task = task.start()
        return task

    def _on_loaded(self, result) -> None:
        load_id, generator = result
        if load_id != self._load_id:  # another run or checkpoint was asked for meanwhile
            return
        self.generator = generator
        self.step = generator.step
        self.noise_kind = generator.config.model.noise
        self.loaded.emit(generator.step)

    def render(self, seeds: Sequence[int], style: np.ndarray | None = None) -> Task:
        """A task whose result is [(seed, QImage, style label)]; the QImages are made on the pool thread. A
        conditional model draws ``style`` (a vector over its styles), else each seed's own style; the label is
        '' without styles."""
        generator, seeds = self.generator, list(seeds)

        def job(progress):
            out = []
            for i in range(0, len(seeds), 16):
                chunk = seeds[i:i + 16]
                labels = generator.style_labels(chunk, style)
                for s, im, label in zip(chunk, generator.images(chunk, style=style), labels):
                    out.append((s, qimage_from_array(im), label))
                progress(len(out), len(seeds))
            return out

        return Task(job, "gallery", self).start()

    def submit(self, work: Callable[[Any, Callable[[int, int], None]], Any]) -> Task:
        """A task running ``work(generator, progress)`` on the gallery pool (never beside another use of the
        generator); its result is what ``work`` returns (QImages, never QPixmaps)."""
        generator = self.generator
        return Task(lambda progress: work(generator, progress), "gallery", self).start()

    def interpolate(self, seed_a: int, seed_b: int, frames: int = 24) -> Task:
        """A task whose result is [QImage] walking from seed_a to seed_b (slerp for normal noise)."""
        generator, kind = self.generator, self.noise_kind

        def job(progress):
            import torch

            from gan_studio.engine.latent import interpolate_noise

            za, zb = generator.noise([seed_a, seed_b]).cpu().numpy()
            z = torch.from_numpy(interpolate_noise(za, zb, frames, kind))
            return [qimage_from_array(im) for im in generator.images_from_noise(z)]

        return Task(job, "gallery", self).start()
