"""Quality during training (stats, the best snapshot, notices) and `gan-studio eval`."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gan_studio.cli import main
from gan_studio.config import RunConfig
from gan_studio.engine import CheckpointSaved, Notice, RunDir, StepStats, Trainer, load_generator
from gan_studio.engine import checkpoint as ckpt
from gan_studio.engine.quality import QualityCheck, QualityMonitor


def quality_config(source, steps: int = 8, **train) -> RunConfig:
    cfg = RunConfig()
    cfg.data.source, cfg.data.res = str(source), 32
    cfg.model.name, cfg.model.width = "fastgan", 8
    t = cfg.train
    t.batch, t.steps, t.log_every, t.sample_every, t.checkpoint_every, t.quality_every = 8, steps, 2, 100, 3, 4
    for k, v in train.items():
        setattr(t, k, v)
    return cfg


def test_training_measures_quality_into_the_stats_and_keeps_the_best_snapshot(landscapes32, tmp_path):
    trainer = Trainer.new(quality_config(landscapes32), out=tmp_path / "run")
    events = list(trainer.run())
    run = RunDir(tmp_path / "run")
    records = run.read_stats()
    assert [r["step"] for r in records] == [2, 4, 6, 8]  # one record per logged step, the check inside it
    measured = [r for r in records if r["swd"] is not None]
    assert [r["step"] for r in measured] == [4, 8]
    assert all(r["swd"] > 0 and 0 <= r["copy_share"] <= 1 and r["augment_p"] is not None for r in measured)
    best = run.checkpoints / "best.pt"
    assert best.is_file() and any(isinstance(e, CheckpointSaved) and e.path == best for e in events)
    info = json.loads((run.checkpoints / "best.json").read_text())
    # chosen on fresh readings (the first check is always read again): its check's own reading is kept beside
    chosen = next(r for r in measured if r["step"] == info["step"])
    assert info["swd_check"] == chosen["swd"] and info["swd_fresh"] > 0 and info["swd"] > 0
    assert ckpt.load_checkpoint(best)["step"] == info["step"]
    assert [s for s, _ in run.checkpoint_list()][-1] == 8  # best.pt is not one of the pruned step checkpoints
    # sampling uses the best unless told otherwise
    assert load_generator(run.path).step == info["step"]
    assert load_generator(run.path, which="latest").step == 8


def test_a_damaged_best_snapshot_falls_back_to_the_newest(landscapes32, tmp_path):
    list(Trainer.new(quality_config(landscapes32, steps=4), out=tmp_path / "run").run())
    best = RunDir(tmp_path / "run").checkpoints / "best.pt"
    best.write_bytes(b"not a checkpoint")
    assert load_generator(tmp_path / "run").step == 4


def test_quality_off_writes_no_best_and_leaves_the_stats_empty(landscapes32, tmp_path):
    list(Trainer.new(quality_config(landscapes32, quality_every=0), out=tmp_path / "run").run())
    run = RunDir(tmp_path / "run")
    assert not (run.checkpoints / "best.pt").exists()
    assert all(r["swd"] is None for r in run.read_stats())


def test_monitor_tells_when_quality_turns_and_when_samples_copy(tmp_path):
    monitor = QualityMonitor(train=None)
    assert monitor.update(100, 40.0, 0.0) == (True, [])
    assert monitor.update(200, 30.0, 0.0)[0]
    assert monitor.update(300, 33.0, 0.0) == (False, [])
    assert monitor.update(400, 39.0, 0.0) == (False, [])  # once above 1.25 x 30 is not yet a trend
    best, notices = monitor.update(500, 41.0, 0.0)  # twice, long after the best
    assert not best and len(notices) == 1 and "falling since step 200" in notices[0]
    assert monitor.update(600, 45.0, 0.0)[1] == []  # told once
    best, notices = monitor.update(700, 20.0, 0.3)  # better, but copying: not the best, and said
    assert not best and "near-copies" in notices[0]
    other = QualityMonitor(train=None)
    other.load_state_dict(json.loads(json.dumps(monitor.state_dict())))
    assert other.state_dict() == monitor.state_dict()


def test_overfitting_signal_is_told_once_when_nothing_holds_d_back(tmp_path):
    check = QualityCheck(RunDir(tmp_path), every=0, log_every=50)  # the check off: it still watches D
    said = []
    for step in range(10):
        stats = SimpleNamespace(step=step, r_t=0.97, augment_p=None)
        said += check.overfitting(stats, augment_on=False, adaptive=True, n_images=300)
    assert len(said) == 1 and isinstance(said[0], Notice) and "memorising the 300" in said[0].message
    assert said[0].step == 3  # the 4th log in a row (200 steps at log_every 50)
    held_back = QualityCheck(RunDir(tmp_path), every=0, log_every=50)
    held = [n for step in range(10) for n in held_back.overfitting(SimpleNamespace(step=step, r_t=0.97, augment_p=0.5),
                                                                    augment_on=True, adaptive=True, n_images=300)]
    assert held == []  # ADA is still raising p: that is its job, not a warning


def test_quality_check_saves_a_new_best_through_the_run_folder_and_resumes_its_record(tmp_path):
    run = RunDir(tmp_path)
    run.checkpoints.mkdir()
    train = np.random.default_rng(0).integers(0, 256, (24, 3, 16, 16), dtype=np.uint8)
    check = QualityCheck(run, every=4, log_every=2, train=train, noise=torch.randn(24, 8), seed=0)
    assert check.enabled and not check.due(2) and check.due(4) and not check.final_due(3) and check.final_due(5)

    def generate(z):
        return torch.rand(len(z), 3, 16, 16, generator=torch.Generator().manual_seed(1))

    events: list = []
    figures = run_to_end(check.check(4, generate, lambda: {"step": 4, "marker": "full state"}), events)
    assert figures["swd"] > 0 and check.last_step == 4 and not check.final_due(4)
    assert events == [CheckpointSaved(4, run.best_checkpoint)]
    assert torch.load(run.best_checkpoint, weights_only=True)["marker"] == "full state"
    assert run.best_info() == {"step": 4, **figures}
    events = []
    run_to_end(check.check(8, generate, lambda: pytest.fail("not a new best: nothing is saved")), events)
    assert events == [] and check.last_step == 8  # the same samples again: no better than the best
    state = json.loads(json.dumps(check.state_dict()))  # what a checkpoint holds under "quality"
    assert state == check.monitor.state_dict()
    resumed = QualityCheck(run, every=4, log_every=2, train=train, noise=torch.randn(24, 8))
    run.write_best_info({"step": 6, "swd": figures["swd"] / 2, "copy_share": 0.0})  # a best written after it
    resumed.load_state_dict(state)
    assert resumed.last_step == 8 and resumed.monitor.history == check.monitor.history
    assert (resumed.monitor.best_step, resumed.monitor.best_swd) == (6, figures["swd"] / 2)
    off = QualityCheck(run, every=4, log_every=2)  # another rank, or images too small: nothing measured
    off.load_state_dict(state)
    assert not off.enabled and not off.due(4) and not off.final_due(8) and off.state_dict() is None


def run_to_end(events, into: list):
    """Collect an event generator's events into ``into``; returns its return value."""
    while True:
        try:
            into.append(next(events))
        except StopIteration as stop:
            return stop.value


def test_eval_command_prints_and_saves_the_metrics(capsys, landscapes32, tmp_path):
    list(Trainer.new(quality_config(landscapes32, steps=4), out=tmp_path / "run").run())
    code = main(["eval", str(tmp_path / "run"), "--n", "20", "--which", "latest"])
    out, err = capsys.readouterr()
    assert code == 0, err
    figures = json.loads(out)
    assert figures["step"] == 4 and figures["swd_n"] == 20 and figures["n_train"] == 24
    for key in ("swd", "swd_levels", "ms_ssim_samples", "ms_ssim_train", "copy_share", "parzen"):
        assert key in figures
    saved = tmp_path / "run" / "eval" / "step_00000004.json"
    assert json.loads(saved.read_text()) == figures
    assert (tmp_path / "run" / "eval" / "step_00000004_closest.png").is_file()
    assert "SWD" in err


def test_eval_against_another_folder_and_bad_input(capsys, landscapes32, tmp_path):
    list(Trainer.new(quality_config(landscapes32, steps=2, quality_every=0), out=tmp_path / "run").run())
    code = main(["eval", str(tmp_path / "run"), "--n", "10", "--data", str(landscapes32), "--no-parzen"])
    out, _ = capsys.readouterr()
    assert code == 0 and "parzen" not in json.loads(out)
    assert main(["eval", str(tmp_path / "nope")]) == 1


def test_train_without_model_picks_the_data_efficient_one_for_a_small_folder(capsys, landscapes32, tmp_path):
    code = main(["train", str(landscapes32), "--res", "32", "--width", "8", "--batch", "8", "--steps", "2",
                 "--out", str(tmp_path / "run")])
    assert code == 0, capsys.readouterr().err
    assert RunConfig.load(tmp_path / "run" / "config.json").model.name == "fastgan"


def test_stats_carry_the_augmentation_probability(landscapes32, tmp_path):
    trainer = Trainer.new(quality_config(landscapes32, steps=4, quality_every=0), out=tmp_path / "run")
    stats = [e for e in trainer.run() if isinstance(e, StepStats)]
    assert all(s.augment_p is not None and s.r_t is not None for s in stats)
    assert torch.isfinite(torch.tensor([s.augment_p for s in stats])).all()


def stub_check(tmp_path) -> tuple[RunDir, QualityCheck, list[int]]:
    """A quality check on random images whose fresh noise batches record their seeds (tests stub the readings)."""
    run = RunDir(tmp_path)
    run.checkpoints.mkdir()
    train = np.random.default_rng(0).integers(0, 256, (24, 3, 16, 16), dtype=np.uint8)
    fresh_seeds: list[int] = []
    check = QualityCheck(run, every=4, log_every=2, train=train, noise=torch.randn(24, 8), seed=0,
                         fresh_noise=lambda seed: fresh_seeds.append(seed) or torch.randn(24, 8))
    return run, check, fresh_seeds


def test_a_lucky_reading_is_read_again_on_fresh_draws_and_the_best_is_chosen_on_those(tmp_path, monkeypatch):
    """The winner's curse: the minimum of noisy readings is biased low. A leading reading is re-read on fresh
    noise and fresh patch draws, and only the fresh readings' mean decides and is recorded."""
    run, check, fresh_seeds = stub_check(tmp_path)
    readings = iter([30.0, 25.0, 40.0, 31.0])  # the fixed-noise reading of each check
    # three fresh readings per leading check, and three more, independent, to record an adopted one's figure
    fresh = iter([31.0, 33.0, 32.0, 30.0, 30.0, 30.0, 33.0, 35.0, 34.0, 28.0, 29.0, 28.5, 29.0, 29.5, 30.0])
    monkeypatch.setattr(check.monitor, "measure",
                        lambda samples, labels=None: {"swd": next(readings), "copy_share": 0.0})
    monkeypatch.setattr(check.monitor, "fresh_swd", lambda samples, seed, labels=None: next(fresh))

    def generate(z):
        return torch.rand(len(z), 3, 16, 16)

    saved: list = []
    run_to_end(check.check(4, generate, lambda: {"step": 4}), saved)  # the first: read again, adopted on 32
    # recorded: the independent readings (30), not the ones that chose it (32) nor the check's own (30)
    assert run.best_info() == {"step": 4, "swd": 30.0, "swd_check": 30.0, "swd_fresh": 32.0, "copy_share": 0.0,
                               "swd_readings": [30.0, 30.0, 30.0]}
    figures = run_to_end(check.check(8, generate, lambda: pytest.fail("a lucky reading is not the best")), saved)
    assert figures["swd"] == 25.0 and figures["swd_fresh"] == 34.0  # fresh draws show it no better than 30
    figures = run_to_end(check.check(12, generate, lambda: pytest.fail("not a new best")), saved)
    assert "swd_fresh" not in figures and len(fresh_seeds) == 9  # far behind the best: not read again
    run_to_end(check.check(16, generate, lambda: {"step": 16}), saved)  # 31 is within 7% of 30: read again
    assert [e.step for e in saved] == [4, 16] and check.monitor.best_swd == 29.5
    assert run.best_info()["swd"] == 29.5 and run.best_info()["swd_fresh"] == 28.5
    assert run.best_info()["swd_check"] == 31.0
    assert len(set(fresh_seeds)) == 15  # every fresh reading has noise of its own


def test_the_session_end_pools_more_readings_of_the_best_into_its_record(tmp_path, monkeypatch):
    """Three readings leave best.json's figure noisy; the end of a session reads the best six more times, on
    seeds of their own, and records the mean of all nine (once: a refined record is left alone)."""
    run, check, fresh_seeds = stub_check(tmp_path)
    fresh = iter([31.0, 33.0, 32.0, 30.0, 30.0, 33.0, 29.0, 29.0, 32.0, 35.0, 28.0, 33.0])
    monkeypatch.setattr(check.monitor, "measure", lambda samples, labels=None: {"swd": 30.0, "copy_share": 0.0})
    monkeypatch.setattr(check.monitor, "fresh_swd", lambda samples, seed, labels=None: next(fresh))
    drawn: list[str] = []

    def model(name):
        return lambda z: drawn.append(name) or torch.rand(len(z), 3, 16, 16)

    run_to_end(check.check(4, model("now"), lambda: {"step": 4}), [])
    assert run.best_info()["swd"] == 31.0  # the record: 30, 30, 33
    drawn.clear()
    # the best is older than the final state: its own generator (from best.pt) is read, not the current one
    assert check.refine_best(8, model("now"), lambda: model("best")) == pytest.approx(31.0)
    assert set(drawn) == {"best"}
    info = run.best_info()
    assert info["swd_readings"] == [30.0, 30.0, 33.0, 29.0, 29.0, 32.0, 35.0, 28.0, 33.0] and info["swd"] == 31.0
    assert info["swd_check"] == 30.0 and info["swd_fresh"] == 32.0 and check.monitor.best_swd == pytest.approx(31.0)
    assert len(set(fresh_seeds)) == 12  # six more seeds, none of the earlier readings'
    assert check.refine_best(8, model("now"), lambda: model("best")) is None  # refined already: left alone


def test_a_damaged_best_snapshot_keeps_its_record_at_the_session_end(landscapes32, tmp_path, monkeypatch):
    """best.pt damaged after it was written: the end of the session leaves best.json's figure and finishes."""
    from gan_studio.engine.quality import snapshot_generate

    run, check, _ = stub_check(tmp_path)
    monkeypatch.setattr(check.monitor, "measure", lambda samples, labels=None: {"swd": 30.0, "copy_share": 0.0})
    monkeypatch.setattr(check.monitor, "fresh_swd", lambda samples, seed, labels=None: 30.0)
    run_to_end(check.check(4, lambda z: torch.rand(len(z), 3, 16, 16), lambda: {"step": 4}), [])
    run.best_checkpoint.write_bytes(b"not a checkpoint")
    before = run.best_info()
    module = torch.nn.Linear(8, 8)
    assert check.refine_best(8, lambda z: pytest.fail("not the best"),
                             lambda: snapshot_generate(module, run.best_checkpoint, 0, torch.device("cpu"))) is None
    assert run.best_info() == before and len(before["swd_readings"]) == 3


def test_a_finished_run_records_nine_readings_of_its_best(landscapes32, tmp_path):
    trainer = Trainer.new(quality_config(landscapes32), out=tmp_path / "run")
    list(trainer.run())
    info = RunDir(tmp_path / "run").best_info()
    assert len(info["swd_readings"]) == 9 and info["swd"] == pytest.approx(np.mean(info["swd_readings"]), abs=2e-3)
    # the bar a resumed session must beat is the refined figure, in the final checkpoint too
    final = ckpt.load_checkpoint(RunDir(tmp_path / "run").checkpoint_list()[-1][1])
    assert final["quality"]["best_swd"] == pytest.approx(info["swd"], abs=2e-3)


def test_a_snapshot_generator_draws_what_sampling_from_best_pt_draws(landscapes32, tmp_path):
    from gan_studio.engine.quality import snapshot_generate

    trainer = Trainer.new(quality_config(landscapes32), out=tmp_path / "run")
    list(trainer.run())
    best = RunDir(tmp_path / "run").best_checkpoint
    generate = snapshot_generate(trainer.G_ema, best, 0, trainer.device)
    z = torch.randn(5, trainer.config.model.z_dim)
    loaded = load_generator(tmp_path / "run")
    with torch.no_grad():
        expected = (loaded.generator(z).float() + 1.0) / 2.0
    assert torch.allclose(generate(z), expected, atol=1e-5)


def test_fresh_readings_leave_the_training_streams_alone(landscapes32, tmp_path):
    """The re-readings draw from seeds of their own: a run with quality checks trains the same weights as one
    whose checks never re-read (and hence as a resumed run, which replays no checks)."""
    from gan_studio.engine import quality

    def weights(run_dir, lead):
        old = quality.QualityMonitor.LEAD
        quality.QualityMonitor.LEAD = lead
        try:
            trainer = Trainer.new(quality_config(landscapes32, quality_every=2), out=run_dir)
            list(trainer.run())
        finally:
            quality.QualityMonitor.LEAD = old
        return [p.detach().clone() for p in trainer.G.parameters()]

    always = weights(tmp_path / "a", lead=1e9)  # every check re-read
    never = weights(tmp_path / "b", lead=0.0)  # none re-read
    assert all(torch.equal(x, y) for x, y in zip(always, never))
    assert "swd_fresh" in RunDir(tmp_path / "a").best_info()


def _digits_csv(path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = [",".join(map(str, [*rng.integers(0, 256, 784), i % 10])) for i in range(n)]
    path.write_text("\n".join(rows) + "\n")


def test_the_parzen_estimate_says_which_images_it_was_taken_on(capsys, landscapes32, tmp_path):
    """Parzen on the training images rewards memorising: eval takes it on a test split where one lies beside the
    training file (MNIST's t10k), or on --held-out images, and labels a training-image figure as such."""
    from gan_studio.data.arrays import test_split_beside

    digits = tmp_path / "digits"
    digits.mkdir()
    _digits_csv(digits / "mnist_train.csv", 40, 0)
    assert test_split_beside(digits / "mnist_train.csv") is None  # no test split yet
    _digits_csv(digits / "mnist_test.csv", 30, 1)
    assert test_split_beside(digits / "mnist_train.csv") == str(digits / "mnist_test.csv")
    assert test_split_beside(digits / "mnist_test.csv") is None  # a test file has no test split of its own
    assert test_split_beside(landscapes32) is None

    cfg = quality_config(digits / "mnist_train.csv", steps=2, quality_every=0)
    cfg.model.name, cfg.data.res, cfg.model.g_output = "mlp", 28, "tanh"
    list(Trainer.new(cfg, out=tmp_path / "mlp").run())
    assert main(["eval", str(tmp_path / "mlp"), "--n", "12", "--which", "latest"]) == 0
    out, err = capsys.readouterr()
    parzen = json.loads(out)["parzen"]
    assert parzen["held_out"] and parzen["images"] == str(digits / "mnist_test.csv") and parzen["n_images"] == 30
    assert "nats of held-out images" in err

    list(Trainer.new(quality_config(landscapes32, steps=2, quality_every=0), out=tmp_path / "conv").run())
    assert main(["eval", str(tmp_path / "conv"), "--n", "12", "--which", "latest"]) == 0
    out, err = capsys.readouterr()
    parzen = json.loads(out)["parzen"]
    assert not parzen["held_out"] and "not held out" in parzen["images"] and parzen["n_images"] == 24
    assert "nats of training images (not held out)" in err
    assert main(["eval", str(tmp_path / "conv"), "--n", "12", "--which", "latest", "--held-out",
                 str(landscapes32)]) == 0
    assert json.loads(capsys.readouterr()[0])["parzen"]["held_out"]
