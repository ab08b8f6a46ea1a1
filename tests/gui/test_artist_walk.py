"""Rough edges of a new user's walk (issue 15), each as the user met it: an impossible size, the resume note, an
unclean end, the Start tooltip, the final quality check, pause, images/s, quality in words, the drop overlay,
a missing file manager, the About box, clearing the recent folders, the window title."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from gui_helpers import set_small_form
from PIL import Image
from PySide6.QtCore import QUrl

from gan_studio.engine import RunDir
from gan_studio.gui.training_state import TrainingState


def stats(step, rate=100.0, swd=None, seconds=1.0):
    from gan_studio.engine import StepStats

    return StepStats(step, seconds, rate, 1.0, 1.0, 0.5, 0.5, 2e-4, 2e-4, 0.5, 10.0, None, 0.1, swd,
                     0.0 if swd is not None else None)


def test_an_impossible_size_is_refused_before_loading_and_leaves_no_run(window, qtbot, paintings):
    from gan_studio.engine import default_runs_root
    from gan_studio.gui.training_form import _select

    window.open_folder(paintings)
    qtbot.waitUntil(lambda: window.dataset.summary is not None and not window.dataset.is_busy(), timeout=60000)
    t = window.training
    _select(t.form.model, "fastgan")
    assert t.form.res.findData(16) < 0  # not even offered
    t.form.res.addItem("16 px", 16)  # as a stale saved setting could bring it back
    _select(t.form.res, 16)
    t.start()
    assert t.session is None and t.state is TrainingState.IDLE
    assert "at least 32 pixels" in t.error.text() and "Loading" not in t.progress.format()
    assert not default_runs_root().exists() or not any(default_runs_root().iterdir())


def test_the_resume_note_follows_the_run_after_each_session(window, qtbot, trained_run):
    t = window.training
    window.resume_run(str(trained_run))
    assert "from step 40" in t.form.resume_note.text()
    assert window.windowTitle() == f"GAN Studio — {trained_run.name}"
    t.form.by_steps.setChecked(True)
    t.form.steps.setValue(46)
    with qtbot.waitSignal(t.run_ended, timeout=60000):
        t.start()
    qtbot.waitUntil(lambda: t.state is TrainingState.IDLE, timeout=10000)
    assert "from step 46" in t.form.resume_note.text()


def test_an_unclean_end_says_what_was_lost_and_shows_the_checkpoints_state(window, qtbot, trained_run):
    run = RunDir(trained_run)
    last = run.read_stats()[-1]
    with open(run.stats_path, "a") as f:  # what kill -9 leaves: steps logged after the last checkpoint
        for step in range(42, 62, 2):
            f.write(json.dumps({**last, "step": step, "seconds": last["seconds"] + (step - 40) * 3.0}) + "\n")
    shutil.copy(run.sample_grids()[-1], run.sample_path(60))  # and a preview of an unsaved step
    t = window.training
    window.resume_run(str(trained_run))
    assert not t.notice.isHidden()
    text = t.notice.text()
    assert "did not end cleanly" in text and "after step 60" in text and "20 steps" in text and "step 40" in text
    assert t.loss_chart.last()[0] == 40  # the charts agree with the checkpoint
    assert "Step 40" in t.preview.caption and t.progress.format() == "Trained to step 40"


def test_start_tooltip_after_the_engine_loaded(window, paintings, qtbot):
    t = window.training
    assert t.start_button.toolTip() != "Loading the training engine…"
    assert "Ctrl+Return" in t.start_button.toolTip()


def test_the_final_quality_check_is_shown(window):
    from gan_studio.engine import Finished

    t = window.training
    t._on_stats([stats(250, swd=30.0)])
    t._on_finished(Finished(260, Path("/runs/x"), "stopped", 60.0, {"swd": 27.5, "copy_share": 0.0}))
    assert "step 260: SWD 27.5" in t.quality.text()


def test_pause_reports_the_step_it_paused_at_and_the_headline_follows(window, qtbot, paintings):
    from gui_helpers import start_small_training

    t = start_small_training(window, qtbot, paintings)
    t.toggle_pause()
    qtbot.waitUntil(lambda: t.progress.format().startswith("Paused at step"), timeout=60000)
    step = int(t.progress.format().rsplit(" ", 1)[1].replace(",", ""))
    assert t.headline.text() == f"Paused at step {step:,}"
    assert t.last_step == step
    t.toggle_pause()
    assert t.headline.text().startswith("Training on")
    with qtbot.waitSignal(t.run_ended, timeout=60000):
        t.stop()


def test_images_per_second_is_smoothed_and_quality_said_in_words(window):
    t = window.training
    t._rate = None
    t.total_steps = None
    t._on_stats([stats(2, rate=8.0)])
    t._on_stats([stats(4, rate=558.0)])  # one fast window after a slow one
    shown = float(t.progress.format().split(" · ")[1].split()[0].replace(",", ""))
    assert 8 < shown < 558 / 2
    for step, swd in ((250, 40.0), (500, 38.0), (750, 30.0), (1000, 29.0)):
        t._on_stats([stats(step, swd=swd)])
    assert "SWD 29, improving" in t.quality.text()


def test_the_drop_overlay_hides_what_is_under_it(window, qtbot, paintings):
    from gui_helpers import drop_urls  # noqa: F401 - the drag enter is what shows the overlay
    from PySide6.QtCore import QMimeData, QPoint, Qt
    from PySide6.QtGui import QDragEnterEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(paintings))])
    QApplication.sendEvent(window, QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime,
                                                   Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    assert window.overlay.isVisible()
    region = window.overlay.geometry().adjusted(30, 30, -30, -30)
    before = window.centralWidget().grab(region).toImage()
    for w in window.dataset.findChildren(type(window.dataset.error)):
        w.setText(w.text() + " and more words under the overlay")
    after = window.centralWidget().grab(region).toImage()
    assert before == after


def test_a_missing_file_manager_is_said_with_the_path(window, trained_run, monkeypatch):
    from PySide6.QtGui import QDesktopServices, QGuiApplication

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: False))
    messages = []
    window.training.status.connect(messages.append)
    window.resume_run(str(trained_run))
    window.training.run_link.linkActivated.emit("file://x")
    assert messages and "No file manager" in messages[-1] and str(trained_run) in messages[-1]
    assert QGuiApplication.clipboard().text() == str(trained_run)


def test_the_about_box_credits_the_methods_and_the_data():
    from gan_studio.gui.about import about_html

    text = about_html("0")
    for name in ("FastGAN", "DiffAugment", "ADA", "sliced Wasserstein", "Monet", "Song", "MNIST", "White"):
        assert name in text, name


def test_clearing_the_recent_folders_asks_first(window, paintings, qtbot):
    window.open_folder(paintings)
    qtbot.waitUntil(lambda: window.dataset.summary is not None and not window.dataset.is_busy(), timeout=60000)
    assert window.settings.recent_folders()
    window.confirm_clear_recent = lambda: False
    window._clear_recent()
    assert window.settings.recent_folders()
    window.confirm_clear_recent = lambda: True
    window._clear_recent()
    assert window.settings.recent_folders() == []


def test_the_recent_folders_list_is_wide_enough_and_never_scrolls_sideways(window):
    from PySide6.QtCore import Qt

    lst = window.dataset.recent_list
    assert lst.minimumWidth() >= 420
    assert lst.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff


def test_small_grids_still_render_after_a_session(window, qtbot, paintings):
    """The gallery and the Train tab show a finished small run (a smoke test of the new paths)."""
    t = window.training
    window.open_folder(paintings)
    qtbot.waitUntil(lambda: window.dataset.summary is not None and not window.dataset.is_busy(), timeout=60000)
    set_small_form(t.form, steps=6)
    with qtbot.waitSignal(t.run_ended, timeout=60000):
        t.start()
    grid = RunDir(t.current_run()).sample_grids()[-1]
    assert Image.open(grid).size[0] > 0
