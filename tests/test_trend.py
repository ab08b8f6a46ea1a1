"""Quality in words and the plateau rule; the final check reported; the loss after an unclean end; no empty run
folder from a run that could not be built; a checkpoint every two minutes by default."""

from __future__ import annotations

import json

import pytest

from gan_studio.config import TrainConfig
from gan_studio.engine import Finished, RunDir, Trainer
from gan_studio.engine.recovery import lost_since_checkpoint
from gan_studio.engine.trend import checks_since_progress, plateaued, quality_trend


def small(source, **train):
    from gan_studio.config import RunConfig

    cfg = RunConfig()
    cfg.data.source, cfg.data.res = str(source), 32
    cfg.model.name, cfg.model.width = "dcgan", 8
    cfg.train.batch, cfg.train.log_every, cfg.train.compile = 8, 2, "off"
    for k, v in train.items():
        setattr(cfg.train, k, v)
    return cfg


def test_quality_in_words_needs_a_change_larger_than_the_readings_noise():
    assert quality_trend([30.0, 29.0, 28.0]) is None  # too early to say
    assert quality_trend([40.0, 38.0, 30.0, 29.0]) == "improving"
    assert quality_trend([30.0, 29.0, 29.5, 29.2]) == "levelling off"
    assert quality_trend([25.0, 24.0, 29.0, 31.0]) == "getting worse"


def test_a_plateau_is_patience_checks_without_a_real_gain():
    assert checks_since_progress([40, 30, 29.5, 29.4, 29.8]) == 3  # 29.5 and 29.4 are within 3% of 30
    assert not plateaued([40, 30, 29.5, 29.4], patience=4)
    assert plateaued([40, 30, 29.5, 29.4, 29.8, 30.2], patience=4)
    assert not plateaued([40, 30, 29.5, 29.4, 29.8, 25.0], patience=4)  # a real gain resets the count


def test_training_stops_on_a_plateau_when_asked_and_reports_the_final_check(landscapes32, tmp_path, monkeypatch):
    from gan_studio.engine import quality

    monkeypatch.setattr(quality.QualityMonitor, "measure",
                        lambda self, samples, labels=None: {"swd": 20.0, "copy_share": 0.0})
    monkeypatch.setattr(quality.QualityMonitor, "fresh_swd", lambda self, samples, seed, labels=None: 21.0)
    cfg = small(landscapes32, steps=400, quality_every=2, quality_n=8, stop_on_plateau=True, plateau_checks=3)
    events = list(Trainer.new(cfg, out=tmp_path / "run").run())
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.reason == "plateau"
    assert finished.step < 20  # four flat checks, not 400 steps
    cfg = small(landscapes32, steps=7, quality_every=2, quality_n=8)  # the last check is at the end, step 7
    finished = list(Trainer.new(cfg, out=tmp_path / "run2").run())[-1]
    assert finished.reason == "steps" and finished.quality == {"swd": 20.0, "copy_share": 0.0, "swd_fresh": 21.0}


def test_stopping_on_a_plateau_needs_the_quality_checks():
    from gan_studio.errors import ConfigError

    with pytest.raises(ConfigError, match="quality checks"):
        TrainConfig(stop_on_plateau=True, quality_every=0).validate()


def test_a_checkpoint_every_two_minutes_by_default():
    assert TrainConfig().checkpoint_minutes == 2.0


def test_what_an_unclean_end_lost_is_counted_from_the_stats_after_the_newest_checkpoint(landscapes32, tmp_path):
    cfg = small(landscapes32, steps=10, checkpoint_every=5)
    list(Trainer.new(cfg, out=tmp_path / "run").run())
    run = RunDir(tmp_path / "run")
    assert lost_since_checkpoint(run) is None  # a clean end: its last checkpoint is its last step
    last = run.read_stats()[-1]
    with open(run.stats_path, "a") as f:  # what a crash leaves: steps logged, never checkpointed
        for step in (12, 14, 16):
            f.write(json.dumps({**last, "step": step, "seconds": last["seconds"] + (step - 10) * 1.5}) + "\n")
        f.write('{"step": "x", "seconds": "y"}\n')  # and a damaged line is ignored
    lost = lost_since_checkpoint(run)
    assert (lost.checkpoint_step, lost.last_step, lost.steps) == (10, 16, 6)
    assert lost.seconds == pytest.approx(9.0)


def test_a_run_that_cannot_be_built_leaves_no_empty_folder(landscapes32, tmp_path, monkeypatch):
    from gan_studio.engine import trainer

    def broken(*args, **kwargs):
        raise RuntimeError("no memory for the model")

    monkeypatch.setattr(trainer, "build_models", broken)
    with pytest.raises(RuntimeError):
        Trainer.new(small(landscapes32, steps=2), root=tmp_path / "runs")
    assert not any((tmp_path / "runs").iterdir())
