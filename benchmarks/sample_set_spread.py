"""How far ref3 can sit from a snapshot's own quality: the spread of SWD readings between sample sets.

    python benchmarks/sample_set_spread.py NAME=RUN[=K] [NAME=RUN[=K] ...] [--out FILE]

Issue 16 asks that best.json's figure and ref3 (the referee's mean over `gan-studio sample RUN --n 300 --seed S`,
S = 0, 300, 600) differ by at most 1.5. ref3 is itself a mean of three draws. For each finished run's best.pt
this reads K sets of 300 samples, the sampler's own (seeds 300k .. 300k + 299, k = 0 .. K-1; k = 0, 1, 2 are
ref3's three folders), with the engine's SWD against the training images, and reports:

- the readings' mean and standard deviation (one set's spread around the snapshot's quality);
- by resampling those readings, the chance that a mean of three lands more than 1.5 from the mean of all K (what
  a recorder that knew the snapshot's quality exactly would see), and more than 1.5 from a mean of nine (a
  recorder like the engine's, best.json's nine readings), and that a mean of ten sets lands more than 1.5 from
  a mean of nine (the point restated on ten sample seeds);
- across snapshots, each set's deviation from its snapshot's mean: one noise set that reads low in every
  snapshot is a bias of ref3 that no recorder can see.

Writes benchmarks/results/sample_set_spread.json (or --out); `--restat FILE` recomputes the statistics from a
results file's stored readings (and adds the runs given).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GAP = 1.5
DRAWS = 100_000


def readings(run: Path, sets: int) -> tuple[int, list[list[float]]]:
    """best.pt's step and, for k < sets, [mean, levels...] of the sampler's set k against the training images."""
    from gan_studio.data import load_dataset
    from gan_studio.engine.metrics import swd
    from gan_studio.engine.sampling import load_generator

    g = load_generator(run, device="cpu", which="best")
    data = g.config.data
    train = load_dataset(data.source, res=data.res, aspect=data.aspect, crop="center").images
    rows = []
    for k in range(sets):
        seed = 300 * k
        r = swd(g.images(list(range(seed, seed + 300))), train, seed=seed)
        rows.append([round(r.mean, 3)] + [round(v, 2) for v in r.levels])
        print(f"  {run.name} set {k}: {rows[-1]}", flush=True)
    return g.step, rows


def miss_rates(means: np.ndarray, seed: int = 0) -> dict[str, float]:
    """By resampling ``means``: P(|mean of 3 - mean of all| > GAP) ("exact"), P(|mean of 3 - mean of 9| > GAP)
    ("nine"), and P(|mean of 10 - mean of 9| > GAP) ("ten_vs_nine": the point restated on ten sample seeds)."""
    rng = np.random.default_rng(seed)
    three = rng.choice(means, (DRAWS, 3)).mean(1)
    nine = rng.choice(means, (DRAWS, 9)).mean(1)
    ten = rng.choice(means, (DRAWS, 10)).mean(1)
    return {"exact": float((abs(three - means.mean()) > GAP).mean()), "nine": float((abs(three - nine) > GAP).mean()),
            "ten_vs_nine": float((abs(ten - nine) > GAP).mean())}


def shared_sets(per_run: dict[str, list[list[float]]]) -> dict[str, int | list[float]]:
    """Each set's deviation from its snapshot's mean, averaged over snapshots, with its standard error; per level
    (finest first) among the snapshots with the most common number of levels (64 px runs have three, 128 px four).
    Over the first k sets, k the fewest any run has."""
    k = min(len(rows) for rows in per_run.values())
    means = np.array([[r[0] for r in rows[:k]] for rows in per_run.values()])  # runs, sets
    dev = means - means.mean(axis=1, keepdims=True)
    out: dict[str, int | list[float]] = {
        "sets": k, "runs": len(means), "mean_deviation": dev.mean(0).round(3).tolist(),
        "standard_error": (dev.std(0, ddof=1) / np.sqrt(len(dev))).round(3).tolist()}
    counts = [len(rows[0]) for rows in per_run.values()]
    common = max(set(counts), key=counts.count)
    table = np.array([rows[:k] for rows in per_run.values() if len(rows[0]) == common])  # runs, sets, 1 + levels
    level_dev = table - table.mean(axis=1, keepdims=True)
    out["level_runs"] = len(table)
    for level in range(1, common):
        out[f"level_{level}_mean_deviation"] = level_dev[:, :, level].mean(0).round(3).tolist()
    return out


def summary(path: str, step: int, rows: list[list[float]]) -> dict:
    means = np.array([r[0] for r in rows])
    p = miss_rates(means)
    return {"run": path, "step": step, "readings": rows, "mean": round(float(means.mean()), 3),
            "sd": round(float(means.std(ddof=1)), 3), "ref3_sets": round(float(means[:3].mean()), 3),
            "p_ref3_off_exact": round(p["exact"], 4), "p_ref3_off_nine": round(p["nine"], 4),
            "p_ten_off_nine": round(p["ten_vs_nine"], 4)}


def report(result: dict) -> None:
    print(f"\n{result['cpu']}; P: ref3 more than {GAP} from the snapshot's mean (exact) / from a mean of nine; "
          f"a mean of ten from a mean of nine")
    print(f"{'run':<10} {'step':>6} {'sets':>4} {'mean':>7} {'sd':>6} {'ref3 sets':>9} {'P exact':>8} {'P nine':>7} "
          f"{'P ten':>6}")
    for name, r in result["runs"].items():
        print(f"{name:<10} {r['step']:>6} {len(r['readings']):>4} {r['mean']:>7.2f} {r['sd']:>6.2f} "
              f"{r['ref3_sets']:>9.2f} {r['p_ref3_off_exact']:>8.3f} {r['p_ref3_off_nine']:>7.3f} "
              f"{r['p_ten_off_nine']:>6.3f}")
    if "shared_sets" in result:
        s = result["shared_sets"]
        print("set k's deviation from its snapshot's mean, over runs:",
              ", ".join(f"{k}: {d:+.2f}±{e:.2f}" for k, (d, e) in enumerate(zip(s["mean_deviation"],
                                                                                 s["standard_error"]))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", help="NAME=RUN_FOLDER[=SETS] (SETS: default 15)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "sample_set_spread.json")
    parser.add_argument("--restat", type=Path, help="start from this file's stored readings (no generator is "
                                                    "loaded for them), add any runs given, write all to --out")
    args = parser.parse_args()
    from benchmarks.machine import cpu_description

    result: dict = {"cpu": cpu_description(), "gap": GAP, "runs": {}}
    per_run: dict[str, list[list[float]]] = {}

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")

    if args.restat:  # the stored readings stand for their runs: no generator is loaded for them
        old = json.loads(args.restat.read_text())
        result["cpu"] = old["cpu"]
        for name, r in old["runs"].items():
            per_run[name] = r["readings"]
            result["runs"][name] = summary(r["run"], r["step"], r["readings"])
    for spec in args.runs:
        name, path, *rest = spec.split("=")
        step, rows = readings(Path(path), int(rest[0]) if rest else 15)
        per_run[name] = rows
        result["runs"][name] = summary(path, step, rows)
        save()  # what is read so far survives a crash
    if len(per_run) > 1:
        result["shared_sets"] = shared_sets(per_run)
    save()
    report(result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
