"""Crisp viewing in the gallery (issue #15): pixel-exact or smooth pictures and zoom steps, remembered per user; a
full-screen viewer; Ctrl+C copies the image; samples drag out as PNG files that carry their seed; Save Image As…
from a context menu; the Checkpoint box is never cut off; the latent walk saves an animated GIF."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QComboBox, QStyle, QStyleOptionComboBox

from gan_studio.gui import gallery_view as gallery_module  # the grid view makes the drags
from gan_studio.gui.gallery import GalleryPanel
from gan_studio.gui.imaging import FIT, ImageView, array_from_qimage, qimage_from_array
from gan_studio.gui.settings import Settings

SEED = 5


def rgb32(image: QImage) -> QImage:
    return image.convertToFormat(QImage.Format.Format_RGB32)


def checker(side: int = 8) -> QImage:
    """A black and white checkerboard of side x side pixels: smooth scaling makes greys, pixel-exact never."""
    a = np.zeros((side, side, 3), np.uint8)
    a[(np.add.outer(np.arange(side), np.arange(side)) % 2) == 1] = 255
    return qimage_from_array(a)


def colours(image: QImage) -> set[tuple[int, int, int]]:
    a = array_from_qimage(rgb32(image))[..., :3].reshape(-1, 3)
    return {tuple(int(v) for v in c) for c in np.unique(a, axis=0)}


def open_gallery(window, qtbot, run):
    g = window.gallery
    with qtbot.waitSignal(g.page_ready, timeout=60000):
        window.browse_run(str(run))
    assert g.model.ready_count() == 48
    index = g.model.index(SEED)
    g.view.setCurrentIndex(index)
    g.view.scrollTo(index)
    g.view.setFocus()
    assert g.selected_seeds() == [SEED]
    return g


def item_center(g, seed: int = SEED) -> QPoint:
    return g.view.visualRect(g.model.index(g.model.row_of(seed))).center()


# ------------------------------------------------------------------------------------ pixel-exact and zoom
def test_pixel_exact_zoom_and_thumbnail_size_are_remembered_for_a_new_gallery(qtbot):
    g = GalleryPanel(settings=Settings())
    qtbot.addWidget(g)
    # the defaults: sharp pixels, the larger view fitted, 128 px thumbnails
    assert g.pixel_exact.isChecked() and g.delegate.pixel_exact and g.large.pixel_exact()
    assert g.large.zoom() == FIT and g.zoom_group.checkedId() == FIT and g.delegate.side == 128

    g.pixel_exact.setChecked(False)
    g.zoom_group.button(2).click()
    g.zoom.setValue(200)
    assert not g.delegate.pixel_exact and not g.large.pixel_exact() and g.large.zoom() == 2

    again = GalleryPanel(settings=Settings())  # a new session reads the same user settings
    qtbot.addWidget(again)
    assert not again.pixel_exact.isChecked() and not again.delegate.pixel_exact and not again.large.pixel_exact()
    assert again.large.zoom() == 2 and again.zoom_group.checkedId() == 2
    assert again.zoom.value() == 200 and again.delegate.side == 200

    again.set_pixel_exact(True)
    again.set_large_zoom(4)
    third = GalleryPanel(settings=Settings())
    qtbot.addWidget(third)
    assert third.pixel_exact.isChecked() and third.large.zoom() == 4 and third.zoom_group.checkedId() == 4


def test_pixel_exact_shows_whole_factor_blocks_and_smooth_blends(qtbot):
    view = ImageView()
    qtbot.addWidget(view)
    view.resize(148, 148)
    source = checker(8)
    view.set_image(source)
    view.set_pixel_exact(True)
    shot = view.grab().toImage()
    assert view.factor() == 17.0  # the largest whole factor in 140 px
    shown = shot.copy(view.image_rect().toRect())
    assert rgb32(shown) == rgb32(source.scaled(8 * 17, 8 * 17, mode=Qt.TransformationMode.FastTransformation))
    assert colours(shown) == {(0, 0, 0), (255, 255, 255)}

    view.set_zoom(2)  # 2x: 16 px, each picture pixel a 2 x 2 block
    shown = view.grab().toImage().copy(view.image_rect().toRect())
    assert shown.size() == source.size() * 2 and colours(shown) == {(0, 0, 0), (255, 255, 255)}

    view.set_zoom(FIT)
    view.set_pixel_exact(False)  # smooth: fitted to the area, with greys between the squares
    shown = view.grab().toImage().copy(view.image_rect().toRect())
    assert shown.width() == 140 and len(colours(shown)) > 2


def test_thumbnails_are_pixel_exact_or_smooth(qtbot):
    g = GalleryPanel(settings=Settings())
    qtbot.addWidget(g)
    g.resize(900, 600)
    g.stack.setCurrentIndex(1)
    g.show()
    qtbot.waitExposed(g)
    g.model.set_seeds([1], set())
    g.model.set_image(1, checker(8))
    g.zoom.setValue(100)  # a 100 px square: 12x is the largest whole factor

    def thumbnail() -> QImage:
        shot = g.view.viewport().grab().toImage()
        r = g.view.visualRect(g.model.index(0))
        return shot.copy(r.x() + (r.width() - 100) // 2, r.y() + 6, 100, 100)

    sharp = thumbnail()
    assert colours(sharp) <= {(0, 0, 0), (255, 255, 255)} | colours(sharp.copy(0, 0, 1, 1))
    assert colours(sharp.copy(2, 2, 96, 96)) == {(0, 0, 0), (255, 255, 255)}  # 8 x 12 = 96 px, centred
    g.pixel_exact.setChecked(False)
    assert len(colours(thumbnail().copy(10, 10, 80, 80))) > 2


# ------------------------------------------------------------------------------------------------- viewer
def test_viewer_opens_on_double_click_space_f11_enter_and_walks_the_page(window, qtbot, trained_run):
    g = open_gallery(window, qtbot, trained_run)
    item = g.model.item(SEED)
    assert g.viewer is None

    # a real double-click: press, release, then the double-click event and its release
    qtbot.mouseClick(g.view.viewport(), Qt.MouseButton.LeftButton, pos=item_center(g))
    qtbot.mouseDClick(g.view.viewport(), Qt.MouseButton.LeftButton, pos=item_center(g))
    v = g.viewer
    assert v is not None
    qtbot.waitUntil(v.isVisible, timeout=5000)
    assert v.isFullScreen() and v.current_seed() == SEED and f"Seed {SEED}" in v.caption.text()
    # pixel-exact at the largest whole zoom that fits
    assert v.view.pixel_exact() and v.view.zoom() == FIT
    factor = v.view.factor()
    assert factor == int(factor) >= 2
    area = v.view.rect().adjusted(4, 4, -4, -4)
    assert item.image.height() * (factor + 1) > area.height() or item.image.width() * (factor + 1) > area.width()
    shown = v.view.grab().toImage().copy(v.view.image_rect().toRect())
    w, h = item.image.width() * int(factor), item.image.height() * int(factor)
    assert rgb32(shown) == rgb32(item.image.scaled(w, h, mode=Qt.TransformationMode.FastTransformation))

    # arrows move between the page's seeds (and the gallery follows)
    qtbot.keyClick(v, Qt.Key.Key_Right)
    assert v.current_seed() == SEED + 1 and f"Seed {SEED + 1}" in v.caption.text()
    assert g.selected_seeds() == [SEED + 1]
    qtbot.keyClick(v, Qt.Key.Key_Left)
    qtbot.keyClick(v, Qt.Key.Key_Left)
    assert v.current_seed() == SEED - 1
    qtbot.keyClick(v, Qt.Key.Key_Home)
    assert v.current_seed() == 0
    qtbot.keyClick(v, Qt.Key.Key_Left)  # the first stays the first
    assert v.current_seed() == 0
    qtbot.keyClick(v, Qt.Key.Key_2)
    assert v.view.zoom() == 2 and v.view.factor() == 2
    qtbot.keyClick(v, Qt.Key.Key_S)
    assert not v.view.pixel_exact()
    with qtbot.waitSignal(v.closed, timeout=5000):
        qtbot.keyClick(v, Qt.Key.Key_Escape)
    assert g.viewer is None

    g.view.setCurrentIndex(g.model.index(SEED))
    for key in (Qt.Key.Key_Space, Qt.Key.Key_F11, Qt.Key.Key_Return, Qt.Key.Key_Enter):
        qtbot.keyClick(g.view, key)
        v = g.viewer
        assert v is not None, key
        qtbot.waitUntil(v.isVisible, timeout=5000)
        assert v.current_seed() == SEED and v.isFullScreen()
        assert v.view.pixel_exact() and v.view.zoom() == FIT  # each opening starts pixel-exact, fitted
        with qtbot.waitSignal(v.closed, timeout=5000):
            qtbot.keyClick(v, Qt.Key.Key_Escape)
        assert g.viewer is None
        g.view.setFocus()


# ---------------------------------------------------------------------------------------------- copy, drag
def test_ctrl_c_copies_the_image_not_its_text(window, qtbot, trained_run):
    g = open_gallery(window, qtbot, trained_run)
    clipboard = QApplication.clipboard()
    clipboard.setText("nothing yet")
    qtbot.keyClick(g.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    mime = clipboard.mimeData()
    assert mime.hasImage() and mime.text() != f"seed {SEED}"
    image = clipboard.image()
    source = g.model.item(SEED).image
    assert image.size() == source.size() and rgb32(image) == rgb32(source)


def test_dragging_a_sample_out_gives_a_png_file_with_its_seed(window, qtbot, trained_run, monkeypatch):
    class FakeDrag:
        """QDrag.exec would run the window system's drag loop: record what would be dragged instead."""
        made: list = []

        def __init__(self, source):
            self.source, self.mime, self.pixmap = source, None, None
            FakeDrag.made.append(self)

        def setMimeData(self, mime):  # noqa: N802 - Qt's name
            self.mime = mime

        def setPixmap(self, pixmap):  # noqa: N802
            self.pixmap = pixmap

        def setHotSpot(self, point):  # noqa: N802
            pass

        def exec(self, *actions):
            return Qt.DropAction.CopyAction

    monkeypatch.setattr(gallery_module, "QDrag", FakeDrag, raising=False)
    g = open_gallery(window, qtbot, trained_run)
    viewport, start = g.view.viewport(), item_center(g)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for dx in (4, 12, 30, 60):
        qtbot.mouseMove(viewport, start + QPoint(dx, 0))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(60, 0))

    assert len(FakeDrag.made) == 1
    drag = FakeDrag.made[0]
    mime = drag.mime
    urls = mime.urls()
    assert len(urls) == 1 and urls[0].isLocalFile()
    from pathlib import Path

    path = Path(urls[0].toLocalFile())
    assert path.suffix == ".png" and path.is_file()
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.info["seed"] == str(SEED) and im.info["run"] == trained_run.name and im.info["step"] == "40"
        pixels = np.asarray(im)
    source = g.model.item(SEED).image
    assert np.array_equal(pixels.reshape(array_from_qimage(source).shape), array_from_qimage(source))
    assert mime.hasImage() and mime.imageData().size() == source.size()
    assert drag.pixmap is not None and not drag.pixmap.isNull()


# ------------------------------------------------------------------------------------- context menu, save as
@pytest.mark.qt_log_ignore(".*does not support (raise|grabbing the keyboard|propagateSizeHints).*")  # offscreen menus
def test_context_menu_saves_the_image_as_a_png_copies_views_and_marks(window, qtbot, trained_run, tmp_path):
    g = open_gallery(window, qtbot, trained_run)
    asked = []
    target = tmp_path / "chosen" / "my sample.png"
    target.parent.mkdir()
    g.ask_save_path = lambda suggested: asked.append(suggested) or target
    menu = g.show_context_menu(item_center(g))
    assert menu is not None and menu.isVisible()
    texts = [a.text().split("\t")[0] for a in menu.actions() if not a.isSeparator()]
    assert texts == ["Open in Viewer", "Copy Image", "Save Image As…", "Mark as Favourite"]
    actions = {a.text().split("\t")[0]: a for a in menu.actions()}

    actions["Save Image As…"].trigger()
    qtbot.waitUntil(target.exists, timeout=10000)
    assert asked and f"seed_{SEED:06d}" in asked[0].name and asked[0].suffix == ".png"
    with Image.open(target) as im:
        assert im.format == "PNG" and im.info["seed"] == str(SEED) and im.info["run"] == trained_run.name
        pixels = np.asarray(im)
    source = array_from_qimage(g.model.item(SEED).image)
    assert np.array_equal(pixels.reshape(source.shape), source)
    assert not [p for p in target.parent.iterdir() if p != target]  # no temporary file left beside it
    qtbot.waitUntil(lambda: g._save_task is not None and not g._save_task.running, timeout=10000)

    # cancelled: nothing is written
    g.ask_save_path = lambda suggested: None
    assert g.save_image_as() is None

    QApplication.clipboard().setText("nothing yet")
    actions["Copy Image"].trigger()
    assert QApplication.clipboard().image().size() == g.model.item(SEED).image.size()

    actions["Mark as Favourite"].trigger()
    assert SEED in g.favourites
    menu = g.show_context_menu(item_center(g))
    assert any(a.text().startswith("Remove from Favourites") for a in menu.actions())
    menu.close()

    actions = {a.text().split("\t")[0]: a for a in menu.actions()}
    actions["Open in Viewer"].trigger()
    v = g.viewer
    assert v is not None and v.current_seed() == SEED
    with qtbot.waitSignal(v.closed, timeout=5000):
        v.close()


# ------------------------------------------------------------------------------------------- checkpoint box
def test_checkpoint_box_is_not_cut_off_when_the_tab_was_shown_before_a_run(window, qtbot, trained_run):
    best = trained_run / "checkpoints" / "best.pt"
    shutil.copyfile(trained_run / "checkpoints" / "step_00000040.pt"
                    if (trained_run / "checkpoints" / "step_00000040.pt").exists()
                    else sorted((trained_run / "checkpoints").glob("step_*.pt"))[-1], best)
    g = window.gallery
    window.tabs.setCurrentIndex(3)  # the Gallery tab, empty
    qtbot.waitExposed(g)
    QApplication.processEvents()
    window.browse_run(str(trained_run))
    qtbot.waitUntil(lambda: g.host.generator is not None, timeout=60000)
    combo = g.checkpoint
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert "best (by the quality check)" in texts

    def text_room() -> int:
        opt = QStyleOptionComboBox()
        combo.initStyleOption(opt)
        return combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                            QStyle.SubControl.SC_ComboBoxEditField, combo).width()

    longest = max(combo.fontMetrics().horizontalAdvance(t) for t in texts)
    qtbot.waitUntil(lambda: combo.width() >= combo.sizeHint().width(), timeout=5000)
    assert text_room() >= longest, (text_room(), longest, texts)
    assert combo.sizeAdjustPolicy() == QComboBox.SizeAdjustPolicy.AdjustToContents


# ------------------------------------------------------------------------------------------ latent walk GIF
def test_latent_walk_saves_an_animated_gif(window, qtbot, trained_run, tmp_path):
    g = open_gallery(window, qtbot, trained_run)
    g.select_seeds([3, 9])
    g.interpolate()
    dialog = g.interp_dialog
    assert not dialog.save_gif_button.isEnabled()
    qtbot.waitUntil(lambda: len(dialog.frames) == 24, timeout=60000)
    assert dialog.save_gif_button.isEnabled() and dialog.view.pixel_exact()
    target = tmp_path / "walk.gif"
    asked = []
    dialog.ask_gif_path = lambda suggested: asked.append(suggested) or target
    qtbot.mouseClick(dialog.save_gif_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.gif_task.done, timeout=30000):
        pass
    assert asked and asked[0].suffix == ".gif" and "3" in asked[0].name and "9" in asked[0].name
    with Image.open(target) as im:
        assert im.format == "GIF" and im.is_animated
        assert im.n_frames == 24 + 22  # there and back, as the dialog plays it
        assert im.info.get("loop") == 0
        native = dialog.images[0].width()
        assert im.width == native * -(-128 // native)  # enlarged by a whole factor (pixel-exact) to >= 128 px
    assert "Saved" in dialog.saved.text()
    dialog.close()


@pytest.mark.parametrize("pixel_exact", [True, False])
def test_gif_frames_sizes(pixel_exact):
    from gan_studio.gui.gallery_dialogs import gif_frames

    frames = gif_frames([np.full((28, 28, 1), i, np.uint8) for i in range(4)], pixel_exact)
    assert len(frames) == 4 + 2 and all(f.mode == "RGB" for f in frames)
    assert frames[0].size == ((140, 140) if pixel_exact else (128, 128))
