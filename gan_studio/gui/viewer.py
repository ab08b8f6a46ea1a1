"""The full-screen viewer of the gallery: one sample at a time on a dark ground, pixel-exact by default at the
largest whole zoom that fits the screen, with its seed as a caption; the arrow keys walk through the gallery's
page of seeds.

Keys: Left/Right (also Up/Down, Page Up/Down, the mouse wheel) the previous/next seed, Home/End the first/last;
0 fit, 1, 2, 4 zoom; S smooth/pixel-exact; F favourite; Ctrl+C copy; Ctrl+S save; F11 full screen/window;
Esc, Space, Enter (or a double-click) close. The viewer only shows: what it is asked to do with a sample
(favourite, copy, save) it asks the gallery by signal.
"""

from __future__ import annotations

import html
from typing import Callable

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QColor, QKeySequence, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from gan_studio.gui.gallery_model import GalleryModel
from gan_studio.gui.imaging import FIT, ZOOMS, ImageView
from gan_studio.gui.style import FAVOURITE

BACKGROUND = QColor("#0e0e10")
HINT = ("← → seeds  ·  0 fit, 1 2 4 zoom  ·  S smooth / pixel-exact  ·  F favourite  ·  Ctrl+C copy  ·  "
        "Ctrl+S save  ·  F11 window  ·  Esc close")


class SampleViewer(QWidget):
    """A top-level window over the gallery's model (its current page) that shows the sample in ``row``."""

    seed_changed = Signal(int)  # the viewer moved to another seed (the gallery selects it too)
    favourite_requested = Signal(int)
    copy_requested = Signal(int)
    save_requested = Signal(int)
    closed = Signal()

    def __init__(self, model: GalleryModel, row: int, describe: Callable[[int], str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("GAN Studio: sample")
        self.model = model
        self.row = max(0, min(row, len(model.items) - 1))
        self.describe = describe or (lambda seed: f"Seed {seed}")
        self._wheel = 0
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Window, BACKGROUND)
        pal.setColor(QPalette.ColorRole.Mid, QColor("#2a2b30"))
        self.setPalette(pal)
        self.setAutoFillBackground(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.view = ImageView("Drawing this sample…")
        self.view.set_pixel_exact(True)
        self.view.set_zoom(FIT)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.view.installEventFilter(self)  # double-click closes, the wheel moves between seeds
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setStyleSheet("color: #ececec; font-size: 14pt; font-weight: 600;")
        self.detail = QLabel()
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setStyleSheet("color: #9a9da3;")
        self.hint = QLabel(HINT)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("color: #6f7278;")
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Close the viewer (Esc)")
        self.close_button.setAutoRaise(True)
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.close_button.setStyleSheet("QToolButton { color: #c8c8c8; font-size: 16pt; padding: 2px 10px; }")
        self.close_button.clicked.connect(self.close)
        self.position = QLabel()
        self.position.setStyleSheet("color: #9a9da3;")
        top = QHBoxLayout()
        top.addWidget(self.position)
        top.addStretch(1)
        top.addWidget(self.close_button)
        col = QVBoxLayout(self)
        col.setContentsMargins(16, 8, 16, 12)
        col.setSpacing(4)
        col.addLayout(top)
        col.addWidget(self.view, 1)
        col.addWidget(self.caption)
        col.addWidget(self.detail)
        col.addWidget(self.hint)

        model.dataChanged.connect(self._on_data_changed)
        model.modelReset.connect(self._on_reset)
        self._show_row()

    # ------------------------------------------------------------------------------------------ showing
    def show_full_screen(self) -> None:
        again = self.isVisible()
        parent = self.parentWidget()
        screen = parent.screen() if parent is not None else self.screen()
        if screen is not None and not again:  # the gallery's screen, also where no window manager places it
            self.setGeometry(screen.geometry())
        self.showFullScreen()
        if again:  # already open, perhaps behind another window
            self.raise_()
        self.activateWindow()
        self.setFocus()

    def current_seed(self) -> int | None:
        return self.model.items[self.row].seed if 0 <= self.row < len(self.model.items) else None

    def go(self, row: int) -> None:
        """Show the sample in ``row`` of the gallery's page (clamped to the page)."""
        row = max(0, min(row, len(self.model.items) - 1))
        if row != self.row:
            self.row = row
            self._show_row()
            seed = self.current_seed()
            if seed is not None:
                self.seed_changed.emit(seed)

    def set_zoom(self, zoom: int) -> None:
        self.view.set_zoom(zoom)
        self._update_detail()

    def toggle_smooth(self) -> None:
        self.view.set_pixel_exact(not self.view.pixel_exact())
        self._update_detail()

    def _show_row(self) -> None:
        seed = self.current_seed()
        item = self.model.items[self.row] if seed is not None else None
        self.view.set_image(item.pixmap if item is not None else None)
        if seed is None:
            self.caption.setText("No samples on this page")
        else:
            star = f"  <span style='color: {FAVOURITE.name()}'>★</span>" if item is not None and item.favourite else ""
            self.caption.setText(f"<span style='white-space: pre'>{html.escape(self.describe(seed))}{star}</span>")
        self.position.setText(f"{self.row + 1} of {len(self.model.items)}" if self.model.items else "")
        self._update_detail()

    def _update_detail(self) -> None:
        item = self.model.items[self.row] if 0 <= self.row < len(self.model.items) else None
        if item is None or item.pixmap is None:
            self.detail.setText("")
            return
        pm = item.pixmap
        factor = self.view.factor() / self.devicePixelRatioF()
        shown = f"{factor:g}×" if float(factor).is_integer() else f"{factor * 100:.0f}%"
        mode = "pixel-exact" if self.view.pixel_exact() else "smooth"
        zoom = "fit" if self.view.zoom() == FIT else "fixed zoom"
        self.detail.setText(f"{pm.width()} × {pm.height()} px  ·  shown at {shown}, {mode} ({zoom})")

    @Slot()
    def _on_data_changed(self, top, bottom, roles=()) -> None:
        if top.row() <= self.row <= bottom.row():
            self._show_row()

    @Slot()
    def _on_reset(self) -> None:
        self.row = max(0, min(self.row, len(self.model.items) - 1))
        self._show_row()

    # ------------------------------------------------------------------------------------------- input
    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt naming
        key, mods = event.key(), event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        seed = self.current_seed()
        if event.matches(QKeySequence.StandardKey.Copy):
            if seed is not None:
                self.copy_requested.emit(seed)
        elif event.matches(QKeySequence.StandardKey.Save):
            if seed is not None:
                self.save_requested.emit(seed)
        elif mods not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
            super().keyPressEvent(event)
            return
        elif key in (Qt.Key.Key_Escape, Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.close()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_PageUp, Qt.Key.Key_Backspace):
            self.go(self.row - 1)
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_PageDown):
            self.go(self.row + 1)
        elif key == Qt.Key.Key_Home:
            self.go(0)
        elif key == Qt.Key.Key_End:
            self.go(len(self.model.items) - 1)
        elif key == Qt.Key.Key_F11:
            if self.isFullScreen():
                self.showNormal()
                screen = self.screen().availableGeometry()
                self.setGeometry(screen.adjusted(screen.width() // 10, screen.height() // 10,
                                                 -screen.width() // 10, -screen.height() // 10))
            else:
                self.show_full_screen()
        elif Qt.Key.Key_0 <= key <= Qt.Key.Key_9 and key - Qt.Key.Key_0 in ZOOMS:
            self.set_zoom(key - Qt.Key.Key_0)
        elif key == Qt.Key.Key_S:
            self.toggle_smooth()
        elif key == Qt.Key.Key_F:
            if seed is not None:
                self.favourite_requested.emit(seed)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if obj is self.view:
            if event.type() == QEvent.Type.Resize:  # a new size may mean another zoom that fits
                self._update_detail()
            elif event.type() == QEvent.Type.MouseButtonDblClick:
                self.close()
                return True
            if event.type() == QEvent.Type.Wheel:  # one notch (120) a seed; a touchpad's small steps add up
                self._wheel += event.angleDelta().y()
                while abs(self._wheel) >= 120:
                    step = -1 if self._wheel > 0 else 1
                    self._wheel += 120 * step
                    self.go(self.row + step)
                return True
        return super().eventFilter(obj, event)

    def closeEvent(self, event) -> None:  # noqa: N802
        try:
            self.model.dataChanged.disconnect(self._on_data_changed)
            self.model.modelReset.disconnect(self._on_reset)
        except (RuntimeError, TypeError):  # the model went first
            pass
        self.closed.emit()
        super().closeEvent(event)
