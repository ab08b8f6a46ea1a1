"""Ingest benchmark: the first scan-and-cache of a folder against plain Pillow, and the cached reopening.

    python benchmarks/ingest.py                 # 1,000 generated 1024x768 JPEGs, and monet300 when present
    python benchmarks/ingest.py --repeat 3      # best of three (a shared machine is noisy)
    python benchmarks/ingest.py --n 200 --no-write

For each folder it times
  1. plain Pillow: for each file, serially, Image.open + convert('RGB') + resize((res, res)) into a numpy
     array: what a user's own script would do;
  2. first caching: gan_studio.data.load_dataset(folder, res) with a fresh, empty cache folder (listing,
     decoding with JPEG draft mode and a small thread pool, writing the .npy cache);
  3. cache hit: the same load_dataset call again (one np.load, no decoding);
and reports the ratio (1) / (2). Targets: ratio >= 3 for the generated JPEGs; cache hit < 0.5 s.

The generated JPEGs (quality 90, with structure and grain: shapes, gradients, noise) are written once to
$GAN_STUDIO_BENCH_DATA or <tmp>/gan_studio_bench/ and reused. Every file is read once before the timings so
that both sides see a warm page cache. Results go to benchmarks/results/ingest.json with the machine's details.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from gan_studio.data import load_dataset  # noqa: E402
from gan_studio.data.decode import is_image_name  # noqa: E402

MONET = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "monet300"
RESULTS = HERE / "results" / "ingest.json"
TARGET_SPEEDUP = 3.0
TARGET_CACHE_HIT_S = 0.5


# --- data --------------------------------------------------------------------------------------------------


def make_jpeg(path: Path, seed: int, size: tuple[int, int], quality: int) -> None:
    """A photo-like picture: a colour gradient, random shapes, a blur and some grain."""
    rng = np.random.default_rng(seed)
    w, h = size
    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = np.linspace(0.0, 1.0, w)[None, :, None] * 0.6 + np.linspace(0.0, 1.0, h)[:, None, None] * 0.4
    base = (c0 * (1 - t) + c1 * t).astype(np.uint8)
    im = Image.fromarray(base)
    draw = ImageDraw.Draw(im)
    for _ in range(24):
        x0, y0 = int(rng.integers(-w // 4, w)), int(rng.integers(-h // 4, h))
        x1, y1 = x0 + int(rng.integers(20, w // 2)), y0 + int(rng.integers(20, h // 2))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    im = im.filter(ImageFilter.GaussianBlur(1.5))
    grain = rng.normal(0.0, 6.0, (h, w, 1))
    pixels = np.clip(np.asarray(im, dtype=np.float32) + grain, 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, "JPEG", quality=quality)


def ensure_jpegs(n: int, size: tuple[int, int], quality: int, root: Path) -> Path:
    """The benchmark folder, generated once (a marker file says it is complete) and reused."""
    folder = root / f"jpeg{n}_{size[0]}x{size[1]}_q{quality}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"generating {n} JPEGs of {size[0]}x{size[1]} in {folder} (once) ...", flush=True)
    t = time.perf_counter()
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(lambda i: make_jpeg(folder / f"img{i:04d}.jpg", i, size, quality), range(n)))
    marker.write_text(json.dumps({"n": n, "size": size, "quality": quality}), encoding="utf-8")
    print(f"  done in {time.perf_counter() - t:.1f} s", flush=True)
    return folder


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_image_name(p.name))


# --- the timings -------------------------------------------------------------------------------------------


def plain_pillow(files: list[Path], res: int) -> np.ndarray:
    out = np.empty((len(files), res, res, 3), np.uint8)
    for i, path in enumerate(files):
        with Image.open(path) as im:
            out[i] = np.asarray(im.convert("RGB").resize((res, res)))
    return out


def measure(name: str, folder: Path, res: int, repeat: int) -> dict:
    files = image_files(folder)
    total_bytes = sum(p.stat().st_size for p in files)
    for p in files:  # warm the page cache for both contenders
        p.read_bytes()
    with Image.open(files[0]) as im:
        first_size = im.size
    print(f"{name}: {len(files)} files, {total_bytes / 1e6:.0f} MB, e.g. {first_size[0]}x{first_size[1]}", flush=True)

    pillow_runs, first_runs, hit_runs, pillow_cpu, first_cpu = [], [], [], [], []
    n_images = 0
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        plain_pillow(files, res)
        pillow_runs.append(time.perf_counter() - t)
        pillow_cpu.append(time.process_time() - c)
        with tempfile.TemporaryDirectory(prefix="gan_studio_bench_cache_") as cache:
            t, c = time.perf_counter(), time.process_time()
            first = load_dataset(folder, res=res, cache_dir=cache)
            first_runs.append(time.perf_counter() - t)
            first_cpu.append(time.process_time() - c)
            assert not first.from_cache
            t = time.perf_counter()
            hit = load_dataset(folder, res=res, cache_dir=cache)
            hit_runs.append(time.perf_counter() - t)
            assert hit.from_cache and hit.images.shape == first.images.shape
            n_images = len(first)
        print(f"  plain Pillow {pillow_runs[-1]:.2f} s (CPU {pillow_cpu[-1]:.2f} s), first caching "
              f"{first_runs[-1]:.2f} s (CPU {first_cpu[-1]:.2f} s), cache hit {hit_runs[-1]:.3f} s", flush=True)
    pillow_s, first_s, hit_s = min(pillow_runs), min(first_runs), min(hit_runs)
    return {
        "dataset": name,
        "folder": str(folder),
        "files": len(files),
        "used": n_images,
        "megabytes": round(total_bytes / 1e6, 1),
        "example_size": list(first_size),
        "res": res,
        "repeat": repeat,
        "plain_pillow_s": round(pillow_s, 3),
        "first_cache_s": round(first_s, 3),
        "speedup": round(pillow_s / first_s, 2),
        "cache_hit_s": round(hit_s, 4),
        # CPU seconds of the process (all threads), best run of each: the work done, whatever else the machine runs
        "plain_pillow_cpu_s": round(min(pillow_cpu), 3),
        "first_cache_cpu_s": round(min(first_cpu), 3),
        "cpu_ratio": round(min(pillow_cpu) / min(first_cpu), 2),
        "runs": {"plain_pillow_s": [round(x, 3) for x in pillow_runs],
                 "first_cache_s": [round(x, 3) for x in first_runs],
                 "plain_pillow_cpu_s": [round(x, 3) for x in pillow_cpu],
                 "first_cache_cpu_s": [round(x, 3) for x in first_cpu],
                 "cache_hit_s": [round(x, 4) for x in hit_runs]},
    }


def machine() -> dict:
    def version(pkg: str) -> str:
        try:
            return importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            return "absent"

    return {
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "torch": version("torch"),
        "pillow": version("pillow"),
        "numpy": version("numpy"),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1000, help="generated JPEGs (default 1000)")
    p.add_argument("--size", default="1024x768", help="their size, WxH (default 1024x768)")
    p.add_argument("--quality", type=int, default=90)
    p.add_argument("--res", type=int, default=64, help="decoded size (default 64)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each timing; the best is reported")
    p.add_argument("--data", type=Path, default=Path(os.environ.get("GAN_STUDIO_BENCH_DATA", "") or
                                                     Path(tempfile.gettempdir()) / "gan_studio_bench"),
                   help="where the generated JPEGs are kept between runs")
    p.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.relative_to(HERE.parent)}")
    p.add_argument("--note", default="", help="a remark stored with the results (e.g. 'CPU shared')")
    args = p.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))

    info = machine()
    print(f"{info['cpu_count']} CPUs (load {info['load_average']}), Python {info['python']}, "
          f"Pillow {info['pillow']}, torch {info['torch']}", flush=True)
    results = [measure(f"jpeg{args.n}", ensure_jpegs(args.n, size, args.quality, args.data), args.res, args.repeat)]
    if MONET.is_dir():
        results.append(measure("monet300", MONET, args.res, args.repeat))
    else:
        print(f"monet300: skipped ({MONET} is absent)")
    for r in results:
        r["speedup_target"] = TARGET_SPEEDUP if r["dataset"].startswith("jpeg") else None
        r["meets_speedup_target"] = r["speedup"] >= TARGET_SPEEDUP if r["speedup_target"] else None
        r["meets_cache_hit_target"] = r["cache_hit_s"] < TARGET_CACHE_HIT_S

    print()
    print(f"{'data set':<12} {'files':>6} {'plain Pillow':>13} {'first caching':>14} {'speed-up':>9} "
          f"{'CPU ratio':>10} {'cache hit':>10}")
    for r in results:
        target = f" (target >= {TARGET_SPEEDUP:g}x)" if r["speedup_target"] else ""
        print(f"{r['dataset']:<12} {r['files']:>6} {r['plain_pillow_s']:>12.2f}s {r['first_cache_s']:>13.2f}s "
              f"{r['speedup']:>8.2f}x {r['cpu_ratio']:>9.2f}x {r['cache_hit_s']:>9.3f}s{target}")
    print(f"at {args.res}x{args.res}; wall-clock times, best of {args.repeat} run(s); CPU ratio: CPU seconds of plain "
          f"Pillow / of first caching; cache hit target < {TARGET_CACHE_HIT_S} s")
    ok = all(r["meets_cache_hit_target"] and r["meets_speedup_target"] is not False for r in results)
    print("all targets met" if ok else "A TARGET WAS MISSED")

    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "benchmark": "ingest",
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": shlex.join(["python", "benchmarks/ingest.py", *(argv if argv is not None else sys.argv[1:])]),
            "note": args.note,
            "machine": info,
            "targets": {"speedup_first_caching_vs_plain_pillow": TARGET_SPEEDUP, "cache_hit_s": TARGET_CACHE_HIT_S},
            "results": results,
        }
        RESULTS.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
