"""Entry point of the desktop app: ``gan-studio gui [FOLDER]``, ``gan-studio-gui [FOLDER]``.

The window is on screen before anything heavy is imported: torch and the engine load in the background
(MainWindow.start_engine), and the Train, Runs and Gallery tabs come alive when they are ready.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from gan_studio import __version__


def _parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(prog="gan-studio-gui", description="The GAN Studio desktop app.")
    p.add_argument("folder", nargs="?", type=Path, help="a folder of images to open")
    p.add_argument("--demo", action="store_true", help="open the built-in demo landscapes")
    p.add_argument("--run", type=Path, metavar="RUN_DIR", help="open a run folder in the gallery")
    p.add_argument("--version", action="version", version=f"GAN Studio {__version__}")
    return p.parse_known_args(list(argv))  # unknown arguments are Qt's own (-platform, -style, ...)


def main(argv: Sequence[str] | None = None) -> int:
    args, qt_args = _parse(sys.argv[1:] if argv is None else argv)

    from PySide6.QtCore import QCoreApplication, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName("GAN Studio")
    QCoreApplication.setOrganizationDomain("gan-studio.invalid")
    QCoreApplication.setApplicationName("GAN Studio")
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance()
    if app is None:
        # fractional scale factors (125 %, 150 %) as the screen asks, not rounded to whole numbers
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0], *qt_args])

    from gan_studio.gui.icon import app_icon
    from gan_studio.gui.main_window import MainWindow
    from gan_studio.gui.style import apply_style

    apply_style(app)
    app.setWindowIcon(app_icon())
    app.setDesktopFileName("gan-studio")
    window = MainWindow()
    window.show()

    def after_shown() -> None:
        task = window.start_engine()
        if args.run:
            task.done.connect(lambda _: window.browse_run(str(args.run)))
        if args.demo:
            window.open_demo()
        elif args.folder:
            window.open_folder(args.folder)

    QTimer.singleShot(0, after_shown)
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main())
