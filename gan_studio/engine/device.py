"""Choosing where and how to compute: CUDA, Apple MPS or the CPU, and the autocast precision for each."""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import time
from pathlib import Path

import torch

from gan_studio.cpuinfo import cpu_flags
from gan_studio.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA, then MPS, then the CPU; an explicit device that is not there is a clear error."""
    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("CUDA was asked for but no CUDA GPU is available; use --device cpu or auto")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"{name} asked for, but only {torch.cuda.device_count()} CUDA GPU(s) are present")
    elif dev.type == "mps" and not _mps_available():
        raise ConfigError("Apple MPS was asked for but is not available here; use --device cpu or auto")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"unsupported device {name!r}; use auto, cpu, cuda, cuda:N or mps")
    return dev


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def device_name(device: torch.device) -> str:
    """A name for people: the GPU's model, or the CPU with its core count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} threads)"


def cpu_has_native_bf16() -> bool:
    """True where the CPU computes bfloat16 natively (AVX512-BF16 or AMX); elsewhere bf16 is emulated and slow."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def autocast_dtype(device: torch.device, amp: str = "auto") -> torch.dtype | None:
    """The autocast dtype for this device, or None for full float32. On the CPU this is the unmeasured default:
    training takes the precision of its measured route (``engine/routes.py``)."""
    if amp == "off":
        return None
    if amp == "bf16":
        return torch.bfloat16
    if amp == "fp16":
        return torch.float16
    if device.type == "cuda":  # by compute capability: is_bf16_supported() would count slow emulation (T4, V100)
        from gan_studio.engine.gpu import cuda_autocast_dtype

        return cuda_autocast_dtype(device)
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16  # measured here: about 2x for DCGAN 64 on a Zen 5 core
    return None  # MPS, and CPUs without native bf16


def _cpu_ticks() -> tuple[int, int, int, int] | None:
    """(busy ticks of all CPUs, all ticks, this process's ticks, CPUs) from /proc; None where there is no /proc."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
        own = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = [int(x) for x in lines[0].split()[1:9]]
    total, idle = sum(ticks), ticks[3] + ticks[4]  # idle + iowait
    cpus = sum(1 for line in lines if line[:3] == "cpu" and line[3:4].isdigit())
    return total - idle, total, int(own[11]) + int(own[12]), cpus  # utime + stime of every thread of ours


def cores_busy_elsewhere(seconds: float = 0.3) -> float | None:
    """How many cores other programs keep busy right now, sampled over a short window (Linux; None elsewhere)."""
    first = _cpu_ticks()
    if first is None:
        return None
    time.sleep(seconds)
    second = _cpu_ticks()
    if second is None or second[1] <= first[1]:
        return None
    busy, total, own = (b - a for a, b in zip(first[:3], second[:3]))
    return max(0.0, (busy - own) / total * max(1, second[3]))


def thread_count(cores: int, busy_elsewhere: float | None) -> int:
    """Intra-op threads for CPU training: a thread per core that nothing else is using.

    OpenMP threads spin-wait for each other at every parallel region, so one thread preempted by another program
    holds up the whole step: measured on this 2-core machine with 6 other busy processes, DCGAN 64 took 0.8 s a
    step on 1 thread and 2.1-2.8 s on 2. On a quiet machine every core is worth having: 248 images/s on 2
    threads against 134 on 1, with the app's window still never stalling past 39 ms (benchmarks/gui_stall.py)."""
    cores = max(1, cores)
    taken = 0 if busy_elsewhere is None else int(busy_elsewhere + 0.5)
    return max(1, min(cores, cores - taken))


_recent_sample: tuple[float, float | None] | None = None  # (monotonic time, cores busy elsewhere)


def configure_threads(sample: bool = True) -> int:
    """Use every core nothing else is using for intra-op parallelism (PyTorch may default to fewer in
    containers), unless the user or a launcher (torchrun sets it per process) chose a count with OMP_NUM_THREADS.
    ``sample=False`` (training on a GPU) skips looking at other programs. A look taken in the last 10 s is reused,
    so trainers built one after another (a test suite, Start after Stop) do not each wait 0.3 s.
    The setting belongs to the calling thread: call it on the thread that trains. Returns the count in use."""
    global _recent_sample
    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    busy = None
    if sample and cores > 1:
        now = time.monotonic()
        if _recent_sample is None or now - _recent_sample[0] > 10.0:
            _recent_sample = (now, cores_busy_elsewhere())
        busy = _recent_sample[1]
    n = thread_count(cores, busy)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


_allocator_tuned = False


def keep_freed_memory() -> bool:
    """For CPU training with glibc's allocator: keep memory that a step frees for the next step instead of handing
    it back to the system at once. By default glibc maps large blocks afresh and trims the top of its heap whenever
    enough of it is free, so every step's activations are faulted in again as zeroed pages: measured on DCGAN 64 on
    a 2-core Zen 5, 6,500-9,600 page faults a step; kept, 120-460, and the median step of 24 went from 281-328 ms
    to 281-287 ms (four alternating pairs of processes: as fast at best, never slower). Memory beyond 1 GiB of free
    heap still goes back to the system. Once per process; False where the allocator is not glibc's."""
    global _allocator_tuned
    if _allocator_tuned:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3  # malloc.h
        # Setting any of these turns glibc's self-adjusting mmap threshold off, so set that one too: blocks up to
        # 256 MiB come from the heap (and are reused), not from fresh mappings that are unmapped when freed.
        _allocator_tuned = bool(libc.mallopt(m_mmap_threshold, 256 << 20) and libc.mallopt(m_trim_threshold, 1 << 30)
                                and libc.mallopt(m_top_pad, 64 << 20))
    except (OSError, AttributeError):
        return False
    return _allocator_tuned


def release_freed_memory() -> None:
    """Hand the heap's free memory back to the system now (glibc): after a probe's networks are gone, so that the
    training's peak memory is its own, not the probe's plus its own."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass
