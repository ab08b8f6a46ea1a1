"""Several processes (torchrun) training one run with DistributedDataParallel.

    torchrun --nproc_per_node 8 -m gan_studio train FOLDER --model dcgan --res 128 --minutes 60

Each rank holds its own shard of the decoded images and draws its own noise; gradients are averaged by DDP.
Batch norm is per rank (each GPU normalises its own batch, running statistics are broadcast from rank 0),
as in most GAN code, so ``--batch`` is the per-GPU batch. Rank 0 alone writes the run folder. Decisions
that end training (time up, a stop request) are agreed across ranks every ``log_every`` steps; each step's
outcome (done, out of memory, a failing compiler, another error) is agreed after every step, before any rank
changes anything (``agree``; what it covers and what it cannot: ``engine/step_guard.py``). Every collective has a
timeout (``GAN_STUDIO_DIST_TIMEOUT``), so a rank left waiting fails with a message instead of hanging.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from typing import Any

import torch
import torch.distributed as dist

DEFAULT_TIMEOUT = 300.0
_agreement: Any = None  # the host-side (gloo) group of the step agreements


def env_world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    return rank() == 0


def timeout_seconds() -> float:
    """How long a rank waits in a collective for the others before it fails with a message (instead of hanging):
    ``GAN_STUDIO_DIST_TIMEOUT`` seconds, default 300. It must exceed the longest chore rank 0 does alone between
    two collectives (a quality check, a checkpoint write)."""
    try:
        return max(1.0, float(os.environ.get("GAN_STUDIO_DIST_TIMEOUT", DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


def init_from_env(device_name: str = "auto") -> str:
    """Start the process group when launched by torchrun; return the device this rank should use.

    Any CUDA choice (auto on a GPU machine, cuda, cuda:N) trains each rank on its own GPU, cuda:LOCAL_RANK, over
    NCCL; the CPU (or auto without a GPU) over gloo. Both with a timeout (``timeout_seconds``), and with a second,
    host-side (gloo) group in which the ranks agree on each step's outcome (``agree``)."""
    if env_world_size() <= 1 or (dist.is_available() and dist.is_initialized()):
        return device_name
    name = (device_name or "auto").lower()
    use_cuda = torch.cuda.is_available() and (name == "auto" or name.startswith("cuda"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        if local_rank >= torch.cuda.device_count():
            from gan_studio.errors import ConfigError

            raise ConfigError(f"torchrun started local rank {local_rank}, but this machine has only "
                              f"{torch.cuda.device_count()} CUDA GPU(s): use --nproc_per_node "
                              f"{torch.cuda.device_count()} or fewer")
        torch.cuda.set_device(local_rank)
        device_name = f"cuda:{local_rank}"
    elif name == "auto":
        device_name = "cpu"
    timeout = datetime.timedelta(seconds=timeout_seconds())
    if use_cuda:  # bound to its GPU from the start (NCCL then needs no guess of which device a rank uses)
        dist.init_process_group(backend="nccl", timeout=timeout, device_id=torch.device("cuda", local_rank))
    else:
        dist.init_process_group(backend="gloo", timeout=timeout)
    agreement_group()
    return device_name


def shutdown() -> None:
    global _agreement
    _agreement = None
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def mean_across_ranks(t: torch.Tensor) -> torch.Tensor:
    if is_distributed():
        t = t.clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        t /= world_size()
    return t


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank if ``flag`` is true on any rank."""
    if not is_distributed():
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def agreement_group() -> Any:
    """A gloo group beside the training one (which is NCCL on GPUs): the step agreements exchange a few integers
    between the hosts and never queue behind the GPU's work. Created once, by every rank (a collective call)."""
    global _agreement
    if _agreement is None and is_distributed():
        _agreement = dist.new_group(backend="gloo", timeout=datetime.timedelta(seconds=timeout_seconds()))
    return _agreement


def agree(code: int) -> list[int]:
    """Every rank's ``code`` (its step's outcome), on every rank: the same list everywhere, so every rank takes
    the same decision. A rank whose peers do not arrive within ``timeout_seconds`` gets a RuntimeError."""
    if not is_distributed():
        return [code]
    group = agreement_group()
    mine = torch.tensor([code], dtype=torch.int64)
    every = [torch.zeros(1, dtype=torch.int64) for _ in range(world_size())]
    dist.all_gather(every, mine, group=group)
    return [int(t.item()) for t in every]


# A note in torchrun's rendezvous store (a key-value server of its own, not a collective), so that a rank that
# waited in vain can say what happened on the rank that failed.
_NOTE = "gan_studio/failed/{}"


def _store() -> Any:
    from torch.distributed import distributed_c10d

    return distributed_c10d._get_default_store()


def announce_failure(message: str | None) -> None:
    """Leave (or, with None, take back) this rank's note of how its step failed."""
    if not is_distributed():
        return
    with contextlib.suppress(Exception):  # a note is a courtesy: never a second failure
        if message is None:
            _store().delete_key(_NOTE.format(rank()))
        else:
            _store().set(_NOTE.format(rank()), message)


def failure_notes() -> dict[int, str]:
    """The notes the ranks left: {rank: how its step failed}."""
    notes: dict[int, str] = {}
    if not is_distributed():
        return notes
    with contextlib.suppress(Exception):
        store = _store()
        for r in range(world_size()):
            key = _NOTE.format(r)
            if store.check([key]):
                notes[r] = store.get(key).decode("utf-8", "replace")
    return notes
