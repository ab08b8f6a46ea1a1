"""Many painters, one model (the app): a folder of style folders shows its thumbnails grouped by style, with the
counts and what is left out, and why; the form says '3 styles, one model' with a switch whose value is the run's
data.styles ('auto' or 'off'), kept between sessions like the other options."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import drop_urls
from PIL import Image, ImageOps
from PySide6.QtCore import Qt

from gan_studio.config import RunConfig
from gan_studio.data.demo import make_landscape
from gan_studio.gui.dataset_panel import NO_STYLE
from gan_studio.gui.settings import Settings
from gan_studio.gui.thumbnails import ThumbnailModel
from gan_studio.gui.training_form import BINDINGS, TrainingForm, _select

STYLES = {"monet": 20, "ming": 21, "song": 22}  # the names sort as ming, monet, song: the layout's order


def paint(seed: int, style: str) -> Image.Image:
    """A 40 px landscape; ming in ink and paper tones, song tinted blue-green, so the styles look apart."""
    image = make_landscape(seed, (40, 40))
    if style == "ming":
        return ImageOps.colorize(image.convert("L"), "#2b1d0e", "#f3e3c3")
    if style == "song":
        return Image.blend(image, Image.new("RGB", image.size, "#3c8c7c"), 0.45)
    return image


@pytest.fixture(scope="module")
def painters(tmp_path_factory) -> Path:
    """Three style folders (20, 21 and 22 images, one of them in a sub-folder), a loose image at the top level
    and a folder of 3 images: too few for a style."""
    folder = tmp_path_factory.mktemp("styled") / "painters"
    for k, (style, n) in enumerate(STYLES.items()):
        for i in range(n):
            sub = folder / style / ("late" if style == "monet" and i >= 15 else "")
            sub.mkdir(parents=True, exist_ok=True)
            paint(100 * k + i, style).save(sub / f"{style}_{i:02d}.png")
    paint(900, "monet").save(folder / "loose.png")
    (folder / "sketches").mkdir()
    for i in range(3):
        paint(950 + i, "monet").save(folder / "sketches" / f"s{i}.png")
    return folder


def wait_scanned(qtbot, window):
    qtbot.waitUntil(lambda: window.dataset.summary is not None and not window.dataset.is_busy(), timeout=60000)
    return window.dataset.summary


def shown_groups(panel) -> list[str]:
    """The group of every image the grid shows, in its order (a group's title tile is not an image)."""
    view = panel.view.model()
    return [view.index(r, 0).data(ThumbnailModel.GroupRole) for r in range(view.rowCount())
            if view.index(r, 0).data(ThumbnailModel.TitleRole) is None]


def shown_titles(panel) -> list[tuple[int, str]]:
    """(row, tooltip) of each title tile the grid shows."""
    view = panel.view.model()
    return [(r, view.index(r, 0).data(3)) for r in range(view.rowCount())
            if view.index(r, 0).data(ThumbnailModel.TitleRole) is not None]


def test_a_folder_of_style_folders_is_shown_grouped_by_style(window, qtbot, painters):
    enter, drop = drop_urls(window, [painters])
    assert enter.isAccepted() and drop.isAccepted()
    s = wait_scanned(qtbot, window)
    d = window.dataset
    assert s.count == 67 and s.styles is not None and s.styles.names == ["ming", "monet", "song"]

    text = d.counts.text()
    assert text.startswith("63 images in 3 styles: ming 21, monet 20, song 22 · 4 in no style · 40×40 px")
    for message in s.styles.messages():  # what is left out, and why
        assert message in text
    assert "1 image(s) at the top level" in text and "folder 'sketches' has 3 image(s)" in text

    assert d.filter_box.isVisibleTo(d)
    entries = [d.style_filter.itemText(i) for i in range(d.style_filter.count())]
    assert entries == ["All 3 styles — 63 images + 4 in none", "ming — 21 images", "monet — 20 images",
                       "song — 22 images", "Not in any style — 4 images"]
    assert "switch styles off" in d.style_filter.itemData(4, 3)  # ToolTipRole: why they are left out

    # all of them, grouped in the styles' order, the images in no style last, each group under its title tile
    assert shown_groups(d) == ["ming"] * 21 + ["monet"] * 20 + ["song"] * 22 + [NO_STYLE] * 4
    assert shown_titles(d) == [(0, "ming: 21 images"), (22, "monet: 20 images"), (43, "song: 22 images"),
                               (66, "Not in any style: 4 images, left out")]
    view = d.view.model()
    assert view.flags(view.index(0, 0)) & Qt.ItemFlag.ItemIsSelectable == Qt.ItemFlag.NoItemFlags  # a heading
    tile = view.index(0, 0).data(1)  # DecorationRole: a card of a thumbnail's size
    assert tile.width() / tile.devicePixelRatio() == d.model.side and view.index(0, 0).data(d.model.PathRole) is None
    d.style_filter.setCurrentIndex(2)  # as the user picks 'monet' in the combo
    assert shown_groups(d) == ["monet"] * 20 and shown_titles(d) == [(0, "monet: 20 images")]
    paths = [Path(view.index(r, 0).data(ThumbnailModel.PathRole)) for r in range(1, view.rowCount())]
    assert all(p.relative_to(painters.resolve()).parts[0] == "monet" for p in paths)
    assert sum(p.parent.name == "late" for p in paths) == 5  # a style keeps its own sub-folders
    assert "Style: monet" in view.index(1, 0).data(3)  # ToolTipRole
    d.show_style(NO_STYLE)
    assert len(shown_groups(d)) == 4
    tips = [view.index(r, 0).data(3) for r in range(1, view.rowCount())]
    assert sum("At the top level" in t for t in tips) == 1 and sum("'sketches'" in t for t in tips) == 3
    d.show_style(None)
    assert len(shown_groups(d)) == 67
    first = view.index(1, 0)
    first.data(1)  # DecorationRole through the filter: the thumbnail is decoded lazily, as before
    qtbot.waitUntil(lambda: d.model.loader.pixmap(first.data(ThumbnailModel.PathRole)) is not None, timeout=20000)

    # the form: '3 styles, one model', the switch on, and the config trains styles ...
    form = window.training.form
    assert form.styles_line.isVisibleTo(form) and form.styles_check.isVisibleTo(form)
    assert form.styles_line.text().startswith("3 styles, one model: ming 21, monet 20, song 22")
    assert "4 in no style" in form.styles_line.text()
    assert form.styles_check.isChecked() and form.styles_check.isEnabled()
    assert form.to_config(s, window.training.device_type).data.styles == "auto"
    # ... or, switched off, one model on everything; kept between sessions like the other options
    form.styles_check.setChecked(False)
    assert form.to_config(s, window.training.device_type).data.styles == "off"
    assert form.styles_line.text() == "Styles off: one model on all 67 images, the 3 styles mixed"
    window.save_state()
    assert Settings().json("train/form")["styles"] == "off"
    again = TrainingForm()
    qtbot.addWidget(again)
    again.set_values(Settings().json("train/form"))
    assert not again.styles_check.isChecked() and again.values()["styles"] == "off"

    # a folder without style folders: no styles anywhere, and the config is the command line's
    window.open_folder(painters / "monet")  # one folder's images, its sub-folder included: one data set
    s = wait_scanned(qtbot, window)
    qtbot.waitUntil(lambda: s is window.dataset.summary and s.count == 20)
    assert s.styles is None
    assert not d.filter_box.isVisibleTo(d) and len(shown_groups(d)) == 20 and not shown_titles(d)
    assert d.counts.text() == "20 usable images · 40×40 px"
    assert not form.styles_line.isVisibleTo(form) and not form.styles_check.isVisibleTo(form)
    form.styles_check.setChecked(False)  # hidden, it says nothing
    assert form.to_config(s, window.training.device_type).data.styles == "auto"


def test_the_styles_switch_is_the_users_choice_and_the_policy_is_auto(qtbot, painters):
    from gan_studio.data.summary import summarize_source
    from gan_studio.defaults import defaults_for

    summary = summarize_source(painters)
    form = TrainingForm()
    qtbot.addWidget(form)
    assert not form.styles_line.isVisibleTo(form)  # nothing loaded yet
    form.apply_defaults(summary, "cpu")
    policy = defaults_for(summary, "cpu")
    v = form.values()
    assert {b.key: v[b.key] for b in BINDINGS} == {b.key: getattr(getattr(policy, b.section), b.field)
                                                  for b in BINDINGS}
    assert v["styles"] == "auto" and form.to_config(summary).to_dict() == policy.validate().to_dict()
    form.styles_check.setChecked(False)
    _select(form.model, "dcgan")  # a new model brings its own defaults, not a new choice about the data
    assert form.values()["styles"] == "off"
    _select(form.preset, "paper-mnist")  # and so does a preset
    assert form.values()["styles"] == "off"
    form.apply_defaults(summary, "cpu")  # a folder opened again: its defaults, styles on
    assert form.styles_check.isChecked()


def test_a_resumed_run_shows_its_own_styles_locked(qtbot):
    cfg = RunConfig()
    cfg.data.source, cfg.model.styles = "/data/painters", ["ming", "monet", "song"]
    form = TrainingForm()
    qtbot.addWidget(form)
    form.set_resume(cfg, 200, "20240101-120000-fastgan-painters")
    assert form.styles_line.isVisibleTo(form) and form.styles_line.text() == "3 styles, one model: ming, monet, song"
    assert form.styles_check.isChecked() and not form.styles_check.isEnabled()
    form.clear_resume()
    assert not form.styles_line.isVisibleTo(form) and form.styles_check.isEnabled()
    plain = RunConfig()
    plain.data.source = "/data/one"
    form.set_resume(plain, 200, "20240101-120000-fastgan-one")
    assert not form.styles_line.isVisibleTo(form)


def test_training_started_from_the_app_on_style_folders_is_conditional(window, qtbot, painters):
    import json

    from gui_helpers import start_small_training

    t = start_small_training(window, qtbot, painters)  # the form untouched but for a small size and length
    run_dir = t.run_dir
    assert run_dir is not None
    with qtbot.waitSignal(t.run_ended, timeout=60000):
        t.stop()
    config = json.loads((run_dir / "config.json").read_text())
    assert config["data"]["styles"] == "auto"
    assert config["model"]["styles"] == sorted(config["model"]["styles"]) and len(config["model"]["styles"]) == 3
    assert set(json.loads((run_dir / "run.json").read_text())["styles"]) == set(config["model"]["styles"])
