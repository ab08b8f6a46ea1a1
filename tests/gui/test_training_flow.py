"""The whole path of an artist, end to end: drop a folder, train, watch previews and curves, pause and resume,
stop, find the run in the Runs tab, reopen it and continue, browse the gallery, export, close while training."""

from __future__ import annotations

import json
import os

import pytest
from gui_helpers import drop_urls, set_small_form, start_small_training
from PIL import Image

from gan_studio.engine import RunDir
from gan_studio.gui.training_state import TrainingState


def stats_steps(run_dir) -> list[int]:
    return [r["step"] for r in RunDir(run_dir).read_stats()]


@pytest.mark.slow
def test_drop_train_pause_resume_stop_and_find_the_run(window, qtbot, paintings):
    drop_urls(window, [paintings])
    qtbot.waitUntil(lambda: window.dataset.summary is not None and not window.dataset.is_busy(), timeout=60000)
    assert "1 rejected" in window.dataset.counts.text()
    t = window.training
    set_small_form(t.form, steps=100_000)
    window.tabs.setCurrentIndex(1)
    states = []
    t.state_changed.connect(states.append)

    with qtbot.waitSignal(t.preview_shown, timeout=60000) as first:
        t.start()  # the first preview is the untrained generator at step 0
    assert first.args == [0] and t.preview.has_image()
    assert t.state is TrainingState.TRAINING and not t.start_button.isEnabled() and not t.form.isEnabled()
    assert window.pause_action.isEnabled() and window.stop_action.isEnabled() and not window.start_action.isEnabled()
    qtbot.waitUntil(lambda: t.loss_chart.count() >= 3 and t.d_chart.count() >= 3, timeout=60000)
    assert t.progress.format().startswith("Step ") and "images/s" in t.progress.format()
    run_dir = t.run_dir
    assert run_dir is not None and (run_dir / "config.json").is_file()

    # live previews keep coming while it trains
    with qtbot.waitSignal(t.preview_shown, timeout=60000, check_params_cb=lambda step: step > 0):
        pass

    # pause: the steps stop advancing; resume: they go on
    t.toggle_pause()
    assert t.state is TrainingState.PAUSED and t.pause_button.text() == "Resume"
    qtbot.wait(600)  # a step in flight may still finish and be logged
    paused_at = stats_steps(run_dir)
    qtbot.wait(1200)
    assert stats_steps(run_dir) == paused_at
    t.toggle_pause()
    assert t.state is TrainingState.TRAINING and t.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: len(stats_steps(run_dir)) > len(paused_at) + 2, timeout=60000)

    # stop: a checkpoint is saved, the run is listed
    with qtbot.waitSignal(t.run_ended, timeout=60000):
        t.stop()
    qtbot.waitUntil(lambda: t.state is TrainingState.IDLE, timeout=10000)
    distinct = [s for i, s in enumerate(states) if i == 0 or s is not states[i - 1]]
    S = TrainingState
    assert distinct == [S.LOADING, S.TRAINING, S.PAUSED, S.TRAINING, S.STOPPING, S.IDLE]
    assert not window.pause_action.isEnabled() and not window.stop_action.isEnabled()
    run = RunDir(run_dir)
    cps = run.checkpoint_list()
    assert cps and max(stats_steps(run_dir)) <= cps[-1][0] < max(stats_steps(run_dir)) + 10
    assert not run.lock_path.exists()
    assert "stopped" in t.progress.format()
    assert t.start_button.text() == "Continue Training" and t.start_button.isEnabled()
    rows = window.runs.model.rows
    assert [r.path for r in rows] == [run_dir] and rows[0].status == "stopped" and rows[0].step == cps[-1][0]
    assert ".png#clip=" in rows[0].thumbnail  # a few samples of its newest preview grid
    window.runs.model.data(window.runs.model.index(0, 0), 1)  # DecorationRole: loaded lazily
    loader = window.runs.model.loader
    qtbot.waitUntil(lambda: loader.pixmap(rows[0].thumbnail) is not None, timeout=20000)
    assert loader.pixmap(rows[0].thumbnail).width() == 64  # 2 x 2 samples of 32 px (and padding), fitted


def test_reopen_a_run_and_continue_it(window, qtbot, trained_run):
    window.runs.refresh()
    assert window.runs.select(trained_run)
    row = window.runs.selected()
    assert row.status == "finished" and row.step == 40 and row.model == "DCGAN 32 px"
    window.runs.resume()
    t = window.training
    assert window.tabs.currentIndex() == 1 and t.resume_dir == trained_run
    assert t.loss_chart.count() == len(RunDir(trained_run).read_stats()) > 0  # the curves so far
    assert t.preview.has_image()  # its newest sample grid
    assert not t.form.model.isEnabled() and t.form.by_steps.isChecked() and t.form.steps.isEnabled()
    t.form.by_steps.setChecked(True)
    t.form.steps.setValue(60)
    with qtbot.waitSignal(t.run_ended, timeout=60000):
        t.start()
    assert RunDir(trained_run).checkpoint_list()[-1][0] == 60
    assert max(stats_steps(trained_run)) == 60
    assert t.loss_chart.last()[0] == 60


def test_an_interrupted_run_can_be_resumed(window, qtbot, trained_run):
    # a crash leaves the lock of a process that no longer exists
    lock = RunDir(trained_run).lock_path
    lock.write_text(json.dumps({"pid": 2**22 + 12345, "host": os.uname().nodename}))
    window.runs.refresh()
    window.runs.select(trained_run)
    assert window.runs.selected().status == "interrupted"
    assert window.runs.resume_button.isEnabled()
    window.runs.resume()
    window.training.form.by_steps.setChecked(True)
    window.training.form.steps.setValue(50)
    with qtbot.waitSignal(window.training.run_ended, timeout=60000):
        window.training.start()
    assert RunDir(trained_run).checkpoint_list()[-1][0] == 50
    assert window.runs.selected().status == "finished"


def test_closing_during_training_asks_then_saves_a_checkpoint(window, qtbot, paintings):
    t = start_small_training(window, qtbot, paintings)
    asked = []
    window.confirm_close_during_training = lambda: asked.append(1) or False  # "Keep Training"
    assert not window.close()
    assert asked and t.is_active() and window.isVisible()
    window.confirm_close_during_training = lambda: asked.append(2) or True  # "Stop and Close"
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60000)
    run = RunDir(t.run_dir)
    assert run.checkpoint_list() and not run.lock_path.exists()
    assert asked == [1, 2]


def test_gallery_pages_favourites_interpolation_and_checkpoints(window, qtbot, trained_run):
    g = window.gallery
    with qtbot.waitSignal(g.page_ready, timeout=60000):
        window.browse_run(str(trained_run))
    assert window.tabs.currentIndex() == 3
    assert g.model.rowCount() == 48 and g.model.ready_count() == 48
    assert g.page_label.text() == "Seeds 0–47"
    assert "step 40" in g.subtitle.text()

    # the same seed is the same picture on any page
    first = g.model.items[5].pixmap.toImage()
    with qtbot.waitSignal(g.page_ready, timeout=60000):
        g.go_page(1)
    assert g.model.seeds()[0] == 48
    with qtbot.waitSignal(g.page_ready, timeout=60000):
        g.go_page(0)
    assert g.model.items[5].pixmap.toImage() == first

    # larger on click, and favourites persisted in the run folder
    g.view.setCurrentIndex(g.model.index(5))
    assert g.selected_seeds() == [5] and g.large.has_image() and "Seed 5" in g.large_caption.text()
    g.toggle_favourite()
    g.view.setCurrentIndex(g.model.index(7))
    g.toggle_favourite()
    saved = json.loads((trained_run / "favourites.json").read_text())
    assert saved["seeds"] == [5, 7]
    assert RunDir(trained_run).favourites() == [5, 7] == g.favourites_of(trained_run)
    g.fav_only.setChecked(True)
    qtbot.waitUntil(lambda: g.model.seeds() == [5, 7] and g.model.ready_count() == 2, timeout=60000)
    g.fav_only.setChecked(False)

    # new seeds: another page
    with qtbot.waitSignal(g.page_ready, timeout=60000):
        g.new_seeds()
    assert g.model.seeds()[0] == g.first_seed

    # a latent walk between two samples
    g.select_seeds(g.model.seeds()[:2])
    assert g.interp_button.isEnabled()
    g.interpolate()
    dialog = g.interp_dialog
    qtbot.waitUntil(lambda: len(dialog.frames) == 24, timeout=60000)
    qtbot.waitUntil(lambda: dialog.index > 0, timeout=5000)  # it plays
    dialog.close()

    # the same seeds drawn by each checkpoint
    g.compare()
    dialog = g.compare_dialog
    with qtbot.waitSignal(dialog.task.finished, timeout=60000):
        pass
    n_cps = len(RunDir(trained_run).checkpoint_list())
    assert n_cps == 2  # steps 20 and 40
    rows = n_cps + RunDir(trained_run).best_checkpoint.is_file()  # and the best snapshot, if kept
    assert dialog.grid.count() == 2 + rows * (1 + 2)  # a header per seed; per checkpoint its name and 2 samples
    assert dialog.timeline_slider.maximum() == len(RunDir(trained_run).sample_grids()) - 1
    dialog.close()


def test_export_dialog_writes_images_and_a_grid_and_never_overwrites_silently(window, qtbot, trained_run, tmp_path):
    window.browse_run(str(trained_run))
    qtbot.waitUntil(lambda: window.gallery.host.generator is not None, timeout=60000)
    assert window.gallery.chosen_checkpoint() is None  # the default: the best snapshot, else the newest
    window.export()
    d = window.export_dialog
    assert d.new_radio.isChecked() and d.favourites == []  # no favourites yet
    assert d.run_dir == trained_run and d.checkpoint is None and not d.is_running()
    out = tmp_path / "exported"
    d.folder.setText(str(out))
    d.count.setValue(12)
    d.first.setValue(100)
    d.size.setCurrentIndex(d.size.findData(128))
    d.gif.setChecked(False)
    with qtbot.waitSignal(d.exported, timeout=60000) as done:
        d.export()
    result = done.args[0]
    pngs = sorted(out.glob("seed_*.png"))
    assert len(pngs) == 12 and (out / "grid.png").is_file() and (out / "index.html").is_file()
    assert sorted(result.files) == sorted(pngs + [out / "grid.png", out / "index.html"])
    with Image.open(pngs[0]) as im:
        assert im.size == (128, 128)
        assert im.text["seed"] == "100" and im.text["step"] == "40" and im.text["run"] == trained_run.name
    with Image.open(out / "grid.png") as im:
        assert im.size[0] > 3 * 128
    assert "Exported 14 files" in d.message.text() and d.show_button.isVisible()

    # again into the same folder: asked, refused, nothing touched
    before = {p: p.stat().st_mtime_ns for p in out.iterdir()}
    asked = []
    d.confirm_overwrite = lambda existing, folder: asked.append(len(existing)) or False
    d.export()
    assert asked == [14] and d.task is None and "Nothing was exported" in d.message.text()
    assert {p: p.stat().st_mtime_ns for p in out.iterdir()} == before
    # and allowed: replaced
    d.confirm_overwrite = lambda existing, folder: True
    with qtbot.waitSignal(d.exported, timeout=60000):
        d.export()
    assert len(list(out.glob("seed_*.png"))) == 12
    d.close()
