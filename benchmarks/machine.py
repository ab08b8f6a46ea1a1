"""The processor a benchmark ran on, named the same way in every results file: the engine's model name, with the
family and model numbers (an "AMD EPYC" is a Zen 4 or a Zen 5) and the CPU count."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_description() -> str:
    from gan_studio.engine.routes import cpu_name

    fields: dict[str, str] = {}
    if Path("/proc/cpuinfo").is_file():
        for line in Path("/proc/cpuinfo").read_text(errors="ignore").splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    return (f"{cpu_name()} (family {fields.get('cpu family', '?')} model {fields.get('model', '?')}, "
            f"{os.cpu_count()} CPUs)")
