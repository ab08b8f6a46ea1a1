"""The gallery of a conditional model (issue 17, "Many painters, one model"): a style picker whose choice paints the
pages, a blend slider with a live preview, a style grid (rows = styles), a walk between styles saved as a GIF, and
saved, dragged, copied and exported images that carry their style in file names and PNG metadata. A run without
styles shows none of it."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import one_torch_thread
from PIL import Image
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication

from gan_studio.gui.imaging import array_from_qimage

STYLES = ["monet", "song"]
SEED = 5


@pytest.fixture(scope="session")
def pristine_styled_run(tmp_path_factory) -> Path:
    """A tiny conditional run (two style folders of 20 landscapes each, 4 steps), trained once by the engine."""
    from gan_studio.data.demo import make_landscape
    from gan_studio.engine import Trainer
    from gan_studio.gui import tasks  # noqa: F401 - Qt first, as the app has it

    base = tmp_path_factory.mktemp("styled")
    folder = base / "painters"
    for k, name in enumerate(STYLES):
        (folder / name).mkdir(parents=True)
        for i in range(20):
            make_landscape(100 * k + i, (40, 40)).save(folder / name / f"{i:02d}.png")
    from gan_studio.config import RunConfig

    cfg = RunConfig()
    cfg.data.source = str(folder)
    cfg.data.res, cfg.model.width = 32, 8
    cfg.train.batch, cfg.train.steps = 8, 4
    cfg.train.sample_every = cfg.train.checkpoint_every = 4
    out = base / "20240102-120000-dcgan-painters"
    with one_torch_thread(), pytest.MonkeyPatch.context() as mp:  # a session fixture runs before isolated_dirs
        mp.setenv("GAN_STUDIO_CACHE", str(base / "cache"))
        events = list(Trainer.new(cfg, out=out).run())
    assert type(events[-1]).__name__ == "Finished"
    return out


@pytest.fixture
def styled_run(pristine_styled_run) -> Path:
    from gan_studio.engine import default_runs_root

    target = default_runs_root() / pristine_styled_run.name
    shutil.copytree(pristine_styled_run, target)
    return target


@pytest.fixture
def gen(styled_run):
    from gan_studio.engine import load_generator

    g = load_generator(styled_run)
    assert g.styles == STYLES
    return g


def one_hot(i: int) -> np.ndarray:
    v = np.zeros(len(STYLES), np.float32)
    v[i] = 1
    return v


def open_gallery(window, qtbot, run):
    g = window.gallery
    with qtbot.waitSignal(g.page_ready, timeout=60000):
        window.browse_run(str(run))
    assert g.model.ready_count() == 48
    return g


def shown(g) -> np.ndarray:
    return np.stack([array_from_qimage(item.image) for item in g.model.items])


def pick(g, qtbot, text: str) -> None:
    picker = g.style_bar.chooser.picker
    with qtbot.waitSignal(g.page_ready, timeout=30000):
        picker.setCurrentIndex(picker.findText(text))


# ------------------------------------------------------------------------------------------------ picker
def test_the_style_picker_lists_the_styles_and_paints_the_pages_in_the_one_chosen(window, qtbot, styled_run, gen):
    g = open_gallery(window, qtbot, styled_run)
    picker = g.style_bar.chooser.picker
    assert g.style_bar.isVisible() and g.style_walk_button.isVisible()
    assert [picker.itemText(i) for i in range(picker.count())] == ["Each seed's style", *STYLES, "Blend…"]
    seeds = g.model.seeds()
    # at first each seed in its own style, in turn, as the engine draws them without one
    assert g.style_vector() is None
    assert np.array_equal(shown(g), gen.images(seeds))
    assert [i.style for i in g.model.items[:4]] == ["monet", "song", "monet", "song"]
    assert g.model.data(g.model.index(1)) == "seed 1 · song"

    for i, name in enumerate(STYLES):
        pick(g, qtbot, name)
        assert np.array_equal(g.style_vector(), one_hot(i))
        assert np.array_equal(shown(g), gen.images(seeds, style=one_hot(i)))
        assert {item.style for item in g.model.items} == {name}
    assert not np.array_equal(gen.images(seeds, style=one_hot(0)), gen.images(seeds, style=one_hot(1)))

    # the larger view and the viewer say the style; other pages keep it
    g.view.setCurrentIndex(g.model.index(SEED))
    assert "song" in g.large_caption.text() and "song" in g.describe(SEED)
    with qtbot.waitSignal(g.page_ready, timeout=30000):
        g.go_page(1)
    assert np.array_equal(shown(g), gen.images(g.model.seeds(), style=one_hot(1)))


def test_the_blend_slider_paints_the_pure_styles_at_its_ends_and_a_live_preview_off_the_gui_thread(
        window, qtbot, styled_run, gen):
    g = open_gallery(window, qtbot, styled_run)
    bar, chooser = g.style_bar, g.style_bar.chooser
    assert not chooser.blend_box.isVisible() and not bar.preview.isVisible()
    g.view.setCurrentIndex(g.model.index(SEED))
    with qtbot.waitSignals([g.page_ready, bar.preview_ready], timeout=30000):
        chooser.picker.setCurrentIndex(chooser.picker.findText("Blend…"))
    assert chooser.blend_box.isVisible() and bar.preview.isVisible()
    assert (chooser.style_a.currentText(), chooser.style_b.currentText(), chooser.slider.value()) == \
        ("monet", "song", 50)
    seeds = g.model.seeds()
    assert np.array_equal(shown(g), gen.images(seeds, style=np.array([0.5, 0.5])))
    assert g.model.item(SEED).style == "monet50-song50"
    assert g.model.data(g.model.index(SEED)) == f"seed {SEED}"  # one style for all: the bar says it, not each caption
    assert "monet50-song50" in g.large_caption.text() and g.selected_seeds() == [SEED]  # the selection stays

    for value, expected, style in ((0, one_hot(0), "monet"), (100, one_hot(1), "song"),
                                   (40, np.array([0.6, 0.4]), "monet60-song40")):
        with qtbot.waitSignals([bar.preview_ready, g.page_ready], timeout=30000):
            chooser.slider.setValue(value)
            # nothing is drawn on the GUI thread: the slider only starts the timers
            assert bar._preview_timer.isActive() and bar._page_timer.isActive()
        assert chooser.weights.text() == {0: "monet", 100: "song", 40: "monet 60% · song 40%"}[value]
        assert np.array_equal(shown(g), gen.images(seeds, style=expected)), value
        assert {item.style for item in g.model.items} == {style}
        assert bar.preview_seed_shown == SEED and bar.preview_label == style
        preview = array_from_qimage(bar.preview.pixmap().toImage().convertToFormat(g.model.item(SEED).image.format()))
        assert np.array_equal(preview, gen.images([SEED], style=expected)[0])

    # a drag sends many values: one preview and one page follow when the slider rests
    rendered = []
    bar.preview_ready.connect(lambda: rendered.append("preview"))
    g.page_ready.connect(lambda: rendered.append("page"))
    with qtbot.waitSignal(g.page_ready, timeout=30000):
        for value in range(41, 71):
            chooser.slider.setValue(value)
    qtbot.wait(50)
    assert rendered.count("page") == 1 and rendered.count("preview") <= 2
    assert np.array_equal(shown(g), gen.images(seeds, style=np.array([0.3, 0.7])))


# -------------------------------------------------------------------------------------------- style grid
def test_the_style_grid_has_a_row_per_style_and_the_same_seed_down_each_column(window, qtbot, styled_run, gen,
                                                                               tmp_path):
    g = open_gallery(window, qtbot, styled_run)
    dialog = g.show_style_grid()
    assert dialog is not None
    with qtbot.waitSignal(dialog.ready, timeout=30000):
        pass
    assert dialog.labels == STYLES and dialog.seeds == list(range(8))
    assert dialog.cells.shape == (2, 8, 32, 32, 3)
    for r in range(2):
        assert np.array_equal(dialog.cells[r], gen.images(dialog.seeds, style=one_hot(r)))
    assert dialog.grid.itemAtPosition(1, 0).widget().text() == "monet"
    assert dialog.grid.itemAtPosition(2, 0).widget().text() == "song"
    assert dialog.grid.itemAtPosition(0, 3).widget().text() == "seed 2"
    assert len(dialog.cell_labels) == 16

    target = tmp_path / "sheet.png"
    dialog.ask_sheet_path = lambda suggested: target
    dialog.save_button.click()
    with qtbot.waitSignal(dialog.save_task.done, timeout=10000):
        pass
    with Image.open(target) as im:
        assert im.size == (8 * 34 + 2, 2 * 34 + 2)
        sheet = np.asarray(im)
    from gan_studio.style_sheets import sheet_from_cells

    assert np.array_equal(sheet, sheet_from_cells(dialog.cells))
    assert "Saved" in dialog.saved.text()
    dialog.close()

    # two samples selected: the grid shows those
    g.select_seeds([3, 9])
    dialog = g.show_style_grid()
    with qtbot.waitSignal(dialog.ready, timeout=30000):
        pass
    assert dialog.seeds == [3, 9] and dialog.cells.shape[:2] == (2, 2)
    dialog.close()


def test_walk_between_styles_plays_and_saves_a_looping_gif_of_one_seed(window, qtbot, styled_run, gen, tmp_path):
    g = open_gallery(window, qtbot, styled_run)
    g.view.setCurrentIndex(g.model.index(SEED))
    assert g.style_walk_button.isEnabled()
    g.style_walk_button.click()
    dialog = g.style_walk_dialog
    qtbot.waitUntil(lambda: len(dialog.frames) == 24, timeout=30000)
    assert np.array_equal(array_from_qimage(dialog.images[0]), gen.images([SEED], style=one_hot(0))[0])
    assert np.array_equal(array_from_qimage(dialog.images[12]), gen.images([SEED], style=one_hot(1))[0])
    assert dialog.caption(0) == "monet" and dialog.caption(12) == "song" and "%" in dialog.caption(6)
    target = tmp_path / "walk.gif"
    asked = []
    dialog.ask_gif_path = lambda suggested: asked.append(suggested) or target
    dialog.save_gif_button.click()
    with qtbot.waitSignal(dialog.gif_task.done, timeout=30000):
        pass
    assert asked and asked[0].name == f"style_walk_seed_{SEED}.gif"
    with Image.open(target) as im:
        assert im.format == "GIF" and im.is_animated and im.n_frames == 24 and im.info.get("loop") == 0
    dialog.close()


# ------------------------------------------------------------------------------ the style goes with the image
@pytest.mark.qt_log_ignore(".*does not support (raise|grabbing the keyboard|propagateSizeHints).*")  # offscreen menus
def test_saved_dragged_and_copied_samples_carry_their_style(window, qtbot, styled_run, tmp_path):
    g = open_gallery(window, qtbot, styled_run)
    pick(g, qtbot, "song")
    g.view.setCurrentIndex(g.model.index(SEED))
    source = array_from_qimage(g.model.item(SEED).image)

    asked = []
    target = tmp_path / "mine.png"
    g.ask_save_path = lambda suggested: asked.append(suggested) or target
    with qtbot.waitSignal(g.save_image_as().done, timeout=10000):
        pass
    assert asked[0].name == f"{styled_run.name}-seed_{SEED:06d}_song.png"
    with Image.open(target) as im:
        assert im.text["style"] == "song" and im.text["seed"] == str(SEED)
        assert np.array_equal(np.asarray(im), source)

    mime = g.drag_mime([SEED])
    path = Path(mime.urls()[0].toLocalFile())
    assert path.name == f"seed_{SEED:06d}_song.png"
    with Image.open(path) as im:
        assert im.text["style"] == "song" and im.text["run"] == styled_run.name

    assert g.copy_image()
    data = QApplication.clipboard().mimeData()
    assert data.hasImage()
    with Image.open(io.BytesIO(bytes(data.data("image/png")))) as im:
        assert im.text["style"] == "song" and np.array_equal(np.asarray(im), source)
    # the offscreen platform crashes at interpreter exit if the clipboard still owns our QMimeData
    QApplication.clipboard().clear()

    menu = g.show_context_menu(g.view.visualRect(g.model.index(SEED)).center())
    texts = [a.text().split("\t")[0] for a in menu.actions() if not a.isSeparator()]
    assert texts[-2:] == ["Walk Between Styles…", "Style Grid…"]
    menu.close()


def test_the_export_dialog_paints_the_chosen_style_into_names_and_metadata(window, qtbot, styled_run, tmp_path):
    from gan_studio.gui.export_dialog import ExportDialog

    dialog = ExportDialog(styled_run, [], 32, None, "cpu", None, window, style=np.array([0.6, 0.4]))
    qtbot.addWidget(dialog)
    chooser = dialog.style_choice
    assert chooser is not None and chooser.is_blend() and chooser.slider.value() == 40
    assert chooser.weights.text() == "monet 60% · song 40%"
    dialog.new_radio.setChecked(True)
    dialog.count.setValue(3)
    dialog.grid.setChecked(False)
    dialog.html.setChecked(True)
    dialog.folder.setText(str(tmp_path / "blend"))
    with qtbot.waitSignal(dialog.exported, timeout=60000):
        dialog.export()
    names = sorted(p.name for p in (tmp_path / "blend").glob("*.png"))
    assert names == [f"seed_{s:06d}_monet60-song40.png" for s in range(3)]
    with Image.open(tmp_path / "blend" / names[0]) as im:
        assert im.text["style"] == "monet60-song40"
    assert "monet60-song40" in (tmp_path / "blend" / "index.html").read_text()

    chooser.picker.setCurrentIndex(chooser.picker.findText("song"))
    dialog.folder.setText(str(tmp_path / "song"))
    with qtbot.waitSignal(dialog.exported, timeout=60000):
        dialog.export()
    assert sorted(p.name for p in (tmp_path / "song").glob("*.png")) == [f"seed_{s:06d}_song.png" for s in range(3)]

    chooser.picker.setCurrentIndex(0)  # each seed's own
    assert dialog.style() is None
    dialog.folder.setText(str(tmp_path / "own"))
    with qtbot.waitSignal(dialog.exported, timeout=60000):
        dialog.export()
    assert sorted(p.name for p in (tmp_path / "own").glob("*.png")) == \
        ["seed_000000_monet.png", "seed_000001_song.png", "seed_000002_monet.png"]
    dialog.close()


# --------------------------------------------------------------------------------------- without styles
@pytest.mark.qt_log_ignore(".*does not support (raise|grabbing the keyboard|propagateSizeHints).*")  # offscreen menus
def test_a_run_without_styles_shows_no_style_controls(window, qtbot, trained_run, styled_run, tmp_path):
    from gan_studio.gui.export_dialog import ExportDialog

    g = open_gallery(window, qtbot, styled_run)
    assert g.style_bar.isVisible()
    g = open_gallery(window, qtbot, trained_run)  # from a styled run to one without styles
    assert not g.style_bar.isVisible() and not g.style_walk_button.isVisible()
    assert g.style_names() == [] and g.style_vector() is None and g.show_style_grid() is None
    assert {item.style for item in g.model.items} == {""}
    assert g.model.data(g.model.index(SEED)) == f"seed {SEED}"
    g.view.setCurrentIndex(g.model.index(SEED))
    menu = g.show_context_menu(g.view.visualRect(g.model.index(SEED)).center())
    texts = [a.text().split("\t")[0] for a in menu.actions() if not a.isSeparator()]
    assert texts == ["Open in Viewer", "Copy Image", "Save Image As…", "Mark as Favourite"]
    menu.close()
    mime = g.drag_mime([SEED])
    assert Path(mime.urls()[0].toLocalFile()).name == f"seed_{SEED:06d}.png"
    assert mime.urls()[0] == QUrl.fromLocalFile(mime.urls()[0].toLocalFile())

    dialog = ExportDialog(trained_run, [], 32, None, "cpu", None, window)
    qtbot.addWidget(dialog)
    assert dialog.style_choice is None and dialog.style() is None
    dialog.close()
