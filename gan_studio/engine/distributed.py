"""Several processes (torchrun) training one run with DistributedDataParallel.

    torchrun --nproc_per_node 8 -m gan_studio train FOLDER --model dcgan --res 128 --minutes 60

Each rank holds its own shard of the decoded images and draws its own noise; gradients are averaged by DDP.
Batch norm is per rank (each GPU normalises its own batch, running statistics are broadcast from rank 0),
as in most GAN code, so ``--batch`` is the per-GPU batch. Rank 0 alone writes the run folder. Decisions
that end training (time up, a stop request) are agreed across ranks every ``log_every`` steps.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist


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


def init_from_env(device_name: str = "auto") -> str:
    """Start the process group when launched by torchrun; return the device this rank should use."""
    if env_world_size() <= 1 or (dist.is_available() and dist.is_initialized()):
        return device_name
    use_cuda = torch.cuda.is_available() and device_name in ("auto", "cuda")
    backend = "nccl" if use_cuda else "gloo"
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
        device_name = f"cuda:{local_rank}"
    elif device_name == "auto":
        device_name = "cpu"
    dist.init_process_group(backend=backend)
    return device_name


def shutdown() -> None:
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
