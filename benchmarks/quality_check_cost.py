"""What the quality checks cost a training run: one SWD reading's time, and the share of a run's wall time spent in
its checks.

    python benchmarks/quality_check_cost.py                       # monet300 (or the demo landscapes)
    python benchmarks/quality_check_cost.py --runs RUN [RUN ...]  # also: the check pauses of finished runs

A check reads SWD once (the check's own noise), and a reading near the best is read three more times on fresh
noise, three more again when it is adopted (gan_studio/engine/quality.py): up to seven readings, each 300
samples against the training images. Most of a reading is numpy's sort of the projections, which runs on one
core; the engine now shares the rows out over as many threads as torch uses (`metrics.sort_rows`). This measures
a reading with one sorting thread (the old way) against the default, alternating, in the same process, at 64 and
128 px, and reports the median of each and their ratio.

`--runs`: for each finished run folder, the pauses in its stats.jsonl at the quality checks (the wall-clock gap
between the log line at a check and the next one, less the run's median gap between log lines) and their share
of the session's wall time: what the checks took from the training minutes the user asked for.
Writes benchmarks/results/quality_check_cost.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MONET = ROOT.parent / "shared" / "datasets" / "monet300"


def images(data: str, res: int, n: int) -> np.ndarray:
    """``n`` training images at ``res`` as the trainer's check sees them (uint8 N, C, H, W)."""
    if data == "demo":
        from gan_studio.data.demo import make_landscape

        return np.stack([np.asarray(make_landscape(i, (res, res)).convert("RGB")).transpose(2, 0, 1)
                         for i in range(n)])
    from gan_studio.data.cache import load_dataset
    from gan_studio.engine.quality import center_crop

    loaded = load_dataset(data, res=res)
    return center_crop(loaded.images, loaded.target_height, loaded.target_width)[:n]


def reading_times(real: np.ndarray, repeats: int) -> dict[str, float]:
    """Median seconds of one SWD reading (the samples stand in: the real set flipped) with one sorting thread
    and with the default, run alternately so that both see the same machine."""
    from gan_studio.engine.metrics import sort_threads, swd

    fake = real[..., ::-1].copy()
    threads = sort_threads()
    times: dict[int, list[float]] = {1: [], threads: []}
    swd(fake, real, seed=0)  # warm-up: thread pool, allocator
    values = {}
    for r in range(repeats):
        for t in (1, threads) if r % 2 == 0 else (threads, 1):
            start = time.perf_counter()
            values[t] = swd(fake, real, seed=r, threads=t).levels
            times[t].append(time.perf_counter() - start)
    assert values[1] == values[threads], "the reading must not depend on the number of sorting threads"
    return {"one_thread_s": statistics.median(times[1]), "default_s": statistics.median(times[threads]),
            "sort_threads": threads}


def check_pauses(run: Path) -> dict[str, float | int | str]:
    """The pauses at a finished run's quality checks and their share of its wall time (stats.jsonl)."""
    rows = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines() if line.strip()]
    gaps = [b["seconds"] - a["seconds"] for a, b in zip(rows, rows[1:])]
    typical = statistics.median(gaps)
    pauses = [gap - typical for row, gap in zip(rows, gaps) if row.get("swd") is not None]
    wall = rows[-1]["seconds"]
    return {"run": str(run), "steps": rows[-1]["step"], "wall_s": round(wall, 1), "checks": len(pauses),
            "check_s": round(sum(pauses), 1), "share": round(sum(pauses) / wall, 4),
            "mean_check_s": round(sum(pauses) / max(len(pauses), 1), 2)}


def main() -> int:
    import torch

    from benchmarks import machine

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(MONET) if MONET.is_dir() else "demo")
    p.add_argument("--n", type=int, default=300, help="images per set (the check's quality_n)")
    p.add_argument("--res", type=int, nargs="+", default=[64, 128])
    p.add_argument("--repeats", type=int, default=6)
    p.add_argument("--runs", type=Path, nargs="*", default=[])
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "quality_check_cost.json")
    args = p.parse_args()

    rows = []
    print(f"{'res':>5}{'n':>6}{'1 thread s':>12}{'default s':>11}{'threads':>9}{'speed-up':>10}")
    for res in args.res:
        real = images(args.data, res, args.n)
        t = reading_times(real, args.repeats)
        row = {"res": res, "n": len(real), **{k: round(v, 3) for k, v in t.items()},
               "speedup": round(t["one_thread_s"] / t["default_s"], 3)}
        rows.append(row)
        print(f"{res:>5}{len(real):>6}{row['one_thread_s']:>12.2f}{row['default_s']:>11.2f}{row['sort_threads']:>9}"
              f"{row['speedup']:>9.2f}x")
    runs = [check_pauses(run) for run in args.runs]
    for r in runs:
        print(f"{r['run']}: {r['steps']} steps, {r['checks']} checks took {r['check_s']} s of {r['wall_s']} s "
              f"({r['share']:.1%}; {r['mean_check_s']} s a check)")
    result = {"data": Path(args.data).name, "readings": rows, "runs": runs,
              "machine": {"cpu": machine.cpu_description(), "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
                          "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
                          "numpy": np.__version__},
              "date": time.strftime("%Y-%m-%d %H:%M")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
