"""A run folder written by the previous release (tests/fixtures/run_v0_1_0, made with GAN Studio 0.1.0) still
lists, samples, keeps its favourites and best snapshot, and resumes where it stopped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from gan_studio.cli import main as cli
from gan_studio.engine import Finished, RunDir, Trainer, load_generator
from gan_studio.engine import checkpoint as ckpt

FIXTURE = Path(__file__).parent / "fixtures" / "run_v0_1_0"


@pytest.fixture
def old_run(tmp_path, landscapes32) -> Path:
    run = tmp_path / "run_v0_1_0"
    shutil.copytree(FIXTURE, run)
    config = json.loads((run / "config.json").read_text())
    config["data"]["source"] = str(landscapes32)  # the same 24 landscapes, at this test's path
    (run / "config.json").write_text(json.dumps(config))
    return run


def test_the_old_run_folder_opens_and_samples(old_run):
    run = RunDir.open(old_run)
    assert run.config().model.name == "fastgan" and run.latest_step() == 6
    assert run.favourites() == [1, 3, 7] and run.best_info()["step"] == 6
    gen = load_generator(old_run, which="best")
    assert gen.checkpoint == run.best_checkpoint and gen.images([0, 1]).shape == (2, 32, 32, 3)


def test_the_old_run_resumes_from_its_checkpoint(old_run):
    saved = ckpt.load_checkpoint(old_run / "checkpoints" / "step_00000006.pt")
    trainer = Trainer.resume(old_run, steps=8, device="cpu")
    assert trainer.step == 6
    for name, tensor in saved["G"].items():
        assert torch.equal(trainer.G.state_dict()[name], tensor), name
    events = list(trainer.run())
    finished = [e for e in events if isinstance(e, Finished)]
    assert finished and finished[0].step == 8 and finished[0].reason == "steps"
    assert RunDir(old_run).latest_step() == 8


def test_the_command_line_continues_the_old_run(old_run, capsys):
    assert cli(["train", "--resume", str(old_run), "--steps", "7", "--device", "cpu"]) == 0
    assert "finished at step 7" in capsys.readouterr().err
