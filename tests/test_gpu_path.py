"""The GPU path, checked on a CPU: torch.cuda's answers are mocked, torchrun runs two gloo processes.

Issue 18, items 1-8: the precision by compute capability; the random state of the training GPU alone; cuDNN
autotuning and TF32; the torchrun backend and device of each rank; failures agreed by every rank; compiling as a
phase of its own, off the clock, once per batch; EMA buffers in one call and D's G-step pass through the compiled
path; a data set too large for the GPU kept in host memory. (benchmarks/gpu_check.sh runs them on a real card.)
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from test_trainer import small_config

from gan_studio.data.sampler import DeviceImages, data_fits_on_device
from gan_studio.engine import Finished, Notice, Trainer, gpu
from gan_studio.engine import distributed as dist
from gan_studio.engine.device import autocast_dtype, resolve_device
from gan_studio.engine.ema import make_ema, update_ema
from gan_studio.engine.routes import choose_route
from gan_studio.engine.step_guard import StepGuard
from gan_studio.errors import ConfigError, GanStudioError

ROOT = Path(__file__).resolve().parents[1]
CUDA0 = torch.device("cuda", 0)


@pytest.fixture
def fake_gpus(monkeypatch):
    """A machine with ``n`` CUDA GPUs of compute capability ``cap`` (torch.cuda's answers only)."""
    def install(n: int = 1, cap: tuple[int, int] = (8, 0)) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n)
        monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: cap)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)  # emulation
    return install


# ------------------------------------------------------------------------------------ 1. device and precision
def test_auto_picks_the_gpu_and_an_absent_gpu_index_is_a_clear_error(fake_gpus):
    fake_gpus(n=2)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(ConfigError, match="only 2 CUDA GPU"):
        resolve_device("cuda:2")


@pytest.mark.parametrize("cap, expected", [((7, 0), torch.float16), ((7, 5), torch.float16),
                                           ((8, 0), torch.bfloat16), ((8, 6), torch.bfloat16),
                                           ((9, 0), torch.bfloat16)])
def test_precision_follows_the_compute_capability_not_emulated_bf16(fake_gpus, cap, expected):
    fake_gpus(cap=cap)  # V100 7.0, T4 7.5: is_bf16_supported() says True (emulated); they get float16
    assert autocast_dtype(CUDA0, "auto") == expected
    assert autocast_dtype(CUDA0, "bf16") == torch.bfloat16 and autocast_dtype(CUDA0, "off") is None  # settings win
    route = choose_route(small_config("."), (3, 32, 32), CUDA0, threads=1)
    assert route.amp_dtype == expected and route.compile == "on" and route.channels_last


def test_float16_turns_the_trainers_grad_scaler_on():
    source = inspect.getsource(Trainer.__init__)  # the scalers follow the chosen dtype, whatever chose it
    assert "fp16 = self.amp_dtype == torch.float16" in source and "enabled=fp16" in source


# ----------------------------------------------------------------------------------------- 2. random state
def test_the_training_gpus_random_state_alone_is_saved(fake_gpus, monkeypatch):
    fake_gpus(n=4)
    monkeypatch.setattr(torch.cuda, "get_rng_state", lambda device="cuda": torch.full((8,), torch.device(device).index,
                                                                                     dtype=torch.uint8))
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: pytest.fail("every GPU's state saved"))
    saved = gpu.device_rng_state(torch.device("cuda", 2))
    assert saved["cuda_index"] == 2 and torch.equal(saved["cuda"], torch.full((8,), 2, dtype=torch.uint8))
    assert gpu.device_rng_state(torch.device("cpu")) == {}
    assert "rng_state_all" not in inspect.getsource(Trainer)


@pytest.mark.parametrize("saved, gpus_now, device, expected", [(4, 1, 0, 0), (4, 4, 2, 2), (2, 4, 3, 0),
                                                               (1, 2, 1, 0)])
def test_resuming_on_fewer_gpus_restores_the_right_state_without_index_error(fake_gpus, monkeypatch, saved, gpus_now,
                                                                             device, expected):
    """An old checkpoint holds a list: one state per GPU visible when it was written."""
    fake_gpus(n=gpus_now)
    restored = []
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda state, device="cuda": restored.append((state, device)))
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", lambda states: pytest.fail("every GPU's state restored"))
    old = {"cuda": [torch.full((8,), i, dtype=torch.uint8) for i in range(saved)]}
    assert gpu.restore_device_rng(old, torch.device("cuda", device))
    (state, where), = restored
    assert int(state[0]) == expected and where == torch.device("cuda", device)
    new = {"cuda": torch.full((8,), 7, dtype=torch.uint8), "cuda_index": 5}  # saved on GPU 5 of a larger host
    assert gpu.restore_device_rng(new, torch.device("cuda", 0)) and int(restored[-1][0][0]) == 7
    assert not gpu.restore_device_rng({"cuda": []}, CUDA0) and not gpu.restore_device_rng(old, torch.device("cpu"))


# ------------------------------------------------------------------------------------- 3. cuDNN and TF32
def test_cudnn_autotuning_and_tf32_are_set_for_cuda_only(monkeypatch, landscapes32, tmp_path):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    monkeypatch.setattr(torch.backends.cuda.matmul, "fp32_precision", "ieee")
    monkeypatch.setattr(torch.backends.cudnn.conv, "fp32_precision", "ieee")
    gpu.configure_backends(torch.device("cpu"))
    assert torch.backends.cudnn.benchmark is False and torch.backends.cuda.matmul.fp32_precision == "ieee"
    gpu.configure_backends(CUDA0)
    assert torch.backends.cudnn.benchmark is True
    assert torch.backends.cuda.matmul.fp32_precision == "tf32" and torch.backends.cudnn.conv.fp32_precision == "tf32"

    seen = []
    monkeypatch.setattr(gpu, "configure_backends", seen.append)
    Trainer.new(small_config(landscapes32, steps=1), out=tmp_path / "run")
    assert seen == [torch.device("cpu")]  # the trainer asks for its device (through routes.apply_route)


# ------------------------------------------------------------------------------------ 4. torchrun on GPUs
@pytest.fixture
def fake_torchrun(monkeypatch, fake_gpus):
    calls: dict = {}
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.distributed, "init_process_group", lambda backend=None, **kw: calls.update(
        backend=backend, **kw))
    monkeypatch.setattr(torch.cuda, "set_device", lambda i: calls.update(set_device=i))
    # raising=False: the fixture sets up on code without the agreement group too, so the test fails on behaviour
    monkeypatch.setattr(dist, "agreement_group", lambda: calls.update(agreement=True), raising=False)
    return calls


@pytest.mark.parametrize("asked", ["cuda:0", "cuda", "auto", "cuda:1", "CUDA:0"])
def test_torchrun_with_any_cuda_device_gives_each_rank_its_own_gpu_over_nccl(fake_torchrun, fake_gpus, asked):
    fake_gpus(n=2)
    assert dist.init_from_env(asked) == "cuda:1"  # LOCAL_RANK 1, whatever index was asked
    assert fake_torchrun["backend"] == "nccl" and fake_torchrun["set_device"] == 1
    assert fake_torchrun["device_id"] == torch.device("cuda", 1)
    assert fake_torchrun["timeout"].total_seconds() == dist.timeout_seconds() and fake_torchrun["agreement"]


def test_torchrun_on_the_cpu_uses_gloo_and_too_few_gpus_is_a_clear_error(fake_torchrun, fake_gpus, monkeypatch):
    fake_gpus(n=2)
    assert dist.init_from_env("cpu") == "cpu" and fake_torchrun["backend"] == "gloo"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert dist.init_from_env("auto") == "cpu" and fake_torchrun["backend"] == "gloo"
    fake_gpus(n=1)
    with pytest.raises(ConfigError, match="only 1 CUDA GPU"):
        dist.init_from_env("cuda")


# -------------------------------------------------------------------------- 5. failures agreed by every rank
def oom() -> torch.Tensor:
    raise torch.OutOfMemoryError("CUDA out of memory (simulated)")


def test_the_guard_acts_only_on_what_every_rank_reported(monkeypatch):
    guard = StepGuard("off", (None, None, None), world=2)
    monkeypatch.setattr(dist, "agree", lambda code: [code, code])  # every rank the same outcome
    assert guard.attempt(oom, 3, 64)[1] == "out of memory"
    assert guard.attempt(lambda: torch.zeros(4), 3, 64)[1] is None
    monkeypatch.setattr(dist, "agree", lambda code: [code, 0])  # rank 1 finished the step
    with pytest.raises(GanStudioError, match=r"out of memory on rank 0; done on rank 1.*--batch 32"):
        guard.attempt(oom, 3, 64)
    monkeypatch.setattr(dist, "agree", lambda code: [code, 2])  # rank 1 ran out of memory alone
    with pytest.raises(GanStudioError, match="done on rank 0; out of memory on rank 1"):
        guard.attempt(lambda: torch.zeros(4), 3, 64)

    def gone(code):
        raise RuntimeError("Timed out waiting 300000ms")
    monkeypatch.setattr(dist, "agree", gone)  # the others wait in a collective of the failed step
    with pytest.raises(GanStudioError, match="out of memory at step 3 .* could not agree on the step within"):
        guard.attempt(oom, 3, 64)


TORCHRUN_HELPER = '''
import os, sys, torch
from gan_studio import cli
from gan_studio.engine import trainer as tmod

scenario, rank = os.environ["SCENARIO"], int(os.environ["RANK"])
real_step, calls = tmod.Trainer.train_step, {"n": 0}

def step(self):
    calls["n"] += 1
    if calls["n"] == 3 and (scenario == "oom-all" or (scenario == "oom-one-before" and rank == 1)):
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
    out = real_step(self)
    if calls["n"] == 3 and scenario == "oom-one-after" and rank == 1:  # after every collective of the step
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
    return out

tmod.Trainer.train_step = step
if scenario == "compile-all":
    class Broken(torch.nn.Module):
        def forward(self, *args):
            raise RuntimeError("inductor: no working C++ compiler (simulated)")
    torch.compile = lambda module, **kw: Broken()
real_run = tmod.Trainer.run

def run(self):
    yield from real_run(self)
    digest = sum(float(p.double().sum()) for p in self.G.parameters())
    print(f"DIGEST rank {rank} {digest!r} batch {self.config.train.batch} compiled {self.compiled}", flush=True)

tmod.Trainer.run = run
sys.exit(cli.main(sys.argv[1:]))
'''


def torchrun(tmp_path: Path, folder: Path, scenario: str, steps: int = 6, timeout: float = 240, **env: str):
    helper = tmp_path / "helper.py"
    helper.write_text(TORCHRUN_HELPER)
    runner = shutil.which("torchrun")
    cmd = [runner] if runner else [sys.executable, "-m", "torch.distributed.run"]
    cmd += ["--standalone", "--nproc_per_node", "2", str(helper), "train", str(folder), "--res", "32", "--width", "8",
            "--batch", "4", "--steps", str(steps), "--device", "cpu", "--out", str(tmp_path / scenario)]
    if scenario == "compile-all":
        cmd += ["--compile", "on"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SCENARIO": scenario, "PYTHONPATH": str(ROOT), **env}
    began = time.monotonic()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
    return result, time.monotonic() - began


def digests(output: str) -> dict[int, str]:
    return {int(line.split()[2]): " ".join(line.split()[3:]) for line in output.splitlines()
            if line.startswith("DIGEST")}


@pytest.mark.slow
@pytest.mark.parametrize("scenario, after", [("oom-all", "batch 2 compiled False"),
                                             ("compile-all", "batch 4 compiled False")])
def test_every_rank_takes_the_same_remedy_together(landscapes32, tmp_path, scenario, after):
    result, _ = torchrun(tmp_path, landscapes32, scenario)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert "finished at step 6" in result.stderr
    ranks = digests(result.stdout)
    assert set(ranks) == {0, 1} and ranks[0] == ranks[1] and ranks[0].endswith(after)  # in step: same weights


@pytest.mark.slow
def test_one_rank_out_of_memory_stops_every_rank_with_one_message(landscapes32, tmp_path):
    result, _ = torchrun(tmp_path, landscapes32, "oom-one-after")
    assert result.returncode != 0
    assert "the ranks ended step 2 differently (done on rank 0; out of memory on rank 1)" in result.stderr
    assert "resume with --batch 2" in result.stderr  # one line, said by rank 0 (the CLI speaks for rank 0)


@pytest.mark.slow
def test_a_rank_failing_before_a_collective_fails_clearly_within_the_timeout_instead_of_hanging(landscapes32,
                                                                                                tmp_path):
    result, took = torchrun(tmp_path, landscapes32, "oom-one-before", timeout=240, GAN_STUDIO_DIST_TIMEOUT="10")
    assert result.returncode != 0 and took < 200
    # rank 0 (the one the command line speaks for) was the one left waiting; it names what happened on rank 1
    assert "rank 1: out of memory at step 2 (batch 4); the ranks could not agree on the step within 10 s" in \
        result.stderr and "resume with --batch 2" in result.stderr


# ---------------------------------------------------------------------- 6. compiling: a phase, off the clock
class SlowCompiler:
    """A stand-in for torch.compile: each new input shape 'compiles' (sleeps), then the module runs."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.compiles, self.modules, self.calls = seconds, [], [], {}
        self.options: list[dict] = []  # the keywords of each torch.compile call

    def __call__(self, module, **kw):
        self.options.append(kw)
        compiler = self
        self.modules.append(module)

        class Compiled(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner, self.shapes = module, set()

            def forward(self, *args):
                shape = tuple(args[0].shape)
                compiler.calls[type(module).__name__] = compiler.calls.get(type(module).__name__, 0) + 1
                if shape not in self.shapes:
                    self.shapes.add(shape)
                    compiler.compiles.append((type(module).__name__, shape))
                    time.sleep(compiler.seconds)
                return self.inner(*args)

        return Compiled()


@pytest.mark.slow
def test_compile_time_is_its_own_phase_and_not_counted_in_the_minutes(landscapes32, tmp_path, monkeypatch):
    compiler = SlowCompiler(seconds=1.0)  # each network's first call: 1 s of "compiling" against a 0.9 s budget
    monkeypatch.setattr(torch, "compile", compiler)
    trainer = Trainer.new(small_config(landscapes32, steps=None, minutes=0.015, compile="on", checkpoint_every=None,
                                       sample_every=10_000, quality_every=0), out=tmp_path / "run")
    events = list(trainer.run())
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert any(m.startswith("compiling the networks for batch 8") for m in notices), notices
    assert any(re.match(r"compiled the networks in \d+ s \(not counted", m) for m in notices), notices
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.reason == "time"
    assert finished.step > 2  # training went on after the compile: its seconds did not use up the 0.9 s
    assert finished.seconds < 0.9 + 0.5  # the session's training time leaves the compile out
    assert trainer.compiled and all(kw.get("dynamic") is False for kw in compiler.options)


def test_a_batch_that_does_not_fit_is_found_eagerly_and_compiled_once(landscapes32, tmp_path, monkeypatch):
    compiler = SlowCompiler(seconds=0.0)
    monkeypatch.setattr(torch, "compile", compiler)
    trainer = Trainer.new(small_config(landscapes32, steps=4, compile="on"), out=tmp_path / "run")
    real_forward = trainer.G.forward

    def forward(z, y=None):  # a training batch of 8 does not fit in "memory"
        if z.shape[0] >= 8:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_forward(z, y)

    monkeypatch.setattr(trainer.G, "forward", forward)
    events = list(trainer.run())
    assert isinstance(events[-1], Finished) and events[-1].step == 4 and trainer.config.train.batch == 4
    assert {shape[0] for _, shape in compiler.compiles} == {4}  # nothing compiled for the batch that did not fit
    assert len(compiler.compiles) == 3  # G, D pair and D (for G's step): once each
    assert all(kw.get("dynamic") is False for kw in compiler.options)  # static shapes: no dynamic-shape kernels


# ------------------------------------------------------------------- 7. launch overhead: EMA and D for G
def test_ema_copies_the_buffers_in_one_foreach_call(monkeypatch):
    from gan_studio.config import ModelConfig
    from gan_studio.models import build_models

    g, _ = build_models(ModelConfig(name="fastgan", width=8), 3, 32, 32)
    ema = make_ema(g)
    g.train()
    g(torch.randn(4, g.z_dim))  # batch statistics move
    calls = []
    real = torch._foreach_copy_
    monkeypatch.setattr(torch, "_foreach_copy_", lambda a, b, **kw: calls.append(len(a)) or real(a, b, **kw))
    update_ema(ema, g, 0.999, 10)
    assert calls == [len(list(g.buffers()))]
    assert all(torch.equal(a, b) for a, b in zip(ema.buffers(), g.buffers()))


def test_the_generator_step_runs_d_through_the_compiled_path(landscapes32, tmp_path, monkeypatch):
    compiler = SlowCompiler(seconds=0.0)
    monkeypatch.setattr(torch, "compile", compiler)
    trainer = Trainer.new(small_config(landscapes32, steps=5, compile="on"), out=tmp_path / "run")
    assert list(trainer.run())[-1].step == 5
    assert [type(m).__name__ for m in compiler.modules] == ["DCGANGenerator", "DiscriminatorPair",
                                                            "DCGANDiscriminator"]
    assert compiler.calls["DCGANDiscriminator"] == 4  # G's step through compiled D in every compiled step (1-4)
    assert trainer.d_for_g is not trainer.D


# ------------------------------------------------------------------------- 8. a data set too large for the GPU
def test_a_data_set_too_large_for_the_gpu_stays_in_host_memory(monkeypatch):
    images = np.zeros((40, 3, 64, 64), dtype=np.uint8)  # 491,520 bytes
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (1_000_000, 8_000_000))
    assert not data_fits_on_device(images.nbytes, CUDA0)  # more than a safe share of 1 MB free
    data = DeviceImages(images, (64, 64), CUDA0)  # would fail on this CPU-only machine if it went to the GPU
    assert not data.on_device and data.images.device.type == "cpu"
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (10_000_000, 80_000_000))
    assert data_fits_on_device(images.nbytes, CUDA0) and data_fits_on_device(10 ** 12, torch.device("cpu"))


def test_the_trainers_data_stays_on_the_host_when_the_gpu_has_no_room(monkeypatch):
    """The same through DeviceImages alone, as the trainer builds it (the API the data path always had)."""
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (1_000_000, 8_000_000))
    data = DeviceImages(np.zeros((40, 3, 64, 64), dtype=np.uint8), (64, 64), CUDA0)
    assert data.images.device.type == "cpu"


def test_a_trainer_resumes_a_four_gpu_checkpoint_on_a_one_gpu_host(fake_gpus, monkeypatch, landscapes32, tmp_path):
    """Item 2 through the trainer's own state loading: torch's set_rng_state indexes this host's GPUs, so
    restoring all four saved states (set_rng_state_all) raised IndexError on a host with one."""
    trainer = Trainer.new(small_config(landscapes32, steps=1), out=tmp_path / "run")
    state = trainer.state_dict()
    fake_gpus(n=1)
    restored = []

    def set_rng_state(new_state, device="cuda"):  # what torch does: default_generators[index] of this host
        index = torch.device("cuda", device) if isinstance(device, int) else torch.device(device)
        index = index.index if index.index is not None else 0
        if index >= torch.cuda.device_count():
            raise IndexError("tuple index out of range")
        restored.append(index)

    monkeypatch.setattr(torch.cuda, "set_rng_state", set_rng_state)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", lambda states: [set_rng_state(s, i)
                                                                          for i, s in enumerate(states)])
    state["rng"] = {**state["rng"], "device_type": "cuda", "world_size": 1,
                    "cuda": [torch.full((8,), i, dtype=torch.uint8) for i in range(4)]}
    noise = state["fixed_noise"]

    class StaysOnTheCpu:  # fixed_noise.to("cuda:0") on this CPU-only machine
        def to(self, device):
            return noise

    state["fixed_noise"] = StaysOnTheCpu()
    trainer.device = CUDA0
    trainer._load_state(state)
    assert restored == [0]  # the training GPU's state alone, on the GPU the run now trains on


def test_host_and_device_placement_draw_the_same_batches():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 3, 40, 36), dtype=np.uint8)
    cpu = torch.device("cpu")
    batches = []
    for on_device in (True, False):
        data = DeviceImages(images, (32, 32), cpu, flip=True, channels_last=True, on_device=on_device)
        gen = torch.Generator().manual_seed(3)
        batches.append([data.sample(8, gen) for _ in range(3)])
    for a, b in zip(*batches):
        assert torch.equal(a, b) and b.is_contiguous(memory_format=torch.channels_last)
