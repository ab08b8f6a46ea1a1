"""GUI test fixtures: an isolated QSettings store per test, the main window with its engine loaded, helpers to
drop files on it like a user does, and small runs to reopen. Every test ends with its threads joined."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from gui_helpers import one_torch_thread, small_config  # noqa: E402
from PySide6.QtCore import QCoreApplication, QSettings  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """In the GUI tests any Qt warning is a failure (a cross-thread QObject, a timer started from the wrong
    thread, ...), except the offscreen platform's note that it cannot propagate size hints."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(".*propagateSizeHints.*"))


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, qapp):
    """QSettings of the app go to a fresh INI file under a test-only organisation, never the user's."""
    folder = tmp_path_factory.mktemp("qsettings")
    QCoreApplication.setOrganizationName("GAN Studio Tests")
    QCoreApplication.setApplicationName("gan-studio-gui-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture(scope="module", autouse=True)
def torch_threads():
    with one_torch_thread():
        yield


@pytest.fixture
def window(qtbot):
    from gan_studio.gui import tasks
    from gan_studio.gui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1100, 720)
    w.show()
    w.start_engine()
    qtbot.waitUntil(lambda: w.engine_ready, timeout=60000)
    yield w
    w.confirm_close_during_training = lambda: True
    w.shutdown()
    assert w.training.session is None or not w.training.session.thread.isRunning()
    qtbot.waitUntil(lambda: w.training.session is None, timeout=10000)  # the queued 'ended' has been handled
    assert tasks.wait_all(60000)


@pytest.fixture
def paintings(landscapes32, tmp_path) -> Path:
    """A folder as an artist has it: 24 pictures, a broken file and a note."""
    folder = tmp_path / "my paintings"
    shutil.copytree(landscapes32, folder)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (folder / "notes.txt").write_text("sketches for the autumn show")
    return folder


@pytest.fixture(scope="session")
def pristine_run(landscapes32, tmp_path_factory):
    """A finished small run (40 steps, checkpoints at 20 and 40), trained once by the engine as the command
    line would; tests get their own copy (trained_run)."""
    from gan_studio.engine import Trainer

    out = tmp_path_factory.mktemp("pristine") / "20240101-120000-dcgan-landscapes"
    with one_torch_thread():  # a session fixture is set up before the module's torch_threads
        trainer = Trainer.new(small_config(landscapes32, checkpoint_every=20), out=out)
        events = list(trainer.run())
    assert type(events[-1]).__name__ == "Finished"
    return out


@pytest.fixture
def trained_run(pristine_run):
    """A copy of the pristine run in this test's runs folder, where the Runs tab finds it."""
    from gan_studio.engine import default_runs_root

    target = default_runs_root() / pristine_run.name
    shutil.copytree(pristine_run, target)
    return target
