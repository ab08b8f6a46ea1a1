"""Walk through GAN Studio's main screens with the demo landscapes and save a screenshot of each.

Run by scripts/screenshots.sh under Xvfb (QT_QPA_PLATFORM=xcb); it also works offscreen. Screenshots are
taken with QScreen.grabWindow, like a user's screenshot tool, and kept under ~300 KB each.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MAX_BYTES = 290_000


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    p.add_argument("--settings", type=Path, default=None, help="folder for a throwaway QSettings store")
    p.add_argument("--train-seconds", type=float, default=100.0, help="how long the main demo run trains")
    p.add_argument("--size", default="1200x760", help="window size WxH")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in args.size.lower().split("x"))

    from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName("GAN Studio Screenshots")
    QCoreApplication.setApplicationName("GAN Studio")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(args.settings or tempfile.mkdtemp(prefix="gan-studio-shots-")))
    app = QApplication([sys.argv[0]])
    from gan_studio.gui.icon import app_icon
    from gan_studio.gui.main_window import MainWindow
    from gan_studio.gui.style import apply_style
    from gan_studio.gui.training_form import _select
    from gan_studio.gui.training_state import TrainingState

    apply_style(app)
    app.setWindowIcon(app_icon())
    w = MainWindow()
    w.resize(width, height)
    w.move(40, 40)
    w.show()

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.01)

    def wait_until(cond, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise SystemExit(f"screenshots: timed out waiting for {what}")
            pump(0.05)

    def shot_with_popup(name: str, popup) -> None:
        """The window with a popup (a context menu) drawn where it opened."""
        from PySide6.QtGui import QPainter

        screen = w.screen()
        image = screen.grabWindow(w.winId()).toImage()
        menu_image = screen.grabWindow(popup.winId()).toImage()
        p = QPainter(image)
        p.drawImage(popup.x() - w.x(), popup.y() - w.y(), menu_image)
        p.end()
        save_small(image, args.out / f"{name}.png")
        print(args.out / f"{name}.png")

    def shot(name: str, dialog=None) -> None:
        pump(0.6)
        screen = w.screen()
        image = screen.grabWindow(w.winId()).toImage()
        if dialog is not None:  # Xvfb has no window manager: draw the dialog's frame as a desktop would
            image = framed(image, screen.grabWindow(dialog.winId()).toImage(), dialog.windowTitle(),
                           dialog.x() - w.x(), dialog.y() - w.y())
        path = args.out / f"{name}.png"
        save_small(image, path)
        print(f"{path}  {path.stat().st_size // 1024} KB")

    # 1. the first start: an empty window that invites a drop
    w.start_engine()
    pump(1.0)
    shot("01-empty-state")
    wait_until(lambda: w.engine_ready, 180, "the engine")

    # 2. the demo landscapes, scanned, with their thumbnails
    w.open_demo()
    wait_until(lambda: w.dataset.summary is not None and not w.dataset.is_busy(), 600, "the demo data set")
    loader = w.dataset.model.loader
    wait_until(lambda: loader.pending() == 0 and loader.pixmap(w.dataset.model._items[0][0]) is not None, 60,
               "thumbnails")
    shot("02-dataset")

    form = w.training.form

    def train(res: int, width_: int, batch: int, seconds: float, stop: bool = True) -> None:
        w.tabs.setCurrentIndex(1)
        w.training.new_run_mode()
        _select(form.model, "dcgan")
        _select(form.res, res)
        form.width_spin.setValue(width_)
        form.batch.setValue(batch)
        form.by_minutes.setChecked(True)
        form.minutes.setValue(10)
        _select(form.device, "auto")
        w.training.start()
        wait_until(lambda: w.training.state is TrainingState.TRAINING and w.training.last_step > 0, 600, "training")
        pump(seconds)
        if stop:
            w.training.stop()
            wait_until(lambda: w.training.state is TrainingState.IDLE, 300, "the training to stop")

    # 3. a quick sketch run first (so the Runs tab has history), then the main run, shot while it trains
    train(16, 16, 32, min(20.0, args.train_seconds / 4))
    train(32, 16, 32, args.train_seconds, stop=False)
    wait_until(lambda: w.training.d_chart.count() > 10, 300, "the charts")
    shot("03-training")
    w.training.stop()
    wait_until(lambda: w.training.state is TrainingState.IDLE, 300, "the training to stop")

    # 4. the runs
    w.tabs.setCurrentIndex(2)
    w.runs.refresh()
    w.runs.view.selectRow(0)
    wait_until(lambda: w.runs.model.loader.pending() == 0, 30, "run thumbnails")
    shot("04-runs")

    # 5. the gallery of the main run, a sample enlarged, two favourites
    w.runs.browse()
    g = w.gallery
    wait_until(lambda: g.model.rowCount() > 0 and g.model.ready_count() == g.model.rowCount(), 120, "the gallery")
    for row in (2, 9):
        g.view.setCurrentIndex(g.model.index(row))
        g.toggle_favourite()
    g.view.setCurrentIndex(g.model.index(5))
    shot("05-gallery")

    # 6. a latent walk between two samples
    g.select_seeds(g.model.seeds()[5:7])
    g.interpolate()
    d = g.interp_dialog
    d.resize(520, 600)
    d.move(w.x() + (w.width() - 520) // 2, w.y() + 80)
    wait_until(lambda: len(d.frames) > 0, 120, "the latent walk")
    d.timer.stop()
    d._show(len(d.frames) // 2)
    shot("06-latent-walk", d)
    d.close()

    # 7. the export dialog, after exporting the favourites and a few new samples
    w.export()
    e = w.export_dialog
    e.move(w.x() + (w.width() - e.width()) // 2, w.y() + 120)
    out = Path(tempfile.mkdtemp(prefix="gan-studio-export-")) / w.gallery.run_dir.name
    e.folder.setText(str(out))
    e.new_radio.setChecked(True)
    e.count.setValue(24)
    e.size.setCurrentIndex(e.size.findData(256))
    e.gif.setChecked(True)
    exported = []
    e.exported.connect(exported.append)
    e.export()
    wait_until(lambda: exported, 300, "the export")
    pump(0.5)
    e.adjustSize()
    shot("07-export", e)
    e.close()

    # 8. the full-screen viewer on one sample, pixel-exact
    w.tabs.setCurrentIndex(3)
    g.view.setCurrentIndex(g.model.index(5))
    viewer = g.open_viewer()
    pump(1.0)
    image = viewer.screen().grabWindow(viewer.winId()).toImage()
    save_small(image, args.out / "08-viewer.png")
    print(args.out / "08-viewer.png")
    viewer.close()
    pump(0.3)

    # 9. a sample's context menu in the gallery
    rect = g.view.visualRect(g.model.index(9))
    menu = g.show_context_menu(rect.center())
    pump(0.6)
    shot_with_popup("09-gallery-menu", menu)
    menu.close()

    # 10. the Runs tab's context menu, with notes on the main run
    w.tabs.setCurrentIndex(2)
    w.runs.refresh()
    w.runs.view.selectRow(0)
    w.runs.notes.setPlainText("Demo landscapes at 32 px: the skies come first, then the mountains.")
    w.runs.save_notes()
    rect = w.runs.view.visualRect(w.runs.model.index(0, 1))
    menu = w.runs.show_context_menu(rect.center())
    pump(0.6)
    shot_with_popup("10-runs-menu", menu)
    menu.close()

    # 11. reopening a run that did not end cleanly (as kill -9 leaves one): what was lost, the checkpoint's state
    from gan_studio.engine import RunDir

    run = RunDir(w.runs.selected().path)
    last = run.read_stats()[-1]
    with open(run.stats_path, "a") as f:
        for i in range(1, 41):
            f.write(json.dumps({**last, "step": last["step"] + 2 * i, "seconds": last["seconds"] + 2.5 * i}) + "\n")
    w.resume_run(str(run.path))
    shot("11-crash-notice")

    w.confirm_close_during_training = lambda: True
    w.close()
    w.shutdown()
    return 0


def framed(window, dialog, title: str, x: int, y: int):
    """``window`` dimmed, with ``dialog`` over it at (x, y) in a title-barred frame with a soft shadow."""
    from PySide6.QtCore import QRect, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QPainter

    bar = 30
    out = window.copy()
    p = QPainter(out)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.fillRect(out.rect(), QColor(0, 0, 0, 90))
    frame = QRect(x - 1, y - bar, dialog.width() + 2, dialog.height() + bar + 1)
    for i in range(12, 0, -1):  # shadow
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 10))
        p.drawRoundedRect(QRectF(frame.adjusted(-i, -i + 4, i, i + 4)), 10 + i, 10 + i)
    p.setBrush(QColor("#2e3035"))
    p.setPen(QColor("#4a4d55"))
    p.drawRoundedRect(QRectF(frame), 8, 8)
    p.drawImage(x, y, dialog)
    font = QFont(p.font())
    font.setBold(True)
    p.setFont(font)
    p.setPen(QColor("#d8d8d8"))
    p.drawText(QRect(frame.x(), frame.y(), frame.width(), bar), Qt.AlignmentFlag.AlignCenter, title)
    p.end()
    return out


def save_small(image, path: Path) -> None:
    """PNG, reduced to a 256-colour palette only if the full-colour file would be over MAX_BYTES."""
    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice

    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    data = bytes(buf.data())
    if len(data) > MAX_BYTES:
        pil = Image.open(io.BytesIO(data)).convert("RGB")
        for colors in (256, 192, 128):
            small = io.BytesIO()
            pil.quantize(colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG).save(
                small, "PNG", optimize=True)
            data = small.getvalue()
            if len(data) <= MAX_BYTES:
                break
    path.write_bytes(data)


if __name__ == "__main__":
    raise SystemExit(main())
