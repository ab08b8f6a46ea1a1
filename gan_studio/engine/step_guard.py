"""A training step's failures turned into decisions every rank shares, and torch.compile's first steps as a phase
of their own.

**Failures.** Out of memory: the batch is halved. A compiler that fails (no C++ compiler, an op inductor cannot
lower): training goes on eagerly. Anything else: training stops with the error. Under torchrun these are decided
by every rank together: after each step every rank reports its outcome (``distributed.agree``: done, compiler,
out of memory, another error) over a host-side gloo group and acts only on the list every rank received, so no
rank changes its batch or its networks alone. When every rank failed alike (the usual case: the same program on
the same batch fails at the same allocation, or the same compile fails), all take the same remedy. When they
differ (a GPU shared with another program ran out of memory alone), no remedy makes the ranks' states equal
again, so every rank stops with one message naming which ranks failed and how; the last checkpoint is intact.

What cannot be covered: a rank that fails *before* a collective of its step (DDP's gradient all-reduce, its
buffer broadcast) leaves the others inside that collective. With gloo (CPU) they wait in it; with NCCL their host
threads reach the agreement but their GPUs wait in the all-reduce, and an NCCL collective cannot be cancelled.
Neither can be rescued in place. The failed rank waits at the agreement for the process group's timeout
(``GAN_STUDIO_DIST_TIMEOUT``, default 300 s) and then stops, saying that it failed (and how) and that the other
ranks did not arrive; the waiting ranks fail at their own timeout (gloo raises; NCCL's watchdog ends the process).
So the user sees a clear failure within the timeout instead of a hang, the checkpoint is intact, and ``--resume``
with a smaller ``--batch`` continues.

**Compiling.** The first step at each batch size runs eagerly (finding out that a batch does not fit costs a step,
not a compile), then the networks are compiled once, at that batch; the compiling step is a phase of its own: a
Notice before and after, and the trainer keeps its time off the session's clock (``--minutes`` counts training).
A halving compiles once more, at the new batch (``dynamic=False``: no slower dynamic-shape kernels, no third
compile). ``trial`` (a long CPU run, engine/routes.py) times eager steps against compiled ones and keeps the
faster; engine/routes.py records what it measured for later runs.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import torch

from gan_studio.engine import distributed as dist
from gan_studio.engine.events import Notice
from gan_studio.errors import GanStudioError

OUTCOMES = ("done", "compiler", "out of memory", "error")  # the codes ranks exchange, by index
TRIAL_STEPS = 3  # timed steps of each kind in a compile trial (after a first, untimed one)


def describe(outcomes: list[str]) -> str:
    """'out of memory on rank 1; done on ranks 0, 2, 3'."""
    by: dict[str, list[int]] = {}
    for r, outcome in enumerate(outcomes):
        by.setdefault(outcome, []).append(r)
    return "; ".join(f"{k} on rank{'s' if len(v) > 1 else ''} {', '.join(map(str, v))}" for k, v in by.items())


class StepGuard:
    """Runs the trainer's step, decides (with every rank) what a failure changes, and says which networks the next
    step uses: ``modules`` is (G for training, D pair for D's step, D for G's step), eager or compiled."""

    def __init__(self, mode: str, eager: tuple[Any, ...], world: int = 1, route_key: str = "",
                 compiler: Callable[[Any], Any] | None = None) -> None:
        self.mode = "off" if mode == "trial" and world > 1 else mode  # a trial's timing is one rank's: no agreement
        self.eager = eager
        self.world = world
        self.route_key = route_key
        self._compiler = compiler or (lambda m: torch.compile(m, dynamic=False))
        self._compiled: tuple[Any, ...] | None = None
        self.modules = eager
        self.compiled = False  # the compiled networks are the ones in use
        self.fits: int | None = None  # the batch whose (eager) step last succeeded
        self.compiled_for: int | None = None  # the batch the networks were compiled for
        self.compiling = False  # the coming (or last) step compiles
        self.compile_seconds = 0.0
        self.eager_times: list[float] = []
        self.compiled_times: list[float] = []
        self.notices: list[Notice] = []

    # --------------------------------------------------------------------------------------------- compiling
    @property
    def wanted(self) -> bool:
        return self.mode in ("on", "trial")

    def before_step(self, step: int, batch: int) -> bool:
        """Choose the networks for the coming step; True when it compiles (a Notice says so first)."""
        ready = self.fits == batch and (self.mode != "trial" or len(self.eager_times) >= TRIAL_STEPS)
        self.compiling = self.wanted and ready and self.compiled_for != batch
        if self.compiling:
            if self._compiled is None:
                self._compiled = tuple(self._compiler(m) for m in self.eager)
            self.notices.append(Notice(step, f"compiling the networks for batch {batch} (first steps; not counted "
                                             f"in the training time)..."))
            self.compiled_for = batch
        use = self.wanted and self.compiled_for == batch and self._compiled is not None
        self.modules, self.compiled = (self._compiled, True) if use else (self.eager, False)  # type: ignore[assignment]
        return self.compiling

    def fall_back(self) -> tuple[Any, ...]:
        """The compiler failed (on every rank): train eagerly from now on."""
        self.mode, self.compiled, self.modules = "off", False, self.eager
        return self.modules

    # ------------------------------------------------------------------------------------------------ a step
    def attempt(self, step_fn: Callable[[], torch.Tensor], step: int, batch: int
                ) -> tuple[torch.Tensor | None, str | None, BaseException | None]:
        """Run one step: (its statistics, None, None) when every rank finished it, else (None, the failure every
        rank acts on: 'out of memory' or 'compiler', this rank's error). Raises when the step cannot go on."""
        began = time.perf_counter()
        try:
            stats, error = step_fn(), None
        except Exception as e:  # noqa: BLE001 - sorted below: out of memory, a failing compiler, or raised again
            stats, error = None, e
        seconds = time.perf_counter() - began
        kind = self._agreed(error, step, batch)
        if kind is None:
            self._observe(step, batch, seconds)
        return stats, kind, error

    def _local(self, error: BaseException | None) -> str:
        if error is None:
            return "done"
        if isinstance(error, torch.OutOfMemoryError):
            return "out of memory"
        return "compiler" if self.compiled else "error"

    def _agreed(self, error: BaseException | None, step: int, batch: int) -> str | None:
        mine = self._local(error)
        if self.world == 1:
            outcomes = [mine]
        else:
            what = f"{mine} at step {step} (batch {batch})"
            if error is not None:  # a note the others can read even if they never reach the agreement
                dist.announce_failure(what + ("" if mine != "error" else f": {type(error).__name__}"))
            try:
                outcomes = [OUTCOMES[c] for c in dist.agree(OUTCOMES.index(mine))]
            except RuntimeError as e:  # the others did not come: they wait in a collective of the failed step
                raise GanStudioError(self._stranded(what, error, step, batch)) from error or e
            if error is not None:
                dist.announce_failure(None)
        if all(o == "done" for o in outcomes):
            return None
        if mine == "error" and error is not None:
            raise error
        if all(o == mine for o in outcomes) and mine in ("out of memory", "compiler"):
            return mine
        raise GanStudioError(
            f"the ranks ended step {step} differently ({describe(outcomes)}), so they cannot go on in step with "
            f"each other. Training stops; the last checkpoint is intact"
            + (f": resume with --batch {max(batch // 2, 1)}" if "out of memory" in outcomes else "")) from error

    def _stranded(self, what: str, error: BaseException | None, step: int, batch: int) -> str:
        """The message when the ranks could not meet after a step: who failed and how (from the notes ranks
        leave in torchrun's store), and why nothing could be saved in place."""
        notes = {r: n for r, n in dist.failure_notes().items() if r != dist.rank()}
        mine = f"rank {dist.rank()}: {what}" + (f" ({type(error).__name__}: {str(error).splitlines()[0][:160]})"
                                                 if error is not None and not notes else "")
        if notes:
            mine = "; ".join(f"rank {r}: {n}" for r, n in sorted(notes.items()))
        oom = "out of memory" in mine
        return (f"{mine}; the ranks could not agree on the step within {dist.timeout_seconds():.0f} s: the others "
                f"were left waiting inside a collective of the failed step, which cannot be cancelled. Training "
                f"stops; the last checkpoint is intact"
                + (f": resume with --batch {max(batch // 2, 1)}" if oom else ""))

    def _observe(self, step: int, batch: int, seconds: float) -> None:
        """After a step every rank finished: a compile's end, and a trial's timings and verdict."""
        if self.compiling:
            self.compiling, self.compile_seconds = False, seconds
            self.notices.append(Notice(step, f"compiled the networks in {seconds:.0f} s (not counted in the "
                                             f"training time)"))
            return
        if self.fits != batch:  # the first step at this batch: it fits; the networks' kernels were made in it
            self.fits, self.eager_times, self.compiled_times = batch, [], []
            return
        if self.mode != "trial":
            return
        (self.compiled_times if self.compiled else self.eager_times).append(seconds)
        if len(self.compiled_times) >= TRIAL_STEPS:
            self._verdict(step)

    def _verdict(self, step: int) -> None:
        from gan_studio.engine.routes import record_compile

        eager, compiled = min(self.eager_times), min(self.compiled_times)
        record_compile(self.route_key, self.compile_seconds, eager, compiled)
        keep = compiled < eager
        self.mode = "on" if keep else "off"
        if not keep:
            self.modules, self.compiled = self.eager, False
        self.notices.append(Notice(step, f"compile trial: a step takes {compiled * 1000:.0f} ms compiled, "
                                         f"{eager * 1000:.0f} ms eagerly: "
                                         + ("training on compiled" if keep else "training on eagerly")))

    def pop_notices(self) -> list[Notice]:
        notices, self.notices = self.notices, []
        return notices
