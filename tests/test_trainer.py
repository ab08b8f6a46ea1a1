"""The trainer: events, the run directory, checkpoints, exact resume, stop and pause, and the run lock."""

from __future__ import annotations

import json
import threading

import pytest
import torch

from gan_studio.config import RunConfig
from gan_studio.engine import (
    CheckpointSaved,
    Failed,
    Finished,
    Preview,
    RunDir,
    Started,
    StepStats,
    Trainer,
    load_generator,
)
from gan_studio.engine import checkpoint as ckpt
from gan_studio.engine.lock import RunLock
from gan_studio.engine.schedule import apply_schedules
from gan_studio.errors import CheckpointError


def small_config(source, model="dcgan", steps=6, **train) -> RunConfig:
    cfg = RunConfig()
    cfg.data.source = str(source)
    cfg.model.name = model
    if model == "dcgan":
        cfg.data.res, cfg.model.width = 32, 8
    else:
        cfg.data.res = 16
        cfg.model.g_hidden, cfg.model.d_hidden = [64, 64], [32, 32]
    cfg.train.batch = 8
    cfg.train.steps = steps
    cfg.train.log_every = 2
    cfg.train.sample_every = 4
    cfg.train.checkpoint_every = 3
    for k, v in train.items():
        setattr(cfg.train, k, v)
    return cfg


def events_of(trainer):
    return list(trainer.run())


@pytest.mark.parametrize("model", ["dcgan", "mlp"])
def test_one_training_step_changes_both_networks(landscapes32, tmp_path, model):
    trainer = Trainer.new(small_config(landscapes32, model), out=tmp_path / "run")
    g0 = [p.detach().clone() for p in trainer.G.parameters()]
    d0 = [p.detach().clone() for p in trainer.D.parameters()]
    stats = trainer.train_step()
    assert stats.shape == (4,) and torch.isfinite(stats).all()
    assert 0 < stats[2] < 1 and 0 < stats[3] < 1  # D(x), D(G(z)) are probabilities
    assert any(not torch.equal(a, b) for a, b in zip(g0, trainer.G.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, trainer.D.parameters()))


def test_k_discriminator_steps_per_generator_step(landscapes32, tmp_path):
    trainer = Trainer.new(small_config(landscapes32, k=3), out=tmp_path / "run")
    trainer.train_step()
    d_steps = trainer.opt_d.state[next(iter(trainer.D.parameters()))]["step"]
    g_steps = trainer.opt_g.state[next(iter(trainer.G.parameters()))]["step"]
    assert (int(d_steps), int(g_steps)) == (3, 1)


def test_run_yields_events_and_fills_the_run_directory(landscapes32, tmp_path):
    trainer = Trainer.new(small_config(landscapes32), out=tmp_path / "run")
    events = events_of(trainer)
    kinds = [type(e) for e in events]
    assert kinds[0] is Started and kinds[-1] is Finished
    assert events[-1].step == 6 and events[-1].reason == "steps"
    assert [e.step for e in events if isinstance(e, StepStats)] == [2, 4, 6]
    assert [e.step for e in events if isinstance(e, CheckpointSaved)] == [3, 6]
    previews = [e for e in events if isinstance(e, Preview)]
    assert previews[0].image.dtype.name == "uint8" and previews[0].image.shape[2] == 3
    run = RunDir(tmp_path / "run")
    assert RunConfig.load(run.config_path).train.steps == 6
    records = [json.loads(line) for line in run.stats_path.read_text().splitlines()]
    for key in ("step", "seconds", "images_per_s", "loss_d", "loss_g", "d_real", "d_fake"):
        assert all(key in r for r in records), key
    assert [p.name for p in run.sample_grids()] == ["step_00000000.png", "step_00000004.png", "step_00000006.png"]
    assert not run.lock_path.exists()


def test_keep_last_prunes_old_checkpoints(landscapes32, tmp_path):
    trainer = Trainer.new(small_config(landscapes32, steps=8, checkpoint_every=1, keep_last=2), out=tmp_path / "r")
    events_of(trainer)
    assert [s for s, _ in RunDir(tmp_path / "r").checkpoint_list()] == [7, 8]


def test_checkpoint_round_trip(landscapes32, tmp_path):
    trainer = Trainer.new(small_config(landscapes32, steps=3), out=tmp_path / "run")
    events_of(trainer)
    path = trainer.last_checkpoint
    state = ckpt.load_checkpoint(path)
    assert state["step"] == 3
    for key in ("G", "D", "G_ema"):
        module = {"G": trainer.G, "D": trainer.D, "G_ema": trainer.G_ema}[key]
        for name, tensor in module.state_dict().items():
            assert torch.equal(state[key][name], tensor.cpu()), (key, name)
    assert state["opt_g"]["state"] and state["opt_d"]["state"]
    gen = load_generator(tmp_path / "run")
    assert gen.step == 3
    images = gen.images([5, 6, 7])
    assert images.shape == (3, 32, 32, 3) and images.dtype.name == "uint8"
    # an image is a function of its seed alone, whatever batch it is drawn in
    assert (gen.images([6]) == images[1:2]).all()


@pytest.mark.parametrize("model", ["dcgan", "mlp"])
def test_resume_matches_an_uninterrupted_run(landscapes32, tmp_path, model):
    straight = Trainer.new(small_config(landscapes32, model, steps=8, checkpoint_every=100), out=tmp_path / "a")
    events_of(straight)

    first = Trainer.new(small_config(landscapes32, model, steps=4, checkpoint_every=100), out=tmp_path / "b")
    events_of(first)
    resumed = Trainer.resume(tmp_path / "b", steps=8)
    assert resumed.step == 4
    events = events_of(resumed)
    assert isinstance(events[-1], Finished) and events[-1].step == 8

    for a, b in [(straight.G, resumed.G), (straight.D, resumed.D), (straight.G_ema, resumed.G_ema)]:
        for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(pa, pb), name
    # the optimizer state was carried over, not restarted
    pa = next(iter(straight.G.parameters()))
    pb = next(iter(resumed.G.parameters()))
    assert torch.equal(straight.opt_g.state[pa]["exp_avg"], resumed.opt_g.state[pb]["exp_avg"])
    steps_logged = [r["step"] for r in RunDir(tmp_path / "b").read_stats()]
    assert steps_logged == [2, 4, 6, 8]


def test_stop_request_ends_with_a_checkpoint(landscapes32, tmp_path):
    trainer = Trainer.new(small_config(landscapes32, steps=10_000, checkpoint_every=10_000), out=tmp_path / "run")
    seen = []
    for event in trainer.run():
        seen.append(event)
        if isinstance(event, StepStats) and event.step >= 4:
            trainer.request_stop()
    assert isinstance(seen[-1], Finished) and seen[-1].reason == "stopped"
    assert any(isinstance(e, CheckpointSaved) and e.step == seen[-1].step for e in seen)


def test_pause_blocks_between_steps_until_resumed(landscapes32, tmp_path):
    trainer = Trainer.new(small_config(landscapes32, steps=6), out=tmp_path / "run")
    trainer.set_paused(True)
    done = threading.Event()
    steps = []

    def consume():
        for event in trainer.run():
            if isinstance(event, StepStats):
                steps.append(event.step)
        done.set()

    thread = threading.Thread(target=consume)
    thread.start()
    assert not done.wait(1.0) and steps == []  # paused: nothing trains
    trainer.set_paused(False)
    assert done.wait(60)
    thread.join()
    assert steps == [2, 4, 6]


def test_minutes_budget_stops_training(landscapes32, tmp_path):
    trainer = Trainer.new(small_config(landscapes32, steps=None, minutes=0.02), out=tmp_path / "run")
    events = events_of(trainer)
    assert isinstance(events[-1], Finished) and events[-1].reason == "time"


def test_a_second_trainer_on_the_same_run_is_refused(landscapes32, tmp_path):
    trainer = Trainer.new(small_config(landscapes32), out=tmp_path / "run")
    lock = RunLock(RunDir(tmp_path / "run").lock_path)
    lock.path.write_text(json.dumps({"pid": 1, "host": __import__("socket").gethostname()}))  # pid 1 is alive
    events = events_of(trainer)
    assert isinstance(events[-1], Failed) and "already being trained" in events[-1].message
    lock.path.write_text(json.dumps({"pid": 2 ** 22 + 12345, "host": __import__("socket").gethostname()}))
    assert isinstance(events_of(trainer)[-1], Finished)  # a stale lock (dead process) is taken over


def test_a_corrupt_newest_checkpoint_falls_back_to_the_previous_one(landscapes32, tmp_path):
    events_of(Trainer.new(small_config(landscapes32, steps=6), out=tmp_path / "run"))
    run = RunDir(tmp_path / "run")
    (_, older), (_, newest) = run.checkpoint_list()[-2:]
    newest.write_bytes(newest.read_bytes()[:1000])  # cut short, as by a crash without atomic writes
    resumed = Trainer.resume(tmp_path / "run", steps=7)
    assert resumed.step == 3


def test_a_checkpoint_carrying_code_is_refused_and_the_code_does_not_run(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "step_00000001.pt"
    torch.save({"format": ckpt.FORMAT, "version": 1, "evil": Payload()}, path)
    with pytest.raises(CheckpointError, match="refused"):
        ckpt.load_checkpoint(path)
    assert not marker.exists()


def test_checkpoint_validation_names_what_is_wrong(tmp_path):
    path = tmp_path / "step_00000001.pt"
    torch.save({"format": ckpt.FORMAT, "version": 1, "step": 1}, path)
    with pytest.raises(CheckpointError, match="missing"):
        ckpt.load_checkpoint(path)
    torch.save({"hello": 1}, path)
    with pytest.raises(CheckpointError, match="not a GAN Studio checkpoint"):
        ckpt.load_checkpoint(path)


def test_resume_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(CheckpointError, match="not a GAN Studio run"):
        Trainer.resume(tmp_path)


def test_schedules_and_max_norm_follow_the_step(landscapes32, tmp_path):
    cfg = small_config(landscapes32, "mlp", steps=3, optimizer="sgd", lr_g=0.1, lr_d=0.1, lr_decay=1.5,
                       lr_min=0.05, momentum=0.5, momentum_final=0.7, momentum_steps=4)
    cfg.model.d_max_col_norm = 0.5
    trainer = Trainer.new(cfg, out=tmp_path / "run")
    list(trainer.run())
    apply_schedules(cfg.train, (trainer.opt_g, trainer.opt_d), trainer.step, 0.0)  # the next step's (step 3)
    assert trainer.opt_g.param_groups[0]["lr"] == pytest.approx(max(0.1 / 1.5 ** 3, 0.05))
    assert trainer.opt_d.param_groups[0]["momentum"] == pytest.approx(0.5 + 0.2 * 3 / 4)
    norms = [m.weight.norm(dim=1).max().item() for m in trainer.D.modules() if isinstance(m, torch.nn.Linear)]
    assert max(norms) <= 0.5 + 1e-5


def test_a_version_1_run_resumes_without_the_later_augmentation_and_quality_checks():
    # Runs saved before augmentation existed must keep training the way they started.
    from gan_studio.config import CONFIG_VERSION, RunConfig

    old = RunConfig().to_dict()
    old["version"] = 1
    del old["train"]["augment"], old["train"]["quality_every"]
    cfg = RunConfig.from_dict(old)
    cfg.train.validate()
    assert (cfg.train.augment, cfg.train.quality_every, cfg.version) == ("off", 0, CONFIG_VERSION)
    explicit = RunConfig().to_dict()
    explicit["version"] = 1
    explicit["train"]["augment"] = "on"
    assert RunConfig.from_dict(explicit).train.augment == "on"
    assert RunConfig.from_dict({"train": {}}).train.augment == "auto"  # a new config keeps the new defaults
