"""Small widget helpers shared by the panels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QWidget


def label(text: str = "", role: str | None = None, parent: QWidget | None = None) -> QLabel:
    """A QLabel with a style role (heading, subheading, hint, error: see style.STYLESHEET)."""
    w = QLabel(text, parent)
    if role:
        w.setProperty("role", role)
    return w


def hline() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line


def set_tip(widget: QWidget, tip: str) -> QWidget:
    """A tooltip that wraps (rich text) instead of one endless line."""
    widget.setToolTip(f"<p style='white-space:pre-wrap; max-width:360px'>{tip}</p>")
    widget.setWhatsThis(tip)
    return widget


def elide_middle(label_widget: QLabel, text: str, width: int) -> None:
    label_widget.setText(label_widget.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, width))
    label_widget.setToolTip(text)
