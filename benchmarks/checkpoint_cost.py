"""What crash safety costs: the share of training time spent writing checkpoints at the default cadence.

    python benchmarks/checkpoint_cost.py                    # monet300 (or the demo landscapes), 6 minutes
    python benchmarks/checkpoint_cost.py --minutes 3 --data FOLDER

Trains the defaults policy's configuration for the folder (what `gan-studio train FOLDER` and the app's Start
train: FastGAN, 64 px, width 64, its default batch on monet300) with a checkpoint every `checkpoint_minutes` (2 by
default), times every checkpoint the trainer writes (the EMA generator's batch-norm recalibration, the state
copy kept for a rollback, the atomic write and fsync, the pruning of old ones) and prints the share of the
session they took. Target: under 2%. Writes benchmarks/results/checkpoint_cost.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MONET = ROOT.parent / "shared" / "datasets" / "monet300"


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or platform.machine()


def main() -> int:
    import torch

    from gan_studio.data.summary import summarize_source
    from gan_studio.defaults import defaults_for
    from gan_studio.engine import Trainer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(MONET) if MONET.is_dir() else "demo")
    p.add_argument("--minutes", type=float, default=6.0)
    p.add_argument("--checkpoint-minutes", type=float, default=None, help="default: the config's default")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "checkpoint_cost.json")
    args = p.parse_args()

    cfg = defaults_for(summarize_source(args.data), "cpu")
    cfg.train.minutes = args.minutes
    if args.checkpoint_minutes is not None:
        cfg.train.checkpoint_minutes = args.checkpoint_minutes
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer.new(cfg.validate(), out=Path(tmp) / "run")
        timings: list[tuple[int, float]] = []  # (step, seconds) of every checkpoint written
        write = trainer._checkpoint

        def timed(session_seconds: float):
            start = time.perf_counter()
            yield from write(session_seconds)
            timings.append((trainer.step, time.perf_counter() - start))

        trainer._checkpoint = timed  # type: ignore[method-assign]
        started = time.perf_counter()
        events = list(trainer.run())
        wall = time.perf_counter() - started
        size_mb = sum(p.stat().st_size for _, p in trainer.run_dir.checkpoint_list()[-1:]) / 2 ** 20
    finished = events[-1]
    training = finished.seconds  # the session's training time (pauses excluded)
    # The cadence's cost: the checkpoints written on schedule. The one at the end of a session is written
    # whatever the cadence (a stop always saves), so it is reported but not counted against the target.
    periodic = [s for step, s in timings if step < finished.step]
    share = sum(periodic) / training
    share_all = sum(s for _, s in timings) / training
    row = {"data": Path(args.data).name, "model": cfg.model.name, "res": cfg.data.res, "width": cfg.model.width,
           "batch": cfg.train.batch, "checkpoint_minutes": cfg.train.checkpoint_minutes, "steps": finished.step,
           "training_s": round(training, 1), "wall_s": round(wall, 1), "scheduled_checkpoints": len(periodic),
           "checkpoint_s": [[step, round(s, 3)] for step, s in timings], "checkpoint_mb": round(size_mb, 1),
           "share": round(share, 5), "share_with_final": round(share_all, 5), "target": 0.02}
    print(f"{'data':<10}{'model':<9}{'steps':>7}{'train s':>9}{'sched.':>7}{'mean s':>8}{'MB':>7}{'share':>9}"
          f"{'+final':>9}")
    print(f"{row['data']:<10}{row['model']:<9}{row['steps']:>7}{training:>9.1f}{len(periodic):>7}"
          f"{sum(periodic) / max(len(periodic), 1):>8.2f}{size_mb:>7.1f}{share:>9.2%}{share_all:>9.2%}"
          f"  (target: share < 2%)")
    result = {"rows": [row], "machine": {"cpu": cpu_name(), "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
                                         "torch_threads": torch.get_num_threads(),
                                         "python": platform.python_version()},
              "date": time.strftime("%Y-%m-%d %H:%M")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0 if share < 0.02 else 1


if __name__ == "__main__":
    raise SystemExit(main())
