"""What this machine trains on, in words: ``gan-studio doctor`` prints it, the app's About box shows its summary.

The device ``auto`` picks and its precision (by the GPU's compute capability; on the CPU by measurement), the CPU
and its bfloat16 instructions, the thread count, PyTorch, the cache folder and every CPU route measured there
(engine/routes.py).
"""

from __future__ import annotations

import platform
from typing import Any

import torch

from gan_studio.cpuinfo import cpu_flags


def cuda_lines() -> list[str]:
    """One line per CUDA GPU: name, memory, capability and the precision training uses on it."""
    from gan_studio.engine.gpu import cuda_autocast_dtype

    lines = []
    for i in range(torch.cuda.device_count()):
        device = torch.device("cuda", i)
        major, minor = torch.cuda.get_device_capability(device)
        memory = torch.cuda.get_device_properties(device).total_memory / 2 ** 30
        precision = "bfloat16 (native)" if cuda_autocast_dtype(device) == torch.bfloat16 else \
            "float16 with loss scaling (bfloat16 would be emulated)"
        lines.append(f"  cuda:{i}  {torch.cuda.get_device_name(device)}, {memory:.0f} GiB, compute capability "
                     f"{major}.{minor}: {precision}")
    return lines


def route_lines(routes: dict[str, Any]) -> list[str]:
    lines = []
    for key, entry in sorted(routes.items(), key=lambda kv: kv[1].get("measured", "")):
        about, route = entry.get("about", {}), entry.get("route") or {}
        if not route:
            continue
        shape = about.get("shape", ["?", "?", "?"])
        from gan_studio.engine.routes import Route

        label = Route.from_json(route).label().replace(", eager", "")
        lines.append(f"  {about.get('model', '?')} {shape[2]}x{shape[1]}x{shape[0]} batch {about.get('batch', '?')}"
                     f", {about.get('machine', {}).get('threads', '?')} threads: {label}  ({route.get('reason', '')}; "
                     f"{entry.get('measured', '')})")
        if entry.get("compile"):
            c = entry["compile"]
            lines.append(f"    compile trial: {c['seconds']:.0f} s to compile, a step "
                         f"{c['compiled_step'] * 1000:.0f} ms compiled against {c['eager_step'] * 1000:.0f} ms eager")
    return lines


def report(probe: dict[str, Any] | None = None) -> list[str]:
    """The doctor's report; with ``probe`` ({'model', 'res', 'batch'}) the CPU route of that model is measured
    now, and the cache updated."""
    from gan_studio import __version__
    from gan_studio.engine.device import configure_threads, cpu_has_native_bf16, device_name, resolve_device
    from gan_studio.engine.routes import cache_path, cpu_name, read_cache

    device = resolve_device("auto")
    threads = configure_threads()
    flags = cpu_flags()
    bf16 = "native (" + ", ".join(sorted(flags & {"avx512_bf16", "amx_bf16"})) + ")" if cpu_has_native_bf16() \
        else "emulated (no AVX512-BF16 or AMX)"
    lines = [f"GAN Studio {__version__}, Python {platform.python_version()}, PyTorch {torch.__version__}"
             + (f" (CUDA {torch.version.cuda})" if torch.version.cuda else ""),
             f"training device (auto): {device_name(device)}",
             f"CPU: {cpu_name()}; bfloat16 {bf16}; {threads} training thread(s) now"]
    if torch.cuda.is_available():
        lines += ["CUDA GPUs:"] + cuda_lines()
    lines.append(f"cache folder: {cache_path().parent}  (decoded images; measured CPU routes in {cache_path().name})")
    if probe is not None:
        lines += probe_lines(probe, threads)
    routes = route_lines(read_cache())
    lines += (["measured CPU routes (the fastest way to train each model here):"] + routes) if routes else \
        ["measured CPU routes: none yet (the first training of a model and size measures one, in under 10 s; "
         "gan-studio doctor --probe does it now)"]
    return lines


def probe_lines(probe: dict[str, Any], threads: int) -> list[str]:
    from gan_studio.config import RunConfig
    from gan_studio.engine.routes import choose_route

    config = RunConfig()
    config.model.name, config.train.batch, config.train.minutes = probe["model"], probe["batch"], 60.0
    config.data.res = probe["res"]
    channels = 1 if probe["model"] == "mlp" else 3
    route = choose_route(config, (channels, probe["res"], probe["res"]), torch.device("cpu"), threads, refresh=True)
    timings = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in route.timings.items())
    return [f"CPU route for {probe['model']} {probe['res']} px, batch {probe['batch']} ({route.source}): "
            f"{route.label().replace(', eager', '').replace(', compile on trial', '')}",
            f"  {route.reason}" + (f"; step times: {timings}" if timings else "")]


def about_text() -> str:
    """Two short lines for the app's About box: where the cache is and what the CPU route cache holds."""
    from gan_studio.engine.routes import cache_path, cpu_name, read_cache

    routes = [e for e in read_cache().values() if e.get("route")]
    return (f"Cache folder: {cache_path().parent} (decoded images, and {len(routes)} measured CPU route(s) in "
            f"{cache_path().name}).\nCPU: {cpu_name()}. Run gan-studio doctor for the details.")
