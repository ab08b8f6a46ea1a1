"""Opening a folder: drop it (or some of its files) on the window, see the thumbnails, the counts and the
rejected files with their reasons; recent folders are remembered; the empty state offers the demo."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import drop_urls
from PySide6.QtCore import QUrl

from gan_studio.gui.settings import Settings


def wait_scanned(qtbot, window):
    qtbot.waitUntil(lambda: window.dataset.summary is not None and not window.dataset.is_busy(), timeout=60000)
    return window.dataset.summary


def test_empty_state_invites_a_drop_and_offers_the_demo(window):
    d = window.dataset
    assert d.stack.currentIndex() == 0
    assert d.demo_button.isVisible() and d.open_button.isVisible()
    assert not d.recent_list.isVisible()  # nothing recent yet
    assert window.acceptDrops()


def test_drop_a_folder_shows_counts_rejects_and_thumbnails(window, qtbot, paintings):
    enter, drop = drop_urls(window, [paintings])
    assert enter.isAccepted() and drop.isAccepted()
    s = wait_scanned(qtbot, window)
    d = window.dataset
    assert s.count == 24 and s.folder == paintings.resolve()
    assert d.stack.currentIndex() == 2
    text = d.counts.text()
    assert "24 usable images" in text and "1 rejected" in text and "48×40 px" in text
    assert "1 other file ignored" in text  # notes.txt
    assert d.rejected_view.topLevelItemCount() == 1
    item = d.rejected_view.topLevelItem(0)
    assert item.text(0) == "broken.png" and item.text(1)  # with a reason
    assert not d.rejected_box.isHidden()
    assert d.model.rowCount() == 24
    first = d.model.index(0).data(d.model.PathRole)
    d.model.index(0).data(1)  # DecorationRole: asks for the thumbnail, lazily
    qtbot.waitUntil(lambda: d.model.loader.pixmap(first) is not None, timeout=20000)
    assert max(d.model.loader.pixmap(first).width(), d.model.loader.pixmap(first).height()) <= d.model.side
    assert "my paintings" in window.windowTitle()
    assert window.training.dataset is s  # the Train tab knows the folder, and has defaults for it
    assert window.training.start_button.isEnabled()


def test_dropping_files_opens_their_folder(window, qtbot, paintings):
    drop_urls(window, [paintings / "l03.png", paintings / "l04.png"])
    s = wait_scanned(qtbot, window)
    assert s.folder == paintings.resolve() and s.count == 24


def test_a_drop_on_a_child_widget_reaches_the_window(window, qtbot, paintings):
    drop_urls(window.tabs, [paintings])  # over the tab widget, as a real drag would be
    assert wait_scanned(qtbot, window).count == 24


def test_drops_that_are_not_local_folders_are_refused(window, tmp_path):
    enter, _ = drop_urls(window, [QUrl("https://example.com/painting.png")])
    assert not enter.isAccepted()
    enter, _ = drop_urls(window, [tmp_path / "missing"])
    assert not enter.isAccepted()
    assert window.dataset.summary is None


def test_a_folder_without_images_says_so(window, qtbot, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "broken.jpg").write_bytes(b"nope")
    window.open_folder(folder)
    s = wait_scanned(qtbot, window)
    assert s.count == 0
    assert "No usable image" in window.dataset.counts.text()
    assert not window.dataset.train_button.isEnabled()
    assert not window.training.start_button.isEnabled()


def test_a_missing_folder_is_an_inline_message(window, tmp_path):
    window.open_folder(tmp_path / "gone")
    assert window.dataset.stack.currentIndex() == 0
    assert "not found" in window.dataset.error.text() and not window.dataset.error.isHidden()
    assert "not found" in window.statusBar().currentMessage()


def test_recent_folders_are_remembered(window, qtbot, paintings):
    window.open_folder(paintings)
    wait_scanned(qtbot, window)
    assert Settings().recent_folders()[0] == str(paintings.resolve())
    actions = [a.text() for a in window.recent_menu.actions()]
    assert str(paintings.resolve()) in actions
    window.dataset.set_recent(Settings().recent_folders())
    assert window.dataset.recent_list.count() == 1


def test_the_demo_landscapes_load(window, qtbot, monkeypatch):
    import gan_studio.data.demo as demo

    real = demo.ensure_demo_folder
    monkeypatch.setattr(demo, "ensure_demo_folder", lambda progress=None: real(n=12, size=40, progress=progress))
    window.open_demo()
    s = wait_scanned(qtbot, window)
    assert s.source == "demo" and s.count == 12 and s.name == "Demo landscapes"
    assert Settings().recent_folders() == []  # the demo is not a folder of the user's
    assert Path(s.folder).name.startswith("demo-landscapes")
