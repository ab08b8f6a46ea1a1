"""Small widget helpers shared by the panels."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
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


def open_in_file_manager(path: Path, say: Callable[[str], None]) -> bool:
    """Show ``path`` in the system's file manager; where none is set up, say so with the path (and put the path on
    the clipboard, ready to paste) instead of failing silently."""
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return True
    QGuiApplication.clipboard().setText(str(path))
    say(f"No file manager is set up to open folders here; the folder is {path} (copied to the clipboard)")
    return False
