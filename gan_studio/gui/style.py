"""The look: Qt's Fusion style with a neutral dark palette, so paintings and samples read true (as in most
image tools: Lightroom, Krita, Blender), plus a few named roles (primary button, headings, hint text)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = QColor("#4f9cf0")
ACCENT_TEXT = QColor("#ffffff")
SERIES = {  # chart colours, readable on the dark base and for the common colour-vision deficiencies
    "D loss": QColor("#f0a04f"),
    "G loss": QColor("#4f9cf0"),
    "D(x)": QColor("#e8d25a"),
    "D(G(z))": QColor("#c77ddb"),
}
FAVOURITE = QColor("#ffcc4d")

STYLESHEET = """
QPushButton { padding: 5px 14px; }
QToolTip { color: #eeeeee; background: #33353a; border: 1px solid #55575e; padding: 4px; }
QPushButton[primary="true"] { background: #3a82d6; color: white; border: 1px solid #2f6db5; border-radius: 4px;
                              padding: 6px 18px; font-weight: 600; }
QPushButton[primary="true"]:hover { background: #4a91e2; }
QPushButton[primary="true"]:disabled { background: #3b4450; color: #8a8f96; border-color: #3b4450; }
QLabel[role="heading"] { font-size: 15pt; font-weight: 600; }
QLabel[role="subheading"] { font-weight: 600; }
QLabel[role="hint"] { color: #a0a3a9; }
QLabel[role="error"] { color: #ff8a80; }
QLabel[role="warning"] { color: #ffcc80; }
QFrame[role="card"] { background: #2a2c30; border: 1px solid #3a3c42; border-radius: 10px; }
QFrame[role="dropzone"] { background: #26282c; border: 2px dashed #4a4d55; border-radius: 16px; }
QFrame[role="overlay"] { background: rgb(34, 62, 102); border: 3px dashed #9cc8ff; border-radius: 18px; }
QTabWidget::pane { border-top: 1px solid #3a3c42; }
QTabBar::tab { padding: 7px 18px; }
QGroupBox { font-weight: 600; border: 1px solid #3a3c42; border-radius: 6px; margin-top: 14px; padding-top: 6px; }
QGroupBox::title { subcontrol-origin: margin; left: 10px; padding: 0 4px; }
QStatusBar QLabel { color: #b8bbc1; padding: 0 6px; }
QDialogButtonBox { dialogbuttonbox-buttons-have-icons: 0; }
"""


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor("#232428"), QColor("#1b1c1f"), QColor("#e6e6e6")
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor("#26282c"),
        QPalette.ColorRole.ToolTipBase: QColor("#33353a"),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor("#8c9096"),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor("#303236"),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff6b6b"),
        QPalette.ColorRole.Light: QColor("#45474d"),
        QPalette.ColorRole.Midlight: QColor("#3a3c41"),
        QPalette.ColorRole.Mid: QColor("#4a4d55"),
        QPalette.ColorRole.Dark: QColor("#151618"),
        QPalette.ColorRole.Shadow: QColor("#0c0c0d"),
        QPalette.ColorRole.Highlight: QColor("#3a82d6"),
        QPalette.ColorRole.HighlightedText: ACCENT_TEXT,
        QPalette.ColorRole.Link: QColor("#8cc4ff"),
    }
    for role, color in roles.items():
        p.setColor(role, color)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7d83"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor("#3b4450"))
    return p


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLESHEET)
    font = app.font()
    if font.pointSizeF() < 9.5:
        font.setPointSizeF(9.5)
        app.setFont(font)
    QFont.insertSubstitution("Sans Serif", "DejaVu Sans")
