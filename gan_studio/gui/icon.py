"""The application icon, drawn from assets/gan_studio.svg (a dusk landscape turning into generated pixels).

QtSvg implements SVG Tiny, which ignores clip paths, so the rounded card is applied here with a mask. The asset is
the package data gan_studio.assets in an installed app (pyproject maps the repository's assets/ there) and
assets/ itself in a checkout; should neither be readable, a plain painted icon stands in.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QLinearGradient, QPainter, QPainterPath, QPixmap

ASSET_NAME = "gan_studio.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def asset_bytes() -> bytes | None:
    """The icon's SVG: installed package data first, then the checkout's assets/ folder."""
    try:
        from importlib.resources import files

        return files("gan_studio.assets").joinpath(ASSET_NAME).read_bytes()
    except (ModuleNotFoundError, OSError):
        pass
    checkout = Path(__file__).resolve().parents[2] / "assets" / ASSET_NAME
    try:
        return checkout.read_bytes()
    except OSError:
        return None


def _card(side: int) -> QPainterPath:
    path = QPainterPath()
    m = side * 8 / 256
    path.addRoundedRect(QRectF(m, m, side - 2 * m, side - 2 * m), side * 52 / 256, side * 52 / 256)
    return path


def render_icon(side: int) -> QImage:
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    drawn = False
    svg = asset_bytes()
    if svg is not None:
        from PySide6.QtCore import QByteArray
        from PySide6.QtSvg import QSvgRenderer

        renderer = QSvgRenderer(QByteArray(svg))
        if renderer.isValid():
            renderer.render(p, QRectF(0, 0, side, side))
            drawn = True
    if not drawn:
        g = QLinearGradient(0, 0, 0, side)
        g.setColorAt(0, QColor("#2a2f6b"))
        g.setColorAt(0.55, QColor("#b5577a"))
        g.setColorAt(1, QColor("#f6a54a"))
        p.fillRect(image.rect(), g)
        p.setBrush(QColor("#ffe3a3"))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(QRectF(side * 0.45, side * 0.33, side * 0.26, side * 0.26))
    mask = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    mask.fill(Qt.GlobalColor.transparent)
    mp = QPainter(mask)
    mp.setRenderHint(QPainter.RenderHint.Antialiasing)
    mp.fillPath(_card(side), QColor(0, 0, 0, 255))
    mp.end()
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
    p.drawImage(0, 0, mask)  # keep only the rounded card
    p.end()
    return image


def app_icon() -> QIcon:
    icon = QIcon()
    for side in SIZES:
        icon.addPixmap(QPixmap.fromImage(render_icon(side)))
    return icon
