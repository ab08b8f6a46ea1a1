"""Faults during training: divergence, out of memory, a full disk, and SIGKILL at random moments."""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from test_trainer import small_config

from gan_studio.engine import Failed, Finished, Notice, Trainer
from gan_studio.engine import checkpoint as ckpt
from gan_studio.engine.rundir import RunDir


def poison_d_loss(trainer, bad_calls):
    """Make the trainer's discriminator loss NaN on the given call numbers (1-based), as a diverging game would."""
    real = trainer.d_loss
    calls = {"n": 0}

    def d_loss(real_logits, fake_logits):
        calls["n"] += 1
        loss = real(real_logits, fake_logits)
        return loss * float("nan") if calls["n"] in bad_calls else loss

    trainer.d_loss = d_loss


def all_finite(state):
    return all(torch.isfinite(t).all() for k in ("G", "D", "G_ema") for t in state[k].values()
               if t.is_floating_point())


def test_a_nan_rolls_back_lowers_the_learning_rate_and_never_reaches_a_checkpoint(landscapes32, tmp_path,
                                                                                  monkeypatch):
    trainer = Trainer.new(small_config(landscapes32, steps=10, checkpoint_every=2, keep_last=100),
                          out=tmp_path / "run")
    poison_d_loss(trainer, {5})
    events = list(trainer.run())
    notices = [e for e in events if isinstance(e, Notice)]
    assert len(notices) == 1 and "rolled back to step 4" in notices[0].message
    assert isinstance(events[-1], Finished) and events[-1].step == 10
    assert trainer.config.train.lr_g == pytest.approx(1e-4)
    assert RunDir(tmp_path / "run").config().train.lr_d == pytest.approx(1e-4)
    for _, path in RunDir(tmp_path / "run").checkpoint_list():
        assert all_finite(ckpt.load_checkpoint(path)), path
    assert all(r["loss_d"] == r["loss_d"] for r in RunDir(tmp_path / "run").read_stats())  # no NaN logged


def test_a_second_divergence_stops_with_a_clear_message(landscapes32, tmp_path, monkeypatch):
    trainer = Trainer.new(small_config(landscapes32, steps=30, checkpoint_every=2), out=tmp_path / "run")
    poison_d_loss(trainer, set(range(5, 1000)))
    events = list(trainer.run())
    assert isinstance(events[-1], Failed) and "diverged again" in events[-1].message
    for _, path in RunDir(tmp_path / "run").checkpoint_list():
        assert all_finite(ckpt.load_checkpoint(path))


def test_out_of_memory_retries_at_half_the_batch(landscapes32, tmp_path, monkeypatch):
    trainer = Trainer.new(small_config(landscapes32, steps=4), out=tmp_path / "run")
    real_step = trainer.train_step
    calls = {"n": 0}

    def step():
        calls["n"] += 1
        if calls["n"] == 2:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_step()

    monkeypatch.setattr(trainer, "train_step", step)
    events = list(trainer.run())
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert notices and "batch 4" in notices[0]
    assert isinstance(events[-1], Finished) and events[-1].step == 4
    assert RunDir(tmp_path / "run").config().train.batch == 4


def test_a_full_disk_during_a_checkpoint_is_a_clear_error_and_leaves_nothing_half_written(landscapes32, tmp_path,
                                                                                        monkeypatch):
    trainer = Trainer.new(small_config(landscapes32, steps=6, checkpoint_every=3), out=tmp_path / "run")
    real_save = torch.save
    calls = {"n": 0}

    def save(obj, f, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:  # the second checkpoint: the disk fills up half way
            f.write(b"x" * 100)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(torch, "save", save)
    events = list(trainer.run())
    assert isinstance(events[-1], Failed) and "No space left on device" in events[-1].message
    folder = tmp_path / "run" / "checkpoints"
    assert [p.name for p in folder.iterdir()] == ["step_00000003.pt"]  # no temporary file left behind
    ckpt.load_checkpoint(folder / "step_00000003.pt")


def test_an_output_folder_that_cannot_be_created_is_a_clear_error(landscapes32, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("I am a file, not a folder")
    from gan_studio.errors import CheckpointError

    with pytest.raises(CheckpointError, match="cannot create the run folder"):
        Trainer.new(small_config(landscapes32), out=blocker / "run")


@pytest.mark.slow
def test_sigkill_at_random_moments_always_leaves_a_resumable_run(landscapes32, tmp_path):
    """Kill training (SIGKILL) at random moments, many of them in the middle of a checkpoint write; the run
    folder always holds a loadable checkpoint no more than one interval behind, and --resume continues."""
    run = tmp_path / "run"
    rng = random.Random(1234)
    args = [sys.executable, "-m", "gan_studio", "train", str(landscapes32), "--res", "32", "--width", "8",
            "--batch", "8", "--steps", "100000", "--checkpoint-every", "2", "--sample-every", "1000",
            "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cwd = Path(__file__).parents[1]
    for attempt in range(5):
        cmd = args + (["--out", str(run)] if attempt == 0 else [])
        if attempt:
            cmd = [sys.executable, "-m", "gan_studio", "train", "--resume", str(run), "--steps", "100000"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
        # wait until training is under way (a first checkpoint exists), then kill at a random moment
        deadline = time.monotonic() + 120
        while not RunDir(run).checkpoint_list() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stats = RunDir(run).read_stats()
        path, state = ckpt.latest_loadable_checkpoint(run / "checkpoints")
        logged = max((r["step"] for r in stats), default=0)
        assert state["step"] >= logged - 2, (attempt, state["step"], logged)  # at most one interval lost
        leftovers = [p.name for p in (run / "checkpoints").iterdir() if p.suffix == ".tmp"]
        # a temporary file may remain from the killed write, but it is never taken for a checkpoint
        assert all(name.startswith(".") for name in leftovers)
    result = subprocess.run([sys.executable, "-m", "gan_studio", "train", "--resume", str(run), "--steps",
                             str(state["step"] + 4)], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"finished at step {state['step'] + 4}" in result.stderr
    # the resumed process (holding the lock) cleared what killed writes had left
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.endswith(".tmp")]


def test_a_failing_compiler_falls_back_to_eager_training(landscapes32, tmp_path, monkeypatch):
    class Broken(torch.nn.Module):
        def forward(self, *args):
            raise RuntimeError("inductor: no working C++ compiler (simulated)")

    monkeypatch.setattr(torch, "compile", lambda module, **kw: Broken())
    trainer = Trainer.new(small_config(landscapes32, steps=4, compile="on"), out=tmp_path / "run")
    events = list(trainer.run())
    assert any(isinstance(e, Notice) and "torch.compile" in e.message for e in events)
    assert isinstance(events[-1], Finished) and events[-1].step == 4 and not trainer.compiled
