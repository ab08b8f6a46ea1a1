"""The GUI's parts on their own: the chart, the picture helpers, background tasks, the training form's
defaults and config, the worker's throttling, the settings store, and the entry point."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from gan_studio.gui.charts import LineChart, nice_ticks
from gan_studio.gui.imaging import ImageView, qimage_from_array
from gan_studio.gui.settings import MAX_RECENT, Settings
from gan_studio.gui.tasks import Task, wait_all

ROOT = Path(__file__).resolve().parents[2]


def test_nice_ticks():
    assert nice_ticks(0, 1, 4) == [0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(0, 1000, 4) == [0, 250, 500, 750, 1000]
    assert nice_ticks(3, 3) == [3]


def test_chart_draws_series_with_the_equilibrium_line_and_replays_a_resume(qtbot):
    chart = LineChart("D", [("D(x)", QColor("red")), ("D(G(z))", QColor("blue"))], y_range=(0, 1),
                      references=[(0.5, "equilibrium ½")])
    qtbot.addWidget(chart)
    chart.resize(400, 200)
    empty = chart.grab().toImage()
    steps = list(range(10, 5010, 10))
    chart.extend(steps, [[0.8] * len(steps), [0.2] * len(steps)])
    assert chart.count() == 500 and chart.last() == (5000, [0.8, 0.2])
    drawn = chart.grab().toImage()
    assert drawn != empty
    # a resumed run logs from its checkpoint again: the replayed steps replace the old ones
    chart.extend([4000, 4010], [[0.5, 0.5], [0.5, 0.5]])
    assert chart.count() == 401 and chart.last() == (4010, [0.5, 0.5])
    # long histories are averaged to about two points per pixel before drawing
    steps, cols = chart._decimated(100)
    assert len(steps) == 200 and len(cols) == 2
    chart.clear()
    assert chart.count() == 0


def test_arrays_become_independent_qimages():
    rgb = np.zeros((5, 7, 3), np.uint8)
    rgb[..., 0] = 255
    image = qimage_from_array(rgb)
    del rgb
    assert (image.width(), image.height()) == (7, 5) and QColor(image.pixel(3, 2)) == QColor(255, 0, 0)
    gray = qimage_from_array(np.full((4, 4, 1), 128, np.uint8))
    assert gray.format() == QImage.Format.Format_Grayscale8


def test_image_view_fits_the_picture(qtbot):
    view = ImageView("nothing yet")
    qtbot.addWidget(view)
    view.resize(300, 200)
    assert not view.has_image()
    view.set_image(qimage_from_array(np.full((32, 32, 3), 200, np.uint8)), "step 1")
    view.grab()
    assert view.has_image() and view._scaled.height() <= 200


def test_task_runs_off_the_gui_thread_and_reports(qtbot):
    gui_thread = threading.get_ident()
    seen = {}

    def job(progress):
        seen["thread"] = threading.get_ident()
        for i in range(5):
            progress(i + 1, 5)
        return "done"

    task = Task(job)
    progress = []
    task.progress.connect(lambda d, t: progress.append((d, t)))
    with qtbot.waitSignal(task.done, timeout=10000) as result:
        task.start()
    assert result.args == ["done"] and seen["thread"] != gui_thread
    assert progress[-1] == (5, 5)


def test_task_failures_and_cancellation_are_signals(qtbot):
    from gan_studio.errors import DataError

    def bad(progress):
        raise DataError("no usable image in /x")

    task = Task(bad)
    with qtbot.waitSignal(task.failed, timeout=10000) as failed:
        task.start()
    assert failed.args == ["no usable image in /x"]

    gate = threading.Event()

    def slow(progress):
        gate.wait(10)
        progress(1, 2)  # raises Cancelled once cancelled
        return "not reached"

    task = Task(slow)
    with qtbot.waitSignal(task.cancelled, timeout=10000):
        task.start()
        task.cancel()
        gate.set()
    assert wait_all(10000)


def test_recent_folders_are_kept_newest_first_and_bounded():
    s = Settings()
    for i in range(MAX_RECENT + 3):
        s.add_recent_folder(f"/pictures/{i}")
    s.add_recent_folder("/pictures/5")
    recent = Settings().recent_folders()
    assert recent[0] == "/pictures/5" and len(recent) == MAX_RECENT and recent.count("/pictures/5") == 1
    s.set_json("train/form", {"batch": 16})
    assert Settings().json("train/form") == {"batch": 16}


def test_settings_are_isolated_from_the_user(isolated_settings):
    s = Settings()
    s.set_text("probe", "x")
    s.sync()
    assert Path(s.q.fileName()).is_relative_to(isolated_settings)


def _summary(count=300, gray=False, min_side=128, aspect=1.0):
    from gan_studio.data.summary import DataSummary

    return DataSummary(Path("/data"), "/data", count, gray=gray, min_side=min_side, median_side=min_side,
                       aspect=aspect, min_size=(min_side, min_side), max_size=(min_side, min_side))


def test_form_defaults_are_the_policys_and_say_why(qtbot):
    from gan_studio.defaults import defaults_for
    from gan_studio.gui.training_form import BINDINGS, TrainingForm

    form = TrainingForm()
    qtbot.addWidget(form)
    for summary, device in ((_summary(300), "cpu"), (_summary(5000), "cuda"), (_summary(10000, True, 28), "cpu"),
                            (_summary(40, min_side=200, aspect=2.0), "cuda"), (_summary(40, min_side=20), "mps")):
        form.apply_defaults(summary, device)
        policy = defaults_for(summary, device)
        v = form.values()
        assert {b.key: v[b.key] for b in BINDINGS} == \
            {b.key: getattr(getattr(policy, b.section), b.field) for b in BINDINGS}, summary
        assert form.to_config(summary, device).to_dict() == policy.validate().to_dict()
    form.apply_defaults(_summary(300), "cpu")
    assert form.values()["model"] == "fastgan" and "made for folders under 2,000 images" in form.why.text()


def test_a_family_offers_only_what_it_trains_and_brings_its_own_defaults(qtbot):
    from gan_studio.families import FAMILIES
    from gan_studio.gui.training_form import TrainingForm, _select

    form = TrainingForm()
    qtbot.addWidget(form)
    form.apply_defaults(_summary(300), "cpu")
    for name in ("dcgan", "mlp", "fastgan"):  # fastgan last: it is the default, so choosing it first is no change
        fam = FAMILIES[name]
        _select(form.model, name)
        assert [form.res.itemData(i) for i in range(form.res.count())] == list(fam.resolutions)
        assert (form.lr_g.value(), form.lr_d.value()) == pytest.approx((fam.lr_g, fam.lr_d))
        assert form.width_spin.isEnabled() == fam.convolutional
        assert "your choice" in form.why.text()
    _select(form.model, "fastgan")
    assert form.res.findData(16) < 0  # FastGAN cannot train 16 px: not on offer
    assert form.problem.isHidden()


def test_an_impossible_combination_is_refused_in_the_form_with_the_reason(qtbot):
    from gan_studio.errors import ConfigError
    from gan_studio.gui.training_form import TrainingForm, _select

    form = TrainingForm()
    qtbot.addWidget(form)
    form.apply_defaults(_summary(300), "cpu")
    _select(form.model, "fastgan")
    form.res.addItem("16 px", 16)  # as a stale saved setting could bring back
    _select(form.res, 16)
    assert not form.problem.isHidden() and "at least 32 pixels" in form.problem.text()
    with pytest.raises(ConfigError, match="at least 32 pixels"):
        form.to_config(_summary(300), "cpu")


def test_form_builds_a_valid_config_and_round_trips_its_values(qtbot):
    from gan_studio.errors import ConfigError
    from gan_studio.gui.training_form import TrainingForm, _select

    form = TrainingForm()
    qtbot.addWidget(form)
    form.by_steps.setChecked(True)
    form.steps.setValue(500)
    form.lr_d.setValue(0.0001)
    cfg = form.to_config("demo")
    assert cfg.data.source == "demo" and cfg.train.steps == 500 and cfg.train.minutes is None
    assert cfg.train.lr_d == pytest.approx(1e-4)
    values = form.values()
    other = TrainingForm()
    qtbot.addWidget(other)
    other.set_values(values)
    assert other.values() == values
    _select(form.model, "mlp")
    _select(form.res, 28)
    _select(form.aspect, "2:1")
    assert form.to_config("demo").model.name == "mlp"
    with pytest.raises(ConfigError, match="no data source"):  # the engine's own validation, with its message
        form.to_config("")
    for w in (form.preset, form.model, form.width_spin, form.res, form.aspect, form.crop, form.flip, form.minutes,
              form.steps, form.batch, form.lr_g, form.lr_d, form.k, form.g_loss, form.device, form.seed):
        assert w.toolTip(), w  # every option explains itself


def test_the_paper_preset_is_selectable_and_reaches_the_config(qtbot):
    """Issue 5: the paper's configuration from the form, with what the form does not show (SGD, maxout D, the
    simultaneous updates) and what it does (shown, and still the user's to change)."""
    from gan_studio.gui.training_form import TrainingForm, _select

    form = TrainingForm()
    qtbot.addWidget(form)
    assert form.preset.toolTip() and form.preset.currentData() is None
    _select(form.preset, "paper-mnist")
    assert form.preset.itemData(form.preset.currentIndex(), 3)  # the preset's description as its tooltip
    assert form.model.currentData() == "mlp" and form.res.currentData() == 28 and form.batch.value() == 100
    assert form.lr_g.value() == pytest.approx(0.1) and not form.flip.isChecked()
    form.seed.setValue(7)  # a shown option changed after the preset: the user's value wins
    cfg = form.to_config("mnist.csv.gz")
    t, m = cfg.train, cfg.model
    assert (t.optimizer, t.update, t.lr_decay, t.momentum_final, t.seed) == ("sgd", "simultaneous", 1.000004, 0.7, 7)
    assert (m.g_hidden, m.d_hidden, m.d_pieces, m.noise) == ([1200, 1200], [240, 240], 5, "uniform")
    other = TrainingForm()
    qtbot.addWidget(other)
    other.set_values(form.values())  # saved settings bring the preset back
    assert other.preset.currentData() == "paper-mnist" and other.seed.value() == 7
    form.reset()
    assert form.preset.currentData() is None and form.to_config("demo").train.optimizer == "adam"


def test_worker_throttles_statistics_and_previews(qtbot, landscapes32):
    from gui_helpers import small_config

    from gan_studio.gui.worker import TrainingSession, TrainingWorker

    cfg = small_config(landscapes32, steps=30, log_every=1, sample_every=10)
    worker = TrainingWorker(config=cfg, stats_interval=0.25, preview_interval=1.0)
    session = TrainingSession(worker)
    collector = _Collector()
    worker.stats.connect(collector.on_stats)
    worker.preview.connect(collector.on_preview)
    worker.started.connect(collector.on_started)
    with qtbot.waitSignal(session.ended, timeout=120000):
        session.start()
    assert session.wait(10000)
    seconds = time.monotonic() - collector.t0
    steps = [s.step for b in collector.stats for s in b]
    assert steps == list(range(1, 31))  # nothing lost...
    assert len(collector.stats) <= seconds / 0.25 + 2  # ...but at most one signal per interval (and the last)
    assert collector.previews[-1] == 30  # the last preview always arrives
    assert len(collector.previews) <= seconds / 1.0 + 2


class _Collector:
    def __init__(self):
        from PySide6.QtCore import QObject, Slot

        class Receiver(QObject):  # a GUI-thread object, as the panels are
            def __init__(self, outer):
                super().__init__()
                self.outer = outer

            @Slot(list)
            def on_stats(self, batch):
                self.outer.stats.append(batch)

            @Slot(int, QImage, str)
            def on_preview(self, step, image, path):
                assert not image.isNull()
                self.outer.previews.append(step)

            @Slot(object)
            def on_started(self, event):
                self.outer.t0 = time.monotonic()

        self.stats, self.previews, self.t0 = [], [], time.monotonic()
        self.receiver = Receiver(self)
        self.on_stats, self.on_preview = self.receiver.on_stats, self.receiver.on_preview
        self.on_started = self.receiver.on_started


def test_gui_modules_do_not_import_torch_before_the_window_is_up():
    code = ("import sys, gan_studio.gui.app, gan_studio.gui.main_window, gan_studio.gui.export_dialog, "
            "gan_studio.gui.gallery_dialogs; print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch')[:3])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_entry_point_opens_the_window_with_a_folder(qtbot, paintings, monkeypatch):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gan_studio.gui import app as app_module

    seen = {}

    def watch():
        windows = [w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow" and w.isVisible()]
        if windows and windows[0].dataset.summary is not None and windows[0].engine_ready:
            w = windows[0]
            seen["count"], seen["title"] = w.dataset.summary.count, w.windowTitle()
            w.close()
        else:
            QTimer.singleShot(50, watch)

    QTimer.singleShot(50, watch)
    assert app_module.main([str(paintings)]) == 0
    assert seen == {"count": 24, "title": "GAN Studio — my paintings"}
    assert wait_all(30000)


def test_the_application_icon_is_drawn_from_the_asset(qapp):
    from gan_studio.gui.icon import app_icon, asset_bytes, render_icon

    assert asset_bytes() == (Path(__file__).resolve().parents[2] / "assets" / "gan_studio.svg").read_bytes()
    image = render_icon(64)
    assert image.pixelColor(0, 0).alpha() == 0 and image.pixelColor(32, 32).alpha() == 255  # a rounded card
    assert not app_icon().isNull()


def test_main_actions_have_shortcuts_and_the_about_box_credits_the_data(window):
    keys = {a.text(): a.shortcut().toString() for a in (window.open_action, window.export_action, window.start_action,
                                                       window.pause_action, window.stop_action, window.quit_action)}
    assert all(keys.values()), keys
    assert keys["&Start Training"] == "Ctrl+Return" and keys["&Export…"] == "Ctrl+E"
    from gan_studio.gui.about import about_html

    text = about_html("1.0")
    assert "procedural" in text and "Monet" in text and "MNIST" in text and "CC BY-SA 3.0" in text


def test_training_states_say_what_the_user_may_do():
    from gan_studio.gui.training_state import TrainingState as S

    assert [s for s in S if s.active] == [S.LOADING, S.TRAINING, S.PAUSED, S.STOPPING]
    assert [s for s in S if s.can_pause] == [S.LOADING, S.TRAINING, S.PAUSED]
    assert [s for s in S if s.can_stop] == [S.LOADING, S.TRAINING, S.PAUSED]  # not twice
    assert [s for s in S if s.paused] == [S.PAUSED]
    assert S.IDLE != "idle"  # a state is not a string: comparing with one is always False


def test_the_training_panel_starts_idle_and_keeps_its_widgets_to_itself(window):
    from gan_studio.gui.training_state import TrainingState

    t = window.training
    assert t.state is TrainingState.IDLE and t.current_run() is None
    assert not t.pause_button.isEnabled() and not t.stop_button.isEnabled() and t.form.isEnabled()
    assert not window.pause_action.isEnabled() and not window.stop_action.isEnabled()
    values = t.form_values()
    t.restore_form(values)
    assert t.form_values() == values
    splitters = {**t.splitters(), **window.dataset.splitters(), **window.gallery.splitters()}
    assert sorted(splitters) == ["dataset", "gallery", "monitor", "train"]
    assert window.gallery.current_run() is None and window.gallery.chosen_checkpoint() is None


def test_notices_and_quality_checks_are_shown(window):
    from types import SimpleNamespace

    t = window.training
    t._on_notice(120, "the discriminator has been sure of every training image for a while")
    assert not t.notice.isHidden() and "Step 120" in t.notice.text()
    stats = [SimpleNamespace(step=250, swd=0.25, copy_share=0.0, augment_p=0.1, loss_d=1.0, loss_g=1.0,
                             d_real=0.6, d_fake=0.4, images_per_s=100.0, progress=0.5, eta_s=30.0)]
    t._on_stats(stats)
    stats[0].swd, stats[0].step = 0.4, 500
    t._on_stats(stats)
    assert "SWD 0.4 (best 0.25)" in t.quality.text() and "augmentation 10%" in t.quality.text()
