"""torchrun with two CPU processes (gloo): DDP training, rank 0 writes the run, and it resumes in one process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gan_studio.engine import Trainer, load_generator
from gan_studio.engine.rundir import RunDir


@pytest.mark.slow
def test_torchrun_two_processes_then_resume_in_one(landscapes32, tmp_path):
    torchrun = shutil.which("torchrun")
    cmd = [torchrun] if torchrun else [sys.executable, "-m", "torch.distributed.run"]
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        cmd + ["--standalone", "--nproc_per_node", "2", "-m", "gan_studio", "train", str(landscapes32),
               "--res", "32", "--width", "8", "--batch", "4", "--steps", "6", "--device", "cpu", "--out", str(run)],
        capture_output=True, text=True, env=env, timeout=300, cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stderr.count("finished at step 6") == 1  # rank 0 alone reports
    info = json.loads((run / "run.json").read_text())
    assert info["world_size"] == 2
    assert [s for s, _ in RunDir(run).checkpoint_list()] == [6]
    assert not (run / "train.lock").exists()

    # the checkpoint of a two-process run loads and trains on in a single process
    trainer = Trainer.resume(run, steps=8)
    assert trainer.step == 6
    events = list(trainer.run())
    assert type(events[-1]).__name__ == "Finished" and events[-1].step == 8
    assert load_generator(run).images([0, 1]).shape == (2, 32, 32, 3)
