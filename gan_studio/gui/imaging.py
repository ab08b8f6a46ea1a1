"""Pictures between numpy, the engine and Qt: arrays to QImage (any thread), and a widget that shows one.

A QImage may be made on any thread and sent through a signal; a QPixmap only on the GUI thread.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget


def qimage_from_array(array: np.ndarray) -> QImage:
    """uint8 (H, W, 3|1) or (H, W) -> an independent QImage (the array may be freed afterwards)."""
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    a = np.ascontiguousarray(a, dtype=np.uint8)
    h, w = a.shape[:2]
    if a.ndim == 2:
        return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    if a.shape[2] == 4:
        return QImage(a.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def scaled_image(image: QImage, side: int) -> QImage:
    """``image`` fitted in side x side, smooth; small generated images are enlarged, never blocky."""
    return image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


def array_from_qimage(image: QImage) -> np.ndarray:
    """A QImage -> an independent uint8 array (H, W, C): C = 1 for grayscale, 4 when it has alpha, else 3 (the
    engine's layout, which qimage_from_array turns back into the same QImage)."""
    if image.format() == QImage.Format.Format_Grayscale8:
        fmt, channels = QImage.Format.Format_Grayscale8, 1
    elif image.hasAlphaChannel():
        fmt, channels = QImage.Format.Format_RGBA8888, 4
    else:
        fmt, channels = QImage.Format.Format_RGB888, 3
    im = image if image.format() == fmt else image.convertToFormat(fmt)
    w, h, stride = im.width(), im.height(), im.bytesPerLine()
    rows = np.frombuffer(im.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return rows[:, :w * channels].reshape(h, w, channels).copy()


# --------------------------------------------------------------------------------------- zoom and pixel-exact
FIT = 0  # zoom: the largest scale that fits the area
ZOOMS = (FIT, 1, 2, 4)  # the zoom steps the gallery and the viewer offer
MAX_CACHED_PIXELS = 4096 * 4096  # a larger scaled copy is not kept: the painter scales what is visible


def zoom_name(zoom: int) -> str:
    return "Fit" if zoom == FIT else f"{zoom}×"


def fit_factor(image: QSize, area: QSize, pixel_exact: bool) -> float:
    """The scale at which a picture of ``image`` pixels fits ``area`` (both in device pixels): with ``pixel_exact``
    the largest whole factor (each source pixel an n x n block); a picture larger than the area is shrunk by a
    fraction either way (no whole factor fits)."""
    if image.isEmpty() or area.width() < 1 or area.height() < 1:
        return 1.0
    s = min(area.width() / image.width(), area.height() / image.height())
    if pixel_exact and s >= 1:
        return float(int(s))
    return s


def zoom_factor(image: QSize, area: QSize, zoom: int, pixel_exact: bool) -> float:
    """The device-pixel scale for ``zoom`` (FIT, or a whole factor such as 1, 2 or 4)."""
    return float(zoom) if zoom > 0 else fit_factor(image, area, pixel_exact)


def nearest(factor: float, pixel_exact: bool) -> bool:
    """Whether a picture shown at ``factor`` is drawn nearest-neighbour: pixel-exact and a whole enlargement."""
    return pixel_exact and factor >= 1 and float(factor).is_integer()


def scaled_pixmap(pixmap: QPixmap, factor: float, pixel_exact: bool) -> QPixmap:
    """``pixmap`` scaled by ``factor``: by whole factors nearest-neighbour (Qt.FastTransformation) when
    ``pixel_exact``, otherwise smooth."""
    w = max(1, round(pixmap.width() * factor))
    h = max(1, round(pixmap.height() * factor))
    if (w, h) == (pixmap.width(), pixmap.height()):
        return pixmap
    mode = Qt.TransformationMode.FastTransformation if nearest(factor, pixel_exact) else \
        Qt.TransformationMode.SmoothTransformation
    return pixmap.scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio, mode)


def draw_pixmap(p: QPainter, target: QRectF, pixmap: QPixmap, pixel_exact: bool) -> None:
    """Draw ``pixmap`` into ``target``; nearest-neighbour (smooth transform and anti-aliasing off) when
    ``pixel_exact`` and the target is a whole multiple of its size, otherwise smooth."""
    factor = target.width() * p.device().devicePixelRatioF() / max(1, pixmap.width())
    exact = pixel_exact and factor >= 1 and abs(factor - round(factor)) < 1e-6
    p.save()
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not exact)
    if exact:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    p.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
    p.restore()


class ImageView(QWidget):
    """Shows one picture, or a placeholder text when empty. By default fitted to the widget (aspect kept,
    smooth); ``set_pixel_exact`` shows pixels as sharp blocks (whole factors, nearest-neighbour) and ``set_zoom``
    shows it at 1x, 2x, 4x... (a picture larger than the widget can be dragged around)."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._scaled: QPixmap | None = None
        self.placeholder = placeholder
        self.caption = ""
        self._fit_width = False
        self._pixel_exact = False
        self._zoom = FIT
        self._pan = QPointF(0, 0)  # how far the picture is dragged from the centre (when larger than the area)
        self._drag_from: QPointF | None = None
        self._image_rect = QRectF()  # where the picture was last drawn
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 120)

    def set_image(self, image: QImage | QPixmap | None, caption: str = "") -> None:
        if image is None:
            self._pixmap = None
        else:
            self._pixmap = image if isinstance(image, QPixmap) else QPixmap.fromImage(image)
        self._scaled = None
        self.caption = caption
        self.updateGeometry()
        self.update()

    def has_image(self) -> bool:
        return self._pixmap is not None

    def pixmap(self) -> QPixmap | None:
        return self._pixmap

    def sizeHint(self) -> QSize:
        return QSize(360, 360)

    # ---------------------------------------------------------------------------------------- how it shows
    def set_pixel_exact(self, on: bool) -> None:
        """Sharp pixels (nearest-neighbour by whole factors) instead of smooth scaling."""
        if on != self._pixel_exact:
            self._pixel_exact = on
            self._scaled = None
            self.updateGeometry()
            self.update()

    def pixel_exact(self) -> bool:
        return self._pixel_exact

    def set_zoom(self, zoom: int) -> None:
        """FIT (0), or a whole factor: 1 shows every pixel of the picture as one pixel of the screen."""
        zoom = max(0, int(zoom))
        if zoom != self._zoom:
            self._zoom = zoom
            self._scaled = None
            self._pan = QPointF(0, 0)
            self.updateGeometry()
            self.update()

    def zoom(self) -> int:
        return self._zoom

    def factor(self) -> float:
        """The scale the picture is shown at now, in device pixels per picture pixel (1.0 when empty)."""
        if self._pixmap is None or self._pixmap.isNull():
            return 1.0
        return zoom_factor(self._pixmap.size(), self._device_size(self._area()), self._zoom, self._pixel_exact)

    def image_rect(self) -> QRectF:
        """Where the picture was last drawn, in widget coordinates (empty before the first paint)."""
        return QRectF(self._image_rect)

    def set_fit_width(self, on: bool) -> None:
        """Take the height the picture needs at the widget's width (heightForWidth), instead of filling the
        space given: for a detail pane where a caption should sit right under the picture."""
        self._fit_width = on
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(on)
        self.setSizePolicy(policy)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return self._fit_width

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        if self._pixmap is None or self._pixmap.isNull() or self._pixmap.width() == 0:
            return width
        pw, ph = self._pixmap.width(), self._pixmap.height()
        fit_h = int((width - 8) * ph / pw) + 8
        dpr = self.devicePixelRatioF()
        if self._zoom == FIT and not self._pixel_exact:
            return fit_h
        s = zoom_factor(self._pixmap.size(), QSize(int((width - 8) * dpr), 1 << 20), self._zoom, self._pixel_exact)
        return min(fit_h, int(ph * s / dpr) + 8)

    # ------------------------------------------------------------------------------------------ geometry
    def _area(self) -> QRect:
        area = self.rect().adjusted(4, 4, -4, -4)
        if self.caption:
            area.setBottom(area.bottom() - (self.fontMetrics().height() + 6))
        return area

    def _device_size(self, area: QRect) -> QSize:
        dpr = self.devicePixelRatioF()
        return QSize(max(1, int(area.width() * dpr)), max(1, int(area.height() * dpr)))

    def _placement(self, area: QRect, w: float, h: float) -> QRectF:
        """The picture's rectangle (w x h logical pixels) in ``area``: centred, or moved by the pan where it is
        larger than the area (never so far that it leaves the area uncovered on that side)."""
        dpr = self.devicePixelRatioF()

        def axis(start: int, length: int, size: float, pan: float) -> float:
            centred = start + (length - size) / 2
            if size <= length:
                return centred
            return min(start, max(start + length - size, centred + pan))

        x = axis(area.x(), area.width(), w, self._pan.x())
        y = axis(area.y(), area.height(), h, self._pan.y())
        return QRectF(round(x * dpr) / dpr, round(y * dpr) / dpr, w, h)  # on whole device pixels

    def _pannable(self) -> bool:
        if self._pixmap is None or self._pixmap.isNull():
            return False
        area = self._area()
        s = self.factor() / self.devicePixelRatioF()
        return self._pixmap.width() * s > area.width() + 0.5 or self._pixmap.height() * s > area.height() + 0.5

    # ------------------------------------------------------------------------------------ dragging around
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if event.button() == Qt.MouseButton.LeftButton and self._pannable():
            self._drag_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._drag_from is not None:
            area, r = self._area(), self._image_rect
            delta = event.position() - self._drag_from
            self._drag_from = event.position()
            # the pan is kept within what can be seen, so dragging back responds at once
            max_x, max_y = max(0.0, (r.width() - area.width()) / 2), max(0.0, (r.height() - area.height()) / 2)
            self._pan = QPointF(min(max_x, max(-max_x, self._pan.x() + delta.x())),
                                min(max_y, max(-max_y, self._pan.y() + delta.y())))
            self.update()
            event.accept()
            return
        self.setCursor(Qt.CursorShape.OpenHandCursor if self._pannable() else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._drag_from is not None:
            self._drag_from = None
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._pannable() else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self._scaled = None
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        area = self._area()
        if self._pixmap is None or self._pixmap.isNull():
            self._image_rect = QRectF()
            p.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DashLine))
            p.drawRoundedRect(QRectF(area).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(area.adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self.placeholder)
        else:
            dpr = self.devicePixelRatioF()
            s = self.factor()
            size = QSize(max(1, round(self._pixmap.width() * s)), max(1, round(self._pixmap.height() * s)))
            target = self._placement(area, size.width() / dpr, size.height() / dpr)
            self._image_rect = target
            p.save()
            p.setClipRect(area)
            if size.width() * size.height() <= MAX_CACHED_PIXELS:
                if self._scaled is None or self._scaled.size() != size:
                    self._scaled = scaled_pixmap(self._pixmap, s, self._pixel_exact)
                    if self._scaled is self._pixmap:
                        self._scaled = QPixmap(self._pixmap)
                    self._scaled.setDevicePixelRatio(dpr)
                p.drawPixmap(target, self._scaled, QRectF(self._scaled.rect()))
            else:  # a huge enlargement: let the painter scale the part that is visible
                self._scaled = None
                draw_pixmap(p, target, self._pixmap, self._pixel_exact)
            p.restore()
        if self.caption:
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect().adjusted(4, 0, -4, -4), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                       self.caption)
        p.end()


def placeholder_pixmap(side: int, color: QColor) -> QPixmap:
    pm = QPixmap(side, side)
    pm.fill(color)
    return pm
