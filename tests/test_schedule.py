"""The trainer's cadence (gan_studio.engine.schedule), tested without training: which steps log, check quality,
preview and checkpoint, when a session ends, and how its clock leaves pauses out."""

from __future__ import annotations

import numpy as np
import pytest

from gan_studio.config import TrainConfig
from gan_studio.engine.quality import QualityCheck
from gan_studio.engine.rundir import RunDir
from gan_studio.engine.schedule import Schedule, SessionClock, crosses_multiple

TINY = np.zeros((2, 3, 8, 8), np.uint8)  # training images for a quality check that is never run


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def train_config(**fields) -> TrainConfig:
    t = TrainConfig()
    t.steps, t.log_every, t.sample_every, t.checkpoint_every, t.checkpoint_minutes = 100, 5, 20, 30, 10.0
    for k, v in fields.items():
        setattr(t, k, v)
    return t


def test_logs_and_saved_grids_fall_on_multiples_of_their_steps():
    s = Schedule(train_config(), start_step=0)
    assert [n for n in range(1, 31) if s.log_due(n)] == [5, 10, 15, 20, 25, 30]
    assert [n for n in range(1, 61) if s.grid_due(n)] == [20, 40, 60]


@pytest.mark.parametrize("log_every, quality_every, expected", [
    (2, 4, [4, 8, 12, 16]),  # quality_every a multiple of log_every: exactly on the multiples
    (3, 4, [6, 9, 12]),  # otherwise the first log step at or past each multiple (4 -> 6, 8 -> 9, 12)
    (5, 2, [5, 10, 15]),  # checks more often than logs: once per log
    (2, 0, []),  # off
])
def test_the_quality_check_comes_at_the_first_log_step_at_or_past_each_multiple(log_every, quality_every, expected,
                                                                                  tmp_path):
    log_steps = [n for n in range(1, 17) if n % log_every == 0]
    assert [n for n in log_steps if crosses_multiple(n, quality_every, log_every)] == expected
    measuring = QualityCheck(RunDir(tmp_path), quality_every, log_every, train=TINY, noise=None)
    assert [n for n in log_steps if measuring.due(n)] == expected
    watching = QualityCheck(RunDir(tmp_path), quality_every, log_every)  # nothing to measure (rank > 0, tiny images)
    assert [n for n in log_steps if watching.due(n)] == []


def test_the_final_quality_check_runs_only_on_an_unchecked_state_past_the_first_interval(tmp_path):
    check = QualityCheck(RunDir(tmp_path), 10, 5, train=TINY, noise=None)
    assert not check.final_due(9) and check.final_due(10) and check.final_due(13)
    check.last_step = 13
    assert not check.final_due(13) and check.final_due(14)


def test_live_previews_come_every_few_seconds_between_saved_grids():
    s = Schedule(train_config(sample_every=20), start_step=0, now=0.0)
    assert not s.preview_due(1, 0.5, None) and not s.preview_due(1, 100.0, 0.0)  # no live view asked for
    assert s.preview_due(20, 0.1, None) and s.grid_due(20)  # a saved grid does not wait for the interval
    assert not s.preview_due(3, 1.9, 2.0)
    assert s.preview_due(3, 2.0, 2.0) and not s.grid_due(3)
    s.previewed(2.0)
    assert not s.preview_due(4, 3.5, 2.0) and s.preview_due(5, 4.0, 2.0)
    assert s.preview_due(20, 4.0, 2.0)
    s.previewed(4.0)  # a saved grid counts as a preview too: the next live one is timed from it
    assert not s.preview_due(21, 5.0, 2.0)


def test_checkpoints_come_every_so_many_steps_or_minutes_whichever_is_first():
    s = Schedule(train_config(checkpoint_every=30, checkpoint_minutes=10.0), start_step=7, now=1000.0)
    assert not s.checkpoint_due(36, 1000.0 + 599) and s.checkpoint_due(37, 1000.0)  # 30 steps after the start
    s.checkpointed(37, 1100.0)
    assert not s.checkpoint_due(50, 1100.0 + 599.9) and s.checkpoint_due(50, 1100.0 + 600)  # or 10 minutes
    s.checkpointed(50, 1700.0)
    s.rolled_back_to(40)  # training went back to an earlier good state: steps count from there
    assert s.last_checkpoint_step == 40 and s.checkpoint_due(70, 1700.0) and not s.checkpoint_due(69, 1700.0)
    by_time_only = Schedule(train_config(checkpoint_every=None, checkpoint_minutes=1.0), start_step=0, now=0.0)
    assert not by_time_only.checkpoint_due(10_000, 59.0) and by_time_only.checkpoint_due(1, 60.0)


def test_under_torchrun_ending_and_checkpoints_wait_for_a_log_step():
    single = Schedule(train_config(log_every=5, checkpoint_every=3), start_step=0, now=0.0)
    ranks = Schedule(train_config(log_every=5, checkpoint_every=3), start_step=0, now=0.0, world=4)
    assert all(single.agreed_step(n) for n in range(1, 12))
    assert [n for n in range(1, 12) if ranks.agreed_step(n)] == [5, 10]
    assert single.checkpoint_due(3, 0.0)
    assert [n for n in range(1, 12) if ranks.checkpoint_due(n, 0.0)] == [5, 10]  # due from step 3, taken at 5
    assert [n for n in range(1, 12) if ranks.checkpoint_due(n, 10_000.0)] == [5, 10]  # on time too


def test_a_session_ends_at_its_steps_or_its_minutes():
    s = Schedule(train_config(steps=50, minutes=2.0), start_step=20)
    assert not s.steps_reached(49) and s.steps_reached(50) and s.steps_reached(51)
    assert not s.time_up(119.9) and s.time_up(120.0)
    endless = Schedule(train_config(steps=None, minutes=None), start_step=0)
    assert not endless.steps_reached(10**9) and not endless.time_up(10**9)


def test_progress_and_time_left_follow_whichever_limit_comes_first():
    by_steps = Schedule(train_config(steps=120, minutes=None), start_step=20)
    assert by_steps.progress(70, 30.0, steps_per_s=10.0) == (0.5, 5.0)  # 50 of 100 steps; 50 steps at 10/s
    by_time = Schedule(train_config(steps=None, minutes=1.0), start_step=0)
    assert by_time.progress(10, 15.0, steps_per_s=1.0) == (0.25, 45.0)
    both = Schedule(train_config(steps=100, minutes=1.0), start_step=0)
    assert both.progress(10, 45.0, steps_per_s=1.0) == (0.75, 15.0)  # time runs out before the steps
    assert both.progress(100, 70.0, steps_per_s=1.0) == (1.0, 0.0)  # clamped
    assert Schedule(train_config(steps=None, minutes=None), start_step=0).progress(5, 5.0, 1.0) == (None, None)


def test_the_session_clock_leaves_pauses_out_of_training_time_and_of_the_stats_window():
    clock = FakeClock(100.0)
    session = SessionClock(clock)
    clock.t = 110.0
    assert session.elapsed() == 10.0 and session.window_seconds() == 10.0
    with session.pause():
        clock.t = 170.0  # a minute paused
    clock.t = 175.0
    assert session.elapsed() == 15.0 and session.paused_for == 60.0
    assert session.window_seconds() == 15.0  # the window began at 100: 75 s ago, 60 of them paused
    assert session.window_seconds(excluded=4.0) == 11.0  # time spent on a chore is left out of images/s
    assert session.elapsed(now=171.0) == 11.0  # at a given time (as the trainer passes its `now`)
    session.new_window()
    clock.t = 180.0
    assert session.window_seconds() == 5.0 and session.elapsed() == 20.0


def test_a_pause_ended_by_an_error_is_still_left_out():
    clock = FakeClock(0.0)
    session = SessionClock(clock)
    with pytest.raises(KeyboardInterrupt), session.pause():
        clock.t = 30.0
        raise KeyboardInterrupt
    assert session.elapsed() == 0.0
