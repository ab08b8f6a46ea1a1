"""The Runs tab manages runs (issue 15): sort by any column, a best-quality column, rename, notes kept in the run
folder, delete to the trash (else after asking), clean up runs that never wrote a checkpoint, a context menu, and
rows that agree with the last checkpoint after an unclean end."""

from __future__ import annotations

import json
import shutil

import pytest
from PySide6.QtCore import Qt

from gan_studio.engine import RunDir
from gan_studio.gui.runs_panel import COLUMNS, STATUS


def copy_of(run, name):
    target = run.parent / name
    shutil.copytree(run, target)
    return target


def test_columns_sort_with_the_selection_following_and_best_quality_shown(window, trained_run):
    second = copy_of(trained_run, "zz-second")
    RunDir(second).write_best_info({"step": 40, "swd": 12.5, "copy_share": 0.0})
    RunDir(trained_run).write_best_info({"step": 20, "swd": 30.25, "copy_share": 0.0})
    panel = window.runs
    panel.refresh()
    panel.select(second)
    best = COLUMNS.index("Best SWD")
    panel.view.sortByColumn(best, Qt.SortOrder.AscendingOrder)
    assert [r.path for r in panel.model.rows] == [second, trained_run]
    assert panel.model.data(panel.model.index(0, best)) == "12.5"
    assert panel.selected().path == second  # the selection followed its run
    panel.view.sortByColumn(best, Qt.SortOrder.DescendingOrder)
    assert [r.path for r in panel.model.rows] == [trained_run, second] and panel.selected().path == second
    panel.view.sortByColumn(COLUMNS.index("Run"), Qt.SortOrder.AscendingOrder)
    assert panel.model.rows[0].name < panel.model.rows[1].name


def test_rename_keeps_the_run_open_under_its_new_name(window, trained_run):
    panel = window.runs
    panel.refresh()
    window.resume_run(str(trained_run))
    panel.select(trained_run)
    panel.ask_new_name = lambda row: "autumn studies"
    target = panel.rename_selected()
    assert target == trained_run.with_name("autumn studies") and target.is_dir() and not trained_run.exists()
    assert panel.selected().path == target and window.training.resume_dir == target
    assert window.windowTitle() == "GAN Studio — autumn studies"
    panel.ask_new_name = lambda row: "bad/name"
    assert panel.rename_selected() is None and target.is_dir()


def test_notes_are_kept_in_the_run_folder(window, trained_run, qtbot):
    panel = window.runs
    panel.refresh()
    panel.select(trained_run)
    panel.notes.setPlainText("warm palette; try 128 px next")
    qtbot.waitUntil(lambda: RunDir(trained_run).notes_path.exists(), timeout=5000)
    assert RunDir(trained_run).notes() == "warm palette; try 128 px next"
    panel.refresh()
    panel.select(trained_run)
    assert panel.notes.toPlainText() == "warm palette; try 128 px next"
    row = panel.model.rows.index(panel.selected())
    assert "warm palette" in panel.model.data(panel.model.index(row, 0), Qt.ItemDataRole.ToolTipRole)


def test_delete_goes_to_the_trash_or_asks_first(window, trained_run):
    other = copy_of(trained_run, "zz-other")
    panel = window.runs
    panel.refresh()
    trashed, asked = [], []

    def to_trash(path):
        trashed.append(path)
        shutil.rmtree(path)
        return True

    panel.move_to_trash = to_trash
    panel.confirm_delete = lambda row: asked.append(row.path) or True
    panel.select(other)
    panel.delete_selected()
    assert trashed == [other] and asked == [] and not other.exists()  # undoable: no question
    panel.move_to_trash = lambda path: False  # no trash on this system: ask, then delete for good
    panel.select(trained_run)
    panel.delete_selected()
    assert asked == [trained_run] and not trained_run.exists()


def test_clean_up_removes_only_the_runs_that_never_wrote_a_checkpoint(window, trained_run):
    empty = trained_run.parent / "20240301-000000-fastgan-x"
    (empty / "samples").mkdir(parents=True)
    (empty / "checkpoints").mkdir()
    shutil.copy(trained_run / "config.json", empty / "config.json")
    panel = window.runs
    panel.refresh()
    assert [r.path for r in panel.untrained_runs()] == [empty]
    panel.move_to_trash = lambda path: False
    panel.confirm_delete = lambda row: True
    panel.confirm_clean_up = lambda rows: False
    assert panel.clean_up() == 0 and empty.exists()
    panel.confirm_clean_up = lambda rows: [r.path for r in rows] == [empty]
    assert panel.clean_up() == 1 and not empty.exists() and trained_run.is_dir()


@pytest.mark.qt_log_ignore(".*does not support (raise|grabbing the keyboard|propagateSizeHints).*")  # offscreen menus
def test_the_context_menu_offers_what_the_run_allows(window, trained_run, qtbot):
    panel = window.runs
    panel.refresh()
    window.tabs.setCurrentIndex(2)
    panel.select(trained_run)
    rect = panel.view.visualRect(panel.model.index(panel.model.rows.index(panel.selected()), 1))
    menu = panel.show_context_menu(rect.center())
    actions = {a.text(): a.isEnabled() for a in menu.actions() if a.text()}
    assert actions["Continue Training"] and actions["Browse Gallery"] and actions["Rename…"]
    assert actions["Move to Trash…"] and not actions["Remove Runs Without a Checkpoint…"]
    menu.close()


def test_after_an_unclean_end_the_row_agrees_with_the_checkpoint(window, trained_run):
    run = RunDir(trained_run)
    last = run.read_stats()[-1]
    with open(run.stats_path, "a") as f:
        for step in (42, 44, 46):
            f.write(json.dumps({**last, "step": step, "seconds": last["seconds"] + (step - 40)}) + "\n")
    shutil.copy(run.sample_grids()[-1], run.sample_path(46))
    panel = window.runs
    panel.refresh()
    panel.select(trained_run)
    row = panel.selected()
    assert row.step == 40 and row.lost_steps == 6 and row.seconds == last["seconds"]
    assert "step_00000046" not in row.thumbnail  # the preview of a step that was never saved is not shown
    assert panel.model.data(panel.model.index(panel.model.rows.index(row), STATUS)).endswith("· 6 steps lost")
