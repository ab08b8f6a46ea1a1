"""The CPU's feature flags, for choices the engine and the models make per machine (no torch, no imports of ours)."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=None)
def cpu_flags() -> frozenset[str]:
    """The flags line of /proc/cpuinfo (empty where there is none, as on macOS and Windows)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return frozenset()
    return frozenset(flags.partition(":")[2].split())
