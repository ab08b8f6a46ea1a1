"""The Runs tab with damaged runs (issue #20): a damaged run never empties the list or breaks a refresh; it is
greyed with its reason and can be shown in the file manager or deleted (after a confirmation); damage the run can
do without is a note. A property-based test damages each file of a real run and refreshes and opens it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from test_damaged_runs import Arena, damaged, examples, make_base_run

from gan_studio.engine import default_runs_root
from gan_studio.gui import tasks
from gan_studio.gui.runs_panel import COLUMNS, DAMAGED, GREY, STATUS

# torch's note on the pickle protocol of noise it was handed: the damage is reported, the note is expected
pytestmark = pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.ForegroundRole,
         Qt.ItemDataRole.DecorationRole)


@pytest.fixture(scope="session")
def base_run(tmp_path_factory, landscapes32) -> Path:
    return make_base_run(tmp_path_factory.getbasetemp(), landscapes32)


def copy_run(base: Path, name: str) -> Path:
    return Path(shutil.copytree(base, default_runs_root() / name))


def every_cell(panel) -> None:
    """Ask the model for everything a view asks (a damaged row must answer like any other)."""
    model = panel.model
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            for role in ROLES:
                model.data(model.index(row, column), role)


def test_a_stats_line_of_a_wrong_type_no_longer_empties_the_runs_tab(window, base_run):
    good, odd = copy_run(base_run, "20240101-a"), copy_run(base_run, "20240102-b")
    with open(odd / "stats.jsonl", "a") as f:
        f.write('{"step": 5, "seconds": "x"}\n')
    window.runs.refresh()
    rows = {r.path: r for r in window.runs.model.rows}
    assert set(rows) == {good, odd} and window.runs.stack.currentIndex() == 1
    assert rows[good].status == rows[odd].status == "finished" and rows[odd].seconds == rows[good].seconds > 0
    assert rows[odd].problems and not rows[odd].damage and rows[odd].can_resume
    i = window.runs.model.rows.index(rows[odd])
    assert window.runs.model.data(window.runs.model.index(i, STATUS)) == "finished · damaged file"
    window.runs.select(odd)
    assert "stats.jsonl line 5: seconds is 'x'" in window.runs.damage_label.text()


def test_a_damaged_run_is_greyed_with_its_reason_and_can_be_shown_or_deleted(window, base_run, monkeypatch):
    good, bad = copy_run(base_run, "20240101-a"), copy_run(base_run, "20240102-b")
    (bad / "config.json").write_text('{"data": ')
    shown, asked, said = [], [], []
    monkeypatch.setattr("gan_studio.gui.runs_panel.open_in_file_manager", lambda path, say: shown.append(path))
    window.runs.status.connect(said.append)
    window.runs.refresh()
    panel, model = window.runs, window.runs.model
    assert [r.path for r in model.rows] == [bad, good] or {r.path for r in model.rows} == {bad, good}
    row = next(r for r in model.rows if r.path == bad)
    i = model.rows.index(row)
    assert row.status == DAMAGED and row.damage.startswith("config.json is not valid JSON")
    assert model.data(model.index(i, 0)).splitlines()[1].startswith("damaged: config.json is not valid JSON")
    assert all(model.data(model.index(i, c), Qt.ItemDataRole.ForegroundRole).name() == GREY
               for c in range(len(COLUMNS)))
    tip = model.data(model.index(i, 0), Qt.ItemDataRole.ToolTipRole)
    assert "Show the folder to repair it, or delete the run" in tip
    every_cell(panel)
    panel.select(bad)
    assert not panel.resume_button.isEnabled() and not panel.browse_button.isEnabled()
    assert panel.folder_button.isEnabled() and panel.delete_button.isEnabled() and not panel.delete_button.isHidden()
    assert "This run is damaged: config.json is not valid JSON" in panel.damage_label.text()
    panel.browse()  # a double-click says why, and opens nothing
    assert said[-1].startswith("This run is damaged: config.json")
    panel.show_folder()
    assert shown == [bad]
    panel.move_to_trash = lambda path: False  # no trash here: deleting for good asks first
    panel.confirm_delete = lambda r: asked.append(r.path) or False  # "No"
    panel.delete_selected()
    assert asked == [bad] and bad.is_dir()
    panel.confirm_delete = lambda r: asked.append(r.path) or True
    panel.delete_selected()
    assert not bad.exists() and good.is_dir() and said[-1] == "Deleted 20240102-b"
    assert [r.path for r in model.rows] == [good]
    panel.select(good)
    assert panel.delete_button.isEnabled() and panel.resume_button.isEnabled()  # a healthy run can go too


def test_a_damaged_run_that_a_process_trains_is_not_deleted(window, base_run):
    bad = copy_run(base_run, "20240102-b")
    (bad / "config.json").write_text("[]")
    (bad / "train.lock").write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename}))
    window.runs.refresh()
    window.runs.select(bad)
    row = window.runs.selected()
    assert row.damage and row.status == "training" and not window.runs.delete_button.isEnabled()
    window.runs.move_to_trash = lambda path: True  # would move it, if the lock allowed
    window.runs.confirm_delete = lambda r: True
    window.runs.delete_selected()
    assert bad.is_dir()


def test_continuing_a_run_with_a_truncated_newest_checkpoint_says_which_step_it_resumes_from(window, qtbot, base_run):
    run = copy_run(base_run, "20240102-b")
    newest = run / "checkpoints" / "step_00000008.pt"
    newest.write_bytes(newest.read_bytes()[:4000])
    window.runs.refresh()
    window.runs.select(run)
    row = window.runs.selected()
    assert row.step == 6 and row.can_resume and "a resume starts from step 6" in window.runs.damage_label.text()
    said: list[str] = []
    window.training.status.connect(said.append)
    window.runs.resume()
    t = window.training
    t.form.by_steps.setChecked(True)
    t.form.steps.setValue(9)
    with qtbot.waitSignal(t.run_ended, timeout=60000):
        t.start()
    note = "resuming from step 6 (step_00000006.pt); passed over: checkpoint step_00000008.pt is cut short"
    assert note in said, said


@pytest.mark.slow
@examples(250)
@given(data=st.data())
def test_refresh_and_open_whatever_the_damage(data, window, qtbot, base_run, capsys):
    arena = getattr(window, "_damage_arena", None)
    if arena is None:  # one healthy run for every example (the window lives as long as the test)
        arena = window._damage_arena = Arena(base_run, default_runs_root().parent)
    said: list[str] = []
    window.statusBar().messageChanged.connect(said.append)
    try:
        with damaged(arena, data) as run:
            window.runs.refresh()
            rows = {r.path: r for r in window.runs.model.rows}
            assert set(rows) == {run, arena.healthy}
            healthy = rows[arena.healthy]
            assert healthy.status == "finished" and not healthy.damage and not healthy.problems
            every_cell(window.runs)
            victim = rows[run]
            event(f"row: {'damaged' if victim.damage else 'note' if victim.problems else 'as healthy'}")
            window.runs.select(run)
            assert window.runs.delete_button.isEnabled() == victim.can_delete
            if window.runs.resume_button.isEnabled():
                event("opened in the Train tab")
                window.runs.resume()  # the Train tab opens the run: its curves, preview, form
            if window.runs.browse_button.isEnabled() and data.draw(st.booleans(), label="browse"):
                event("opened in the gallery")
                window.runs.browse()  # the gallery opens it and loads its generator in the background
                assert tasks.wait_all(60000)
                qtbot.wait(1)  # the loaded generator's signals
                assert tasks.wait_all(60000)
            window.training.new_run_mode()
    finally:
        window.statusBar().messageChanged.disconnect(said.append)
    assert not [m for m in said if "unexpected" in m.lower()], said
    assert "Traceback" not in capsys.readouterr().err
