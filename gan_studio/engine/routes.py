"""How a training step computes on this machine (its route), chosen by measurement on the CPU.

A route is the autocast precision (float32 or bfloat16), the memory format (channels-last or not), the small-grid
policy (``gan_studio.models.small_grid``: the convolutions that meet the 4x4 base grid as one matrix product) and
whether the networks are compiled. Which is fastest depends on the processor, on PyTorch's build and on the
network: bfloat16 is fast only where the CPU computes it natively, the small-grid route pays on some CPUs and
not others. So on the first training of a model and size on a machine, a short probe (at most ``PROBE_SECONDS``)
times a few training steps of each candidate, interleaved so that a busy machine slows them all alike, and the
fastest is used, and kept in ``<cache folder>/routes.json`` under the machine (CPU model, feature flags, thread
count), PyTorch's version, the model, the image shape and the batch: later runs start at once. ``gan-studio
doctor`` shows what is known.

What the user sets still wins: ``--amp`` fixes the precision, ``GAN_STUDIO_SMALL_GRID`` the small-grid policy and
``--compile on|off`` compiling; the probe then chooses among what is left. A run too short to repay the probe
(under ``PROBE_MIN_STEPS`` steps or ``PROBE_MIN_SECONDS`` of training) keeps the unmeasured default (bfloat16 where
the CPU has native bfloat16 instructions, channels-last, small-grid on in bfloat16) unless the cache already knows
better. Compiling cannot be measured in seconds (a first compile takes 30-90 s on a laptop CPU): a CPU run with
``--compile auto`` compiles only when it is long enough that the compile costs at most ``COMPILE_SHARE`` of it, and
then as a trial (``engine/step_guard.py``): the compiled steps are timed against the eager ones and the faster
kept; what the trial measured decides later runs. On CUDA, ``auto`` compiles (as before) and the precision follows
the card (``engine/gpu.py``).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from gan_studio.config import RunConfig
from gan_studio.cpuinfo import cpu_flags
from gan_studio.families import family

PROBE_SECONDS = 10.0  # the probe's whole budget, model building included
PROBE_MIN_STEPS = 600  # shorter runs (by steps) are not worth a probe ...
PROBE_MIN_SECONDS = 300.0  # ... nor runs under 5 minutes
PROBE_STEP_TARGET = 0.5  # seconds a probe step should take; heavier models are probed at a smaller batch
WIN_MARGIN = 0.03  # a candidate must beat the default by 3% to replace it (timing noise on a busy machine)
PROBE_ROUNDS = 6  # timed rounds per stage at most (the budget usually ends it sooner) ...
PRUNE_ABOVE = 1.15  # ... from the third on only candidates within 15% of the best take part
COMPILE_GUESS_SECONDS = 120.0  # a first compile's cost before one was measured here (28-83 s on a 2-core Zen 5)
COMPILE_SHARE = 0.05  # compile (as a trial) only when that cost is at most this share of the run
CACHE_FILE = "routes.json"
CACHE_VERSION = 2  # 2: the small-grid route became the bfloat16 default on every CPU (measured again against it)

PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
AMP_TO_PRECISION = {"off": "float32", "bf16": "bfloat16", "fp16": "float16"}


@dataclass
class Route:
    precision: str = "float32"  # float32 | bfloat16 | float16 (the autocast dtype; float32: no autocast)
    channels_last: bool = False
    small_grid: str = "auto"  # models/small_grid.py's policy for this run: auto | on | off
    compile: str = "off"  # on | off | trial (compile, time against eager, keep the faster: CPU only)
    source: str = "default"  # probe | cache | checkpoint | default | gpu
    reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # the probe's step seconds per candidate
    probe_batch: int | None = None  # the batch the probe timed (smaller than the run's for heavy models)
    probe_seconds: float | None = None  # how long the probe took
    key: str = ""  # the cache key: machine, torch, model, shape, batch and the user's fixed choices

    @property
    def amp_dtype(self) -> torch.dtype | None:
        return PRECISIONS[self.precision]

    def label(self) -> str:
        """e.g. 'bfloat16, channels-last, small-grid on, eager'."""
        parts = [self.precision, "channels-last" if self.channels_last else "NCHW"]
        if self.small_grid != "auto":
            parts.append(f"small-grid {self.small_grid}")
        parts.append({"on": "compiled", "off": "eager", "trial": "compile on trial"}[self.compile])
        return ", ".join(parts)

    def news(self) -> str | None:
        """What to tell the user when the route was just measured (a probe ran in this session)."""
        if self.source != "probe":
            return None
        return (f"measured the fastest way to train this model here in {self.probe_seconds or 0:.1f} s (once for "
                f"this machine, PyTorch and model; gan-studio doctor shows it): {self.label()} ({self.reason})")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any], **changes: Any) -> "Route":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known.update(changes)
        return cls(**known)


# ------------------------------------------------------------------------------------------------ the key
def machine_id(threads: int) -> dict[str, Any]:
    """What makes one CPU route faster than another: the processor, its instructions, the threads, torch."""
    return {"cpu": cpu_name(), "flags": hashlib.sha1(" ".join(sorted(cpu_flags())).encode()).hexdigest()[:12],
            "threads": threads, "torch": torch.__version__}


def cpu_name() -> str:
    """The processor's model name (lscpu's), or what the platform module says."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="ascii", errors="ignore").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def fixed_choices(config: RunConfig) -> dict[str, str]:
    """The parts of the route the user set (they are never measured away)."""
    fixed = {}
    if config.train.amp != "auto":
        fixed["precision"] = AMP_TO_PRECISION[config.train.amp]
    env = os.environ.get("GAN_STUDIO_SMALL_GRID")
    if env in ("auto", "on", "off"):
        fixed["small_grid"] = env
    return fixed


def route_key(config: RunConfig, shape: tuple[int, int, int], threads: int) -> str:
    model = asdict(config.model)
    parts = {"machine": machine_id(threads), "model": model, "shape": list(shape), "batch": config.train.batch,
             "k": config.train.k, "update": config.train.update, "fixed": fixed_choices(config)}
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- the cache
def cache_path() -> Path:
    from gan_studio.data import default_cache_dir

    return default_cache_dir() / CACHE_FILE


def read_cache() -> dict[str, Any]:
    """The known routes, {key: entry}; an absent or damaged file is an empty cache (it is only ever a cache)."""
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or not isinstance(data.get("routes"), dict):
        return {}
    return data["routes"]


def write_cache_entry(key: str, update: Callable[[dict[str, Any]], None]) -> None:
    """Read, change one entry, write back atomically; a cache folder that cannot be written is not an error."""
    from gan_studio.fileio import atomic_write_text

    routes = read_cache()
    entry = routes.setdefault(key, {})
    update(entry)
    with contextlib.suppress(OSError):
        cache_path().parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(cache_path(), json.dumps({"version": CACHE_VERSION, "routes": routes}, indent=1) + "\n")


def remember(route: Route, about: dict[str, Any]) -> None:
    def update(entry: dict[str, Any]) -> None:
        entry["route"] = route.to_json()
        entry["about"] = about
        entry["measured"] = time.strftime("%Y-%m-%d %H:%M")

    write_cache_entry(route.key, update)


def record_compile(key: str, compile_seconds: float, eager_step: float, compiled_step: float) -> None:
    """What a compile trial measured: later runs of this key decide from it (``compile_decision``)."""
    def update(entry: dict[str, Any]) -> None:
        entry["compile"] = {"seconds": round(compile_seconds, 2), "eager_step": eager_step,
                            "compiled_step": compiled_step, "measured": time.strftime("%Y-%m-%d %H:%M")}

    if key:
        write_cache_entry(key, update)


# ------------------------------------------------------------------------------------------- the choice
def default_cpu_route(config: RunConfig) -> Route:
    """The unmeasured default: bfloat16 where the CPU has native bfloat16 instructions, channels-last for the
    convolutional families, the small-grid policy 'auto' (on in bfloat16)."""
    from gan_studio.engine.device import cpu_has_native_bf16

    conv = family(config.model.name).convolutional
    return Route("bfloat16" if cpu_has_native_bf16() else "float32", conv, "auto", "off", "default",
                 "not measured: the defaults for this CPU's instructions")


def planned_seconds(config: RunConfig, start_step: int, step_seconds: float | None) -> float | None:
    """How long this session will train: its minutes, or its steps times a step's time (None: unknown)."""
    t = config.train
    if t.minutes is not None:
        return t.minutes * 60.0
    if t.steps is not None and step_seconds:
        return max(t.steps - start_step, 0) * step_seconds
    return None


def worth_probing(config: RunConfig, start_step: int) -> bool:
    t = config.train
    if t.minutes is not None:
        return t.minutes * 60.0 >= PROBE_MIN_SECONDS
    return t.steps is None or t.steps - start_step >= PROBE_MIN_STEPS


def choose_route(config: RunConfig, shape: tuple[int, int, int], device: torch.device, threads: int,
                 start_step: int = 0, saved: dict[str, Any] | None = None,
                 probe: Callable[..., Route] | None = None, refresh: bool = False) -> Route:
    """The route of this session: on a GPU by the card; on the CPU the one a checkpoint of this machine used (a
    resumed run computes as it did), else the cached measurement, else a probe when the run is long enough to
    repay one, else the default. The user's fixed choices win throughout. Under torchrun rank 0 chooses (and
    probes) for every rank. ``refresh``: measure again, whatever the cache holds (``gan-studio doctor --probe``)."""
    from gan_studio.engine import distributed as dist

    args = (config, shape, device, threads, start_step, saved, probe, refresh)
    if not dist.is_distributed():
        return _choose(*args)
    route = dist.broadcast_object(_choose(*args) if dist.is_main() else None)
    return _choose(*args) if device.type != "cpu" else route  # GPUs: each rank's own card


def _choose(config: RunConfig, shape: tuple[int, int, int], device: torch.device, threads: int,
            start_step: int, saved: dict[str, Any] | None, probe: Callable[..., Route] | None,
            refresh: bool) -> Route:
    t = config.train
    conv = family(config.model.name).convolutional
    if device.type != "cpu":
        from gan_studio.engine.device import autocast_dtype

        dtype = autocast_dtype(device, t.amp)
        name = next(k for k, v in PRECISIONS.items() if v == dtype)
        compiled = t.compile == "on" or (t.compile == "auto" and device.type == "cuda")
        why = "the card's compute capability" if device.type == "cuda" and t.amp == "auto" else "the settings"
        return Route(name, conv and device.type != "mps", "auto", "on" if compiled else "off", "gpu",
                     f"precision from {why}")
    key = route_key(config, shape, threads)
    fixed = fixed_choices(config)
    cached = read_cache().get(key, {})
    if saved and saved.get("key") == key and not refresh:
        route = Route.from_json(saved, source="checkpoint", reason="as the run's checkpoint computed")
    elif cached.get("route") and not refresh:
        route = Route.from_json(cached["route"], source="cache")
    elif refresh or worth_probing(config, start_step):
        route = (probe or probe_route)(config, shape, fixed)
        route.key = key
        remember(route, {"machine": machine_id(threads), "model": config.model.name, "shape": list(shape),
                         "batch": t.batch})
    else:
        route = default_cpu_route(config)
        route.reason = "run too short to repay a probe: " + route.reason
    route = Route.from_json(route.to_json(), **fixed, key=key)
    if not conv:
        route.channels_last, route.small_grid = False, fixed.get("small_grid", "auto")
    route.compile = compile_decision(config, route, cached.get("compile"), start_step)
    return route


def compile_decision(config: RunConfig, route: Route, measured: dict[str, Any] | None, start_step: int) -> str:
    """on | off | trial for a CPU run: --compile on/off as given; auto compiles when the run repays it, by what a
    trial measured on this machine, else (as a trial) when a guessed first compile is a small share of the run."""
    t = config.train
    if t.compile != "auto":
        return t.compile
    eager_step = min(route.timings.values()) if route.timings else None
    if route.probe_batch and eager_step:
        eager_step *= t.batch / route.probe_batch
    if measured:
        run = planned_seconds(config, start_step, measured["eager_step"])
        gain = measured["eager_step"] - measured["compiled_step"]
        steps = run / measured["eager_step"] if run else 0.0
        return "on" if gain > 0 and gain * steps >= 2 * measured["seconds"] else "off"
    run = planned_seconds(config, start_step, eager_step)
    return "trial" if run is not None and COMPILE_GUESS_SECONDS <= COMPILE_SHARE * run else "off"


def apply_route(route: Route, device: torch.device) -> None:
    """Set the process-wide part of a route for this run: the small-grid policy; on CUDA cuDNN's autotuning and
    TF32 (``gpu.configure_backends``); on the CPU an allocator that keeps the memory a step frees for the next
    (``device.keep_freed_memory``)."""
    from gan_studio.engine.device import keep_freed_memory
    from gan_studio.engine.gpu import configure_backends
    from gan_studio.models import small_grid

    small_grid.set_policy(route.small_grid)
    configure_backends(device)
    if device.type == "cpu":
        keep_freed_memory()


# ---------------------------------------------------------------------------------------------- the probe
@dataclass(frozen=True)
class Candidate:
    precision: str
    channels_last: bool
    small_grid: str

    @property
    def name(self) -> str:
        return f"{self.precision}/{'cl' if self.channels_last else 'nchw'}/sg-{self.small_grid}"


def candidate_grid(config: RunConfig, fixed: dict[str, str], default: Route) -> tuple[list[str], list[bool], list[str]]:
    conv = family(config.model.name).convolutional
    precisions = [fixed["precision"]] if "precision" in fixed else \
        [default.precision] + [p for p in ("float32", "bfloat16") if p != default.precision]
    layouts = [True, False] if conv else [False]
    default_sg = "on" if default.small_grid == "auto" and default.precision == "bfloat16" else "off"
    grids = [fixed["small_grid"]] if "small_grid" in fixed else \
        ([default_sg, "on" if default_sg == "off" else "off"] if conv else ["off"])
    return precisions, layouts, grids


def probe_route(config: RunConfig, shape: tuple[int, int, int], fixed: dict[str, str],
                budget: float = PROBE_SECONDS, clock: Callable[[], float] = time.perf_counter) -> Route:
    """Time training steps of each candidate route and return the fastest (see the module docstring).

    In two stages, each round-robin (one step of each candidate per round; the best step of each counts, and
    after two rounds the clearly slower drop out): the precision, with the default layout; then channels-last and
    the small-grid route at that precision. At most ``budget`` seconds: whatever was measured by then decides."""
    from gan_studio.engine.device import keep_freed_memory, release_freed_memory

    began = clock()
    keep_freed_memory()  # the allocator the training will run with (no page faults of freed memory per step)
    default = default_cpu_route(config)
    precisions, layouts, grids = candidate_grid(config, fixed, default)
    base = Candidate(precisions[0], layouts[0], grids[0])
    bench = _ProbeBench(config, shape)
    timings: dict[Candidate, float] = {}
    try:
        batch = bench.pick_batch(base, config.train.batch, budget * 0.15)
        deadline = began + budget

        last = [0.0]  # the latest step's seconds: no step starts that would end past the deadline

        def run(c: Candidate) -> float | None:
            if clock() + last[0] > deadline:
                return None
            start = clock()
            bench.step(c, batch)
            last[0] = clock() - start
            return last[0]

        def stage(cands: list[Candidate], keep: Candidate) -> None:
            for c in [c for c in cands if c not in timings]:  # the first step of each: oneDNN makes its kernels
                run(c)
            for round_ in range(PROBE_ROUNDS):  # one timed step of each candidate per round, the best counting
                for c in cands:
                    seconds = run(c)
                    if seconds is None:
                        return
                    timings[c] = min(timings.get(c, float("inf")), seconds)
                if round_ >= 1:  # clearly slower ones drop out: more rounds for the close contest
                    best = min(timings[c] for c in cands)
                    cands = [c for c in cands if c == keep or timings[c] <= best * PRUNE_ABOVE]

        stage([Candidate(p, base.channels_last, base.small_grid) for p in precisions], base)
        best_precision = _fastest(timings, base).precision
        stage([Candidate(best_precision, cl, sg) for cl in layouts for sg in grids], base)
    finally:
        bench.close()
        gc.collect()
        release_freed_memory()
    baseline = Candidate(default.precision if "precision" not in fixed else fixed["precision"],
                         layouts[0], grids[0])
    winner = _fastest(timings, baseline)
    took = clock() - began
    named = {c.name: round(s, 5) for c, s in sorted(timings.items(), key=lambda kv: kv[1])}
    if baseline in timings and winner != baseline:
        gain = timings[baseline] / timings[winner] - 1
        why = f"{winner.name} {gain:.0%} faster than the default {baseline.name}"
    else:
        why = f"{winner.name} fastest" + (" (the default)" if winner == baseline else "")
    return Route(winner.precision, winner.channels_last, winner.small_grid, "off", "probe",
                 f"measured: {why}, at batch {batch} in {took:.1f} s", named, batch, round(took, 2))


def _fastest(timings: dict[Candidate, float], baseline: Candidate) -> Candidate:
    """The fastest candidate, but the baseline unless another beats it by WIN_MARGIN."""
    if not timings:
        return baseline
    best = min(timings, key=lambda c: timings[c])
    if baseline in timings and timings[best] * (1 + WIN_MARGIN) > timings[baseline]:
        return baseline
    return best


class _ProbeBench:
    """The training step the trainer runs (k D steps on real and fake batches, one G step through D, EMA),
    on random images of the run's shape, for one candidate route at a time. A set of networks (and optimizers)
    per memory format, built on first use, so no candidate's timing includes converting them."""

    def __init__(self, config: RunConfig, shape: tuple[int, int, int]) -> None:
        from gan_studio.models import small_grid

        self.config, self.shape = config, shape
        self.sets: dict[bool, Any] = {}
        self.policy_before = small_grid._policy

    def _models(self, channels_last: bool) -> Any:
        if channels_last not in self.sets:
            from gan_studio.engine.discriminator_pair import DiscriminatorPair
            from gan_studio.engine.ema import make_ema
            from gan_studio.models import build_models

            with _forked_rng():
                g, d = build_models(self.config.model, *self.shape)
            fmt = torch.channels_last if channels_last else torch.contiguous_format
            g.to(memory_format=fmt)
            d.to(memory_format=fmt)
            # plain SGD: Adam's update costs every candidate the same few milliseconds, and its state would double
            # the probe's memory for nothing
            self.sets[channels_last] = (g, d, DiscriminatorPair(d), make_ema(g), _sgd(g), _sgd(d))
        return self.sets[channels_last]

    def step(self, c: Candidate, batch: int) -> None:
        from gan_studio.engine.ema import update_ema
        from gan_studio.engine.losses import LOSSES
        from gan_studio.models import small_grid

        g, d, pair, ema, opt_g, opt_d = self._models(c.channels_last)
        small_grid.set_policy(c.small_grid)
        d_loss, g_loss = LOSSES[family(self.config.model.name).loss]
        dtype = PRECISIONS[c.precision]
        cast = (lambda: torch.autocast("cpu", dtype=dtype)) if dtype else contextlib.nullcontext
        fmt = torch.channels_last if c.channels_last else torch.contiguous_format
        with _forked_rng():
            for _ in range(self.config.train.k):
                real = torch.randint(0, 256, (batch, *self.shape), dtype=torch.uint8).float().mul_(1 / 127.5).sub_(1)
                real = real.contiguous(memory_format=fmt)
                z = torch.randn(batch, self.config.model.z_dim)
                with cast():
                    fake = g(z)
                    real_logits, fake_logits, recon = pair(real, fake.detach())
                    loss = d_loss(real_logits.float(), fake_logits.float())
                    if recon is not None:
                        loss = loss + recon
                opt_d.zero_grad(set_to_none=True)
                loss.backward()
                opt_d.step()
            d.requires_grad_(False)
            with cast():
                loss_g = g_loss(d(fake).float())
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            d.requires_grad_(True)
            update_ema(ema, g, 0.999, 0)

    def pick_batch(self, c: Candidate, batch: int, seconds: float) -> int:
        """The run's batch, or a smaller power-of-two fraction of it where a step would take longer than
        PROBE_STEP_TARGET: estimated from a step at a small batch (after one that creates the kernels), then
        checked at the batch chosen (which warms it up too) and doubled while a step stays under half the target."""
        small = min(batch, 8)
        per_image = self._time(c, small) / small
        b = batch
        while b > small and b * per_image > PROBE_STEP_TARGET:
            b //= 2
        while b < batch and 2 * self._time(c, b) <= PROBE_STEP_TARGET:
            b *= 2
        return max(b, small)

    def _time(self, c: Candidate, batch: int) -> float:
        """One step's seconds, after an untimed one (a new batch size makes oneDNN create new kernels)."""
        self.step(c, batch)
        start = time.perf_counter()
        self.step(c, batch)
        return time.perf_counter() - start

    def close(self) -> None:
        from gan_studio.models import small_grid

        small_grid.set_policy(self.policy_before)
        self.sets.clear()


def _sgd(module: torch.nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(module.parameters(), lr=1e-4, foreach=True)


@contextlib.contextmanager
def _forked_rng() -> Iterator[None]:
    """The probe draws from its own seeded stream and leaves the process's random state as it found it."""
    state = torch.get_rng_state()
    torch.manual_seed(12345)
    try:
        yield
    finally:
        torch.set_rng_state(state)
