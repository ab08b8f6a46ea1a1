"""Choosing the CPU thread count: a thread per core that nothing else is using."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch

from gan_studio.engine.device import configure_threads, cores_busy_elsewhere, thread_count


def test_thread_count_leaves_the_cores_other_programs_use():
    assert thread_count(2, 0.0) == 2
    assert thread_count(2, 0.3) == 2  # a little background noise does not cost a core
    assert thread_count(2, 0.8) == 1
    assert thread_count(2, 6.0) == 1  # never fewer than one
    assert thread_count(16, 3.4) == 13
    assert thread_count(8, None) == 8  # unknown (no /proc): every core, as before
    assert thread_count(0, None) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_another_busy_program_is_seen():
    spinner = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 20: pass"])
    try:
        time.sleep(0.5)
        assert cores_busy_elsewhere(0.5) >= 0.5  # the spinner takes a whole core
    finally:
        spinner.kill()
        spinner.wait()


def test_omp_num_threads_is_respected(monkeypatch):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert configure_threads() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_gpu_training_skips_the_look_and_a_recent_look_is_reused(monkeypatch):
    import gan_studio.engine.device as device

    looks = []
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(device, "cores_busy_elsewhere", lambda: looks.append(1) or 0.0)
    monkeypatch.setattr(device, "_recent_sample", None)
    before = torch.get_num_threads()
    try:
        device.configure_threads(sample=False)
        assert looks == []
        device.configure_threads()
        device.configure_threads()
        assert len(looks) == (1 if len(os.sched_getaffinity(0)) > 1 else 0)  # one core: nothing to share
    finally:
        torch.set_num_threads(before)


# ------------------------------------------------------------------------- the measured CPU route (routes.py)
from gan_studio.engine import routes  # noqa: E402
from gan_studio.engine.routes import Candidate, Route, choose_route, compile_decision  # noqa: E402

CPU = torch.device("cpu")
SHAPE = (3, 32, 32)


def tiny_config(**train):
    from gan_studio.config import RunConfig

    cfg = RunConfig()
    cfg.data.source, cfg.data.res, cfg.model.width = ".", 32, 8
    cfg.train.batch = 8
    for k, v in train.items():
        setattr(cfg.train, k, v)
    return cfg


class FakeProbe:
    def __init__(self, route: Route) -> None:
        self.route, self.calls = route, []

    def __call__(self, config, shape, fixed):
        self.calls.append(fixed)
        return Route.from_json(self.route.to_json(), source="probe")


@pytest.fixture
def restore_policy():
    from gan_studio.models import small_grid

    before = small_grid._policy
    yield
    small_grid.set_policy(before)


def test_a_short_run_keeps_the_default_without_a_probe(monkeypatch):
    monkeypatch.delenv("GAN_STUDIO_SMALL_GRID", raising=False)
    probe = FakeProbe(Route())
    route = choose_route(tiny_config(steps=50), SHAPE, CPU, 2, probe=probe)
    assert probe.calls == [] and route.source == "default" and "too short" in route.reason
    assert route.channels_last and route.compile == "off"
    assert route.precision == ("bfloat16" if routes_default_bf16() else "float32")


def routes_default_bf16() -> bool:
    from gan_studio.engine.device import cpu_has_native_bf16

    return cpu_has_native_bf16()


def test_a_long_run_probes_once_and_later_runs_read_the_cache(monkeypatch):
    monkeypatch.delenv("GAN_STUDIO_SMALL_GRID", raising=False)
    measured = Route("float32", False, "on", "off", "probe", "measured", {"float32/nchw/sg-on": 0.01}, 8, 1.0)
    probe = FakeProbe(measured)
    first = choose_route(tiny_config(minutes=10), SHAPE, CPU, 2, probe=probe)
    again = choose_route(tiny_config(steps=20), SHAPE, CPU, 2, probe=probe)  # short, but the cache knows
    assert len(probe.calls) == 1 and first.source == "probe" and again.source == "cache"
    for r in (first, again):
        assert (r.precision, r.channels_last, r.small_grid) == ("float32", False, "on")
    assert first.news() and "measured the fastest way" in first.news() and again.news() is None
    other = choose_route(tiny_config(minutes=10), SHAPE, CPU, 1, probe=probe)  # one thread: another machine state
    assert len(probe.calls) == 2 and other.source == "probe"


def test_the_users_settings_win_over_the_measurement(monkeypatch):
    probe = FakeProbe(Route("bfloat16", True, "on", "off", "probe", "measured"))
    monkeypatch.setenv("GAN_STUDIO_SMALL_GRID", "off")
    route = choose_route(tiny_config(minutes=10, amp="off", compile="on"), SHAPE, CPU, 2, probe=probe)
    assert probe.calls == [{"precision": "float32", "small_grid": "off"}]  # the probe only chose what was left
    assert (route.precision, route.small_grid, route.compile) == ("float32", "off", "on")
    assert route.amp_dtype is None


def test_a_resumed_run_computes_as_its_checkpoint_did(monkeypatch):
    monkeypatch.delenv("GAN_STUDIO_SMALL_GRID", raising=False)
    probe = FakeProbe(Route("bfloat16", True, "on", "off", "probe", "measured"))
    first = choose_route(tiny_config(minutes=10), SHAPE, CPU, 2, probe=probe)
    saved = Route.from_json(first.to_json(), precision="float32").to_json()  # what the checkpoint used
    resumed = choose_route(tiny_config(minutes=10), SHAPE, CPU, 2, start_step=100, saved=saved, probe=probe)
    assert resumed.source == "checkpoint" and resumed.precision == "float32"
    elsewhere = Route.from_json(saved, key="another machine").to_json()
    assert choose_route(tiny_config(minutes=10), SHAPE, CPU, 2, saved=elsewhere, probe=probe).source == "cache"


def test_the_default_stays_unless_another_route_is_clearly_faster():
    base, other = Candidate("bfloat16", True, "off"), Candidate("bfloat16", True, "on")
    assert routes._fastest({base: 0.100, other: 0.098}, base) == base  # 2%: noise on a busy machine
    assert routes._fastest({base: 0.100, other: 0.090}, base) == other
    assert routes._fastest({}, base) == base


def test_the_probe_times_real_training_steps_within_its_budget(restore_policy, monkeypatch):
    from gan_studio.models import small_grid

    monkeypatch.delenv("GAN_STUDIO_SMALL_GRID", raising=False)
    small_grid.set_policy("auto")
    state = torch.get_rng_state()
    began = time.monotonic()
    route = routes.probe_route(tiny_config(minutes=10), SHAPE, {})
    assert time.monotonic() - began < routes.PROBE_SECONDS + 3.0  # (a tiny model: about a second)
    assert route.source == "probe" and route.timings and route.probe_batch == 8
    assert {n.split("/")[0] for n in route.timings} == {"float32", "bfloat16"}  # both precisions measured
    assert len(route.timings) >= 4 and min(route.timings.values()) > 0
    assert small_grid._policy == "auto" and torch.equal(torch.get_rng_state(), state)  # left as found


def test_compiling_on_the_cpu_is_tried_only_when_the_run_repays_it():
    route = Route("bfloat16", True, "off", "off", "probe", "", {"x": 0.25}, 64)
    assert compile_decision(tiny_config(minutes=10), route, None, 0) == "off"  # a guessed 120 s > 5% of 10 min
    assert compile_decision(tiny_config(minutes=60), route, None, 0) == "trial"
    assert compile_decision(tiny_config(steps=100_000), route, None, 0) == "trial"  # 100,000 x 0.25 s
    assert compile_decision(tiny_config(minutes=60, compile="off"), route, None, 0) == "off"
    assert compile_decision(tiny_config(steps=10, compile="on"), route, None, 0) == "on"
    slower = {"seconds": 30.0, "eager_step": 0.25, "compiled_step": 0.4}
    faster = {"seconds": 30.0, "eager_step": 0.25, "compiled_step": 0.2}
    assert compile_decision(tiny_config(minutes=600), route, slower, 0) == "off"  # measured: it does not pay here
    assert compile_decision(tiny_config(minutes=60), route, faster, 0) == "on"  # 14,400 steps x 50 ms >> 60 s
    assert compile_decision(tiny_config(minutes=2), route, faster, 0) == "off"  # 480 x 50 ms = 24 s < 60 s


def test_a_compile_trial_keeps_the_faster_networks_and_remembers_what_it_measured():
    from gan_studio.engine.step_guard import TRIAL_STEPS, StepGuard

    for compiled_seconds, kept in ((0.002, True), (0.03, False)):
        guard = StepGuard("trial", ("G", "pair", "D"), route_key=f"trial-{kept}",
                          compiler=lambda m: m + " compiled")

        def step():
            time.sleep(compiled_seconds if guard.compiled else 0.015)
            return torch.zeros(4)

        for i in range(1 + TRIAL_STEPS + 1 + TRIAL_STEPS):  # fits, eager timings, the compile, compiled timings
            guard.before_step(i, 8)
            assert guard.attempt(step, i, 8)[1] is None
        assert guard.mode == ("on" if kept else "off") and guard.compiled is kept
        messages = [n.message for n in guard.pop_notices()]
        assert messages[0].startswith("compiling the networks for batch 8") and "compile trial" in messages[-1]
        entry = routes.read_cache()[f"trial-{kept}"]["compile"]
        assert (entry["compiled_step"] < entry["eager_step"]) is kept


def test_training_takes_the_cached_route_and_its_checkpoint_keeps_it(landscapes32, tmp_path, restore_policy,
                                                                    monkeypatch):
    from test_trainer import small_config

    from gan_studio.engine import Trainer
    from gan_studio.engine.checkpoint import load_checkpoint
    from gan_studio.models import small_grid

    monkeypatch.delenv("GAN_STUDIO_SMALL_GRID", raising=False)
    config = small_config(landscapes32, steps=4)
    threads = configure_threads()
    key = routes.route_key(config, SHAPE, threads)
    routes.remember(Route("float32", False, "off", "off", "probe", "measured", key=key), {})
    trainer = Trainer.new(config, out=tmp_path / "run")
    assert trainer.route.source == "cache" and trainer.amp_dtype is None and not trainer.channels_last
    assert small_grid._policy == "off" and trainer._precision_name() == "float32"
    assert list(trainer.run())[-1].step == 4
    state = load_checkpoint(sorted((tmp_path / "run" / "checkpoints").glob("step_*.pt"))[-1])
    assert state["route"]["precision"] == "float32" and state["route"]["key"] == key


def test_doctor_names_the_cache_folder_and_the_measured_routes(capsys):
    from gan_studio.cli import main
    from gan_studio.data import default_cache_dir
    from gan_studio.engine.doctor import about_text

    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert f"cache folder: {default_cache_dir()}" in out and "measured CPU routes: none yet" in out
    assert "PyTorch" in out and "CPU:" in out
    routes.remember(Route("bfloat16", True, "on", "off", "probe", "measured: it won", key="k"),
                    {"model": "dcgan", "shape": [3, 64, 64], "batch": 64, "machine": {"threads": 2}})
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "dcgan 64x64x3 batch 64, 2 threads: bfloat16, channels-last, small-grid on  (measured: it won" in out
    assert str(default_cache_dir()) in about_text() and "1 measured CPU route" in about_text()


def test_doctor_probe_measures_again_and_training_then_takes_it(capsys, monkeypatch):
    from gan_studio.cli import main

    calls = []

    def probe(config, shape, fixed):
        calls.append((config.model.name, shape, config.train.batch))
        return Route("float32", True, "off", "off", "probe", f"measured #{len(calls)}", {"float32/cl/sg-off": 0.1}, 16)

    monkeypatch.setattr(routes, "probe_route", probe)
    for _ in range(2):
        assert main(["doctor", "--probe", "--model", "dcgan", "--res", "32", "--batch", "16"]) == 0
    assert calls == [("dcgan", (3, 32, 32), 16)] * 2  # measured each time it is asked, not read from the cache
    out = capsys.readouterr().out
    assert "CPU route for dcgan 32 px, batch 16 (probe): float32, channels-last, small-grid off" in out
    assert "measured #2" in out and "float32/cl/sg-off 100 ms" in out

