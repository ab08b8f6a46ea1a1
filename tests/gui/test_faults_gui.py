"""The desktop app under faults: closing while an export or a scan runs, the dataset folder deleted during
training, and a drop of something that is not a folder. Each ends with a message and nothing half-written."""

from __future__ import annotations

import shutil

from gui_helpers import drop_urls, start_small_training
from PIL import Image

from gan_studio.engine import RunDir
from gan_studio.gui.training_state import TrainingState


def test_closing_during_an_export_asks_then_cancels_it_and_removes_its_files(window, qtbot, trained_run, tmp_path):
    window.browse_run(str(trained_run))
    qtbot.waitUntil(lambda: window.gallery.host.generator is not None, timeout=60000)
    window.export()
    d = window.export_dialog
    out = tmp_path / "exported"
    out.mkdir()
    (out / "mine.txt").write_text("the user's own file, there before the export")
    d.folder.setText(str(out))
    d.count.setValue(5000)  # long enough to close in the middle
    d.size.setCurrentIndex(d.size.findData(256))
    d.gif.setChecked(False)
    d.export()
    qtbot.waitUntil(lambda: len(list(out.glob("seed_*.png"))) >= 3, timeout=60000)

    asked = []
    window.confirm_close_during_export = lambda: asked.append(1) or False  # "No": the export goes on
    assert not window.close()
    assert asked == [1] and window.isVisible() and d.task is not None
    window.confirm_close_during_export = lambda: asked.append(2) or True
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60000)
    assert asked == [1, 2]
    from gan_studio.gui import tasks

    assert tasks.wait_all(60000)
    qtbot.waitUntil(lambda: d.task is None, timeout=10000)  # the cancellation reached the dialog
    left = sorted(p.name for p in out.iterdir())
    assert left == ["mine.txt"]  # what the export wrote is gone (no temporaries either); the user's file stays
    assert "cancelled" in d.message.text()


def test_closing_during_a_scan_cancels_it_at_once(window, qtbot, tmp_path, monkeypatch):
    import time

    from gan_studio.data import scan

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(300):
        Image.new("RGB", (96, 80), (i % 256, (7 * i) % 256, 90)).save(folder / f"img_{i:04d}.png")
    decode = scan.decode_full
    monkeypatch.setattr(scan, "decode_full", lambda *a: time.sleep(0.05) or decode(*a))  # a slow disk
    window.open_folder(folder)
    qtbot.waitUntil(lambda: window.dataset.busy_bar.value() > 0, timeout=60000)
    assert window.dataset.is_busy()
    started = time.monotonic()
    window.close()  # nothing to lose in a scan: no question, the scan is cancelled
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30000)
    from gan_studio.gui import tasks

    assert tasks.wait_all(30000)
    qtbot.waitUntil(lambda: not tasks.busy(), timeout=10000)  # the pool thread's last signal has been handled
    assert time.monotonic() - started < 10  # far less than the 300 x 50 ms / 2 threads the scan had left
    assert window.dataset.task is None or not window.dataset.task.running


def test_deleting_the_dataset_folder_while_training(window, qtbot, paintings):
    t = start_small_training(window, qtbot, paintings)
    shutil.rmtree(paintings)  # the images were decoded into memory: training goes on
    steps_before = t.loss_chart.count()
    qtbot.waitUntil(lambda: t.loss_chart.count() >= steps_before + 2, timeout=60000)
    with qtbot.waitSignal(t.run_ended, timeout=60000):
        t.stop()
    qtbot.waitUntil(lambda: t.state is TrainingState.IDLE, timeout=10000)
    run = RunDir(t.run_dir)
    assert run.checkpoint_list() and not run.lock_path.exists()

    # continuing needs the images: a clear message naming the folder, and the run is untouched
    checkpoints = run.checkpoint_list()
    assert t.resume_dir == run.path and t.start_button.isEnabled()
    with qtbot.waitSignal(t.run_ended, timeout=60000):
        t.start()
    qtbot.waitUntil(lambda: t.state is TrainingState.IDLE, timeout=10000)
    assert not t.error.isHidden(), t.error.text()
    assert "no longer at" in t.error.text() and str(paintings) in t.error.text()
    assert run.checkpoint_list() == checkpoints and not run.lock_path.exists()


def test_a_drop_of_something_that_is_not_a_folder_says_what_can_be_dropped(window, qtbot, tmp_path):
    from PySide6.QtCore import QUrl

    enter, _ = drop_urls(window, [QUrl("https://example.com/painting.png")])
    assert not enter.isAccepted() and "can be dropped" in window.statusBar().currentMessage()
    note = tmp_path / "letters" / "notes.txt"  # a file: its folder is opened, and it holds no usable image
    note.parent.mkdir()
    note.write_text("not a picture")
    enter, _ = drop_urls(window, [note])
    assert enter.isAccepted()
    qtbot.waitUntil(lambda: window.dataset.summary is not None and not window.dataset.is_busy(), timeout=60000)
    assert window.dataset.summary.count == 0 and "No usable image" in window.dataset.counts.text()
