"""Pictures between numpy, the engine and Qt: arrays to QImage (any thread), and a widget that shows one.

A QImage may be made on any thread and sent through a signal; a QPixmap only on the GUI thread.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
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


class ImageView(QWidget):
    """Shows one picture fitted to the widget (aspect kept, smooth), or a placeholder text when empty."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._scaled: QPixmap | None = None
        self.placeholder = placeholder
        self.caption = ""
        self._fit_width = False
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
        return int((width - 8) * self._pixmap.height() / self._pixmap.width()) + 8

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self._scaled = None
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        area = self.rect().adjusted(4, 4, -4, -4)
        caption_h = p.fontMetrics().height() + 6 if self.caption else 0
        area.setBottom(area.bottom() - caption_h)
        if self._pixmap is None or self._pixmap.isNull():
            p.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DashLine))
            p.drawRoundedRect(QRectF(area).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(area.adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self.placeholder)
        else:
            dpr = self.devicePixelRatioF()
            target = QSize(max(1, int(area.width() * dpr)), max(1, int(area.height() * dpr)))
            if self._scaled is None or self._scaled.size() != self._pixmap.size().scaled(
                    target, Qt.AspectRatioMode.KeepAspectRatio):
                self._scaled = self._pixmap.scaled(target, Qt.AspectRatioMode.KeepAspectRatio,
                                                   Qt.TransformationMode.SmoothTransformation)
                self._scaled.setDevicePixelRatio(dpr)
            w, h = self._scaled.width() / dpr, self._scaled.height() / dpr
            x = area.x() + (area.width() - w) / 2
            y = area.y() + (area.height() - h) / 2
            p.drawPixmap(QRectF(x, y, w, h), self._scaled, QRectF(self._scaled.rect()))
        if self.caption:
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect().adjusted(4, 0, -4, -4), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                       self.caption)
        p.end()


def placeholder_pixmap(side: int, color: QColor) -> QPixmap:
    pm = QPixmap(side, side)
    pm.fill(color)
    return pm
