"""How long `gan-studio runs` takes on a runs folder of 300 runs, and that it never imports PyTorch.

The runs are copies of one real run's small files (config.json, run.json, stats.jsonl, favourites.json,
best.json, sample grids), with its checkpoints hard-linked (no disk space; the listing reads 26 bytes of each to
see that it is whole). The listing is timed in a fresh interpreter each time (``python -m gan_studio runs``), as
a user runs it; ``python -X importtime`` of the same command must show no torch module. Prints a table and
writes benchmarks/results/runs_listing.json. The target: under 1 s for 300 runs, no torch.

    python benchmarks/runs_listing.py                    # 300 runs, best of 5
    python benchmarks/runs_listing.py --runs 1000 --repeat 3
    python benchmarks/runs_listing.py --source RUN_DIR   # copies of your own run instead of a fresh tiny one
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_S = 1.0


def tiny_run(where: Path) -> Path:
    """A real run of a few steps on 24 demo landscapes (about 10 s): the files a listing reads."""
    from gan_studio.config import RunConfig
    from gan_studio.data.demo import make_landscape
    from gan_studio.engine import Trainer
    from gan_studio.engine.rundir import RunDir

    images = where / "images"
    images.mkdir(parents=True)
    for i in range(24):
        make_landscape(i, (48, 40)).save(images / f"l{i:02d}.png")
    cfg = RunConfig()
    cfg.data.source, cfg.data.res, cfg.model.width = str(images), 32, 8
    cfg.train.batch, cfg.train.steps, cfg.train.log_every = 8, 8, 2
    cfg.train.checkpoint_every, cfg.train.quality_every, cfg.train.sample_every = 2, 4, 4
    run = where / "source-run"
    list(Trainer.new(cfg, out=run).run())
    RunDir(run).save_favourites([1, 5, 9])
    return run


def fill(root: Path, source: Path, n: int) -> str:
    """``n`` run folders under ``root``: small files copied, checkpoints hard-linked (or empty, if links fail)."""
    how = "hard links"
    for i in range(n):
        run = root / f"20240101-{i:06d}-dcgan-copy"
        for path in sorted(source.rglob("*")):
            target = run / path.relative_to(source)
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            elif path.suffix == ".pt":
                try:
                    os.link(path, target)
                except OSError:
                    target.touch()  # listed as damaged ("empty"), but the timing holds
                    how = "empty files (hard links failed)"
            else:
                shutil.copy2(path, target)
    return how


def time_listing(root: Path, repeat: int) -> tuple[list[float], str]:
    """Wall-clock seconds of ``python -m gan_studio runs --root ROOT`` in a fresh interpreter, ``repeat`` times."""
    cmd = [sys.executable, "-m", "gan_studio", "runs", "--root", str(root)]
    times, out = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"gan-studio runs failed: {result.stderr[-2000:]}")
        out = result.stdout
    return times, out


def startup(repeat: int) -> float:
    """A bare interpreter's start and exit: the floor under any command."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return min(times)


def imported_modules(root: Path) -> tuple[list[str], float]:
    """(torch modules in ``python -X importtime -m gan_studio runs``, import time of gan_studio.cli in s)."""
    cmd = [sys.executable, "-X", "importtime", "-m", "gan_studio", "runs", "--root", str(root)]
    err = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stderr
    names = [line.split("|")[-1].strip() for line in err.splitlines() if line.startswith("import time:")]
    torch = [name for name in names if name.split(".")[0] in ("torch", "torchvision")]
    cli = [line for line in err.splitlines() if line.rstrip().endswith("| gan_studio.cli")]
    return torch, (int(cli[-1].split("|")[1]) / 1e6 if cli else float("nan"))


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=300, help="run folders to list (default 300)")
    p.add_argument("--repeat", type=int, default=5, help="timed listings; the best counts (default 5)")
    p.add_argument("--source", type=Path, help="a run folder to copy (default: a tiny run trained here)")
    p.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/runs_listing.json")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="gan_studio_runs_bench_") as tmp:
        work = Path(tmp)
        source = args.source or tiny_run(work)
        root = work / "runs"
        root.mkdir()
        links = fill(root, source, args.runs)
        times, out = time_listing(root, args.repeat)
        one = work / "one"
        one.mkdir()
        fill(one, source, 1)
        one_times, _ = time_listing(one, args.repeat)
        torch, cli_import = imported_modules(root)
        floor = startup(args.repeat)
    listed = [line for line in out.splitlines() if not line.startswith(" ")]
    damaged = sum("  damaged: " in line for line in listed)
    best = min(times)
    ok = best < TARGET_S and not torch and len(listed) == args.runs
    rows = [("runs listed", f"{len(listed)} ({damaged} damaged)"), ("checkpoints", links),
            (f"{args.runs} runs, best of {args.repeat}", f"{best:.3f} s (all: {', '.join(f'{t:.2f}' for t in times)})"),
            ("1 run, best", f"{min(one_times):.3f} s"), ("bare interpreter", f"{floor:.3f} s"),
            ("import gan_studio.cli", f"{cli_import:.3f} s"),
            ("per run", f"{(best - min(one_times)) / max(args.runs - 1, 1) * 1000:.2f} ms"),
            ("torch imported", ", ".join(torch[:3]) or "no"), ("target", f"< {TARGET_S:g} s and no torch: "
                                                                        f"{'met' if ok else 'MISSED'}")]
    width = max(len(k) for k, _ in rows)
    print(f"gan-studio runs on {cpu_name()} ({os.cpu_count()} CPUs)")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    if not args.no_write:
        result = {
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": {"cpu": cpu_name(), "cpu_count": os.cpu_count(), "platform": platform.platform(),
                        "python": platform.python_version(),
                        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None},
            "runs": args.runs, "listed": len(listed), "damaged": damaged, "checkpoints": links,
            "seconds": [round(t, 4) for t in times], "best_s": round(best, 4),
            "one_run_seconds": [round(t, 4) for t in one_times], "bare_interpreter_s": round(floor, 4),
            "cli_import_s": round(cli_import, 4), "torch_modules": torch, "target_s": TARGET_S, "met": ok,
        }
        path = ROOT / "benchmarks" / "results" / "runs_listing.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
