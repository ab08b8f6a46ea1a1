"""Many painters, one model: a conditional run against single-style runs, by style, with the referee and our
style meter.

    python benchmarks/styles.py STYLED_DIR --cond RUN [--single STYLE=RUN ...] [--repeats 3] [--name NAME]

STYLED_DIR is the folder the conditional run trained on (one sub-folder, or link, per style). For each style s
with n_s images:
- referee SWD (../shared/referee/swd.py, 64 px) of n_s samples of style s from the conditional run's best
  snapshot against style s's own images, at sample seeds 0, n_s, 2 n_s, ... (``--repeats``; the mean is
  reported), and the same for the single-style run of s (``--single s=RUN``: a model trained on s alone), so the
  two are compared at equal n; the ratio conditional / single is the acceptance figure (<= 1.15);
- style accuracy: a style meter (gan_studio.engine.style_meter, trained here on the real images with a held-out
  fifth) classifies the conditional samples of s; its accuracy on s's held-out real images is the reference
  (the acceptance asks >= 90 % of it);
- the blend curve: for every pair (A, B), the mean meter probability of B over 64 seeds as the style input moves
  from A to B in 5 steps (0, 25, 50, 75, 100 % B); monotone or not.
Writes benchmarks/results/styles_NAME.json, a style grid (rows = styles, columns = seeds) and a blend strip
(rows = seeds, columns = blend steps) as PNG, and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
REFEREE = ROOT.parent / "shared" / "referee" / "swd.py"
BLEND_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def referee(real: Path, images: np.ndarray, res: int) -> dict:
    """The referee's figures for uint8 images (N, H, W, C) against the folder ``real`` (all of it: equal n)."""
    from gan_studio.export import save_images

    with tempfile.TemporaryDirectory() as tmp:
        save_images(images, list(range(len(images))), Path(tmp))
        out = subprocess.run([sys.executable, str(REFEREE), str(real), tmp, "--res", str(res)],
                             capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def one_hot(i: int, n: int) -> np.ndarray:
    v = np.zeros(n, np.float32)
    v[i] = 1.0
    return v


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--cond", type=Path, required=True, help="the conditional run")
    ap.add_argument("--single", action="append", default=[], metavar="STYLE=RUN")
    ap.add_argument("--repeats", type=int, default=3, help="sample sets per model and style (default 3)")
    ap.add_argument("--res", type=int, default=64)
    ap.add_argument("--blend-seeds", type=int, default=64)
    ap.add_argument("--which", default="best", choices=["best", "latest"])
    ap.add_argument("--name", default="three_traditions")
    args = ap.parse_args()

    from gan_studio.data import load_dataset
    from gan_studio.data.styles import style_labels
    from gan_studio.engine import load_generator
    from gan_studio.engine.style_meter import split_heldout, train_style_meter
    from gan_studio.export import grid_image

    started = time.time()
    cond = load_generator(args.cond, which=args.which)
    names = cond.styles
    if not names:
        raise SystemExit(f"{args.cond} is not a conditional run")
    singles = dict(s.split("=", 1) for s in args.single)
    info = json.loads((Path(args.cond) / "run.json").read_text())
    stats = [json.loads(line) for line in (Path(args.cond) / "stats.jsonl").read_text().splitlines() if line]
    real = load_dataset(args.data, res=args.res)
    labels = style_labels(real.files, names)
    keep = labels >= 0
    real_images, labels = real.images[keep], labels[keep]

    # the style meter, on the real images (a held-out fifth says how far it can be trusted)
    t0 = time.time()
    meter = train_style_meter(real_images, labels, names, seed=0)
    meter_seconds = time.time() - t0
    _, held = split_heldout(labels, seed=0)

    rows = []
    for s, name in enumerate(names):
        folder = (Path(args.data) / name).resolve()
        n = int((labels == s).sum())
        row: dict = {"style": name, "n": n, "cond": [], "single": [], "run_single": singles.get(name)}
        samples = None
        single = load_generator(Path(singles[name]), which=args.which) if name in singles else None
        for r in range(args.repeats):
            seeds = list(range(r * n, (r + 1) * n))
            images = cond.images(seeds, style=one_hot(s, len(names)))
            samples = images if samples is None else samples
            row["cond"].append(referee(folder, images, args.res))
            if single is not None:
                row["single"].append(referee(folder, single.images(seeds), args.res))
        row["cond_swd"] = float(np.mean([f["swd_mean"] for f in row["cond"]]))
        if row["single"]:
            row["single_swd"] = float(np.mean([f["swd_mean"] for f in row["single"]]))
            row["ratio"] = row["cond_swd"] / row["single_swd"]
        assert samples is not None
        row["style_accuracy"] = meter.accuracy(samples, s)  # the first sample set, seeds 0 .. n-1
        row["meter_heldout"] = meter.heldout_accuracy[name]
        row["accuracy_share"] = row["style_accuracy"] / max(row["meter_heldout"], 1e-9)
        row["copied_share"] = max(f["copied_share"] for f in row["cond"])
        rows.append(row)

    # the blend curves: P(B) along A -> B, mean over seeds; the same seeds for every step
    seeds = list(range(10_000, 10_000 + args.blend_seeds))
    curves = []
    for a, b in combinations(range(len(names)), 2):
        means = []
        for t in BLEND_STEPS:
            v = (1 - t) * one_hot(a, len(names)) + t * one_hot(b, len(names))
            means.append(float(meter.probabilities(cond.images(seeds, style=v))[:, b].mean()))
        curves.append({"from": names[a], "to": names[b], "steps": list(BLEND_STEPS), "p_to": means,
                       "monotone": bool(all(y > x for x, y in zip(means, means[1:])))})

    # pictures: rows = styles, columns = 8 seeds; a blend strip between the first two styles, 4 seeds
    RESULTS.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    grid_seeds = list(range(20_000, 20_008))
    cells = np.concatenate([cond.images(grid_seeds, style=one_hot(s, len(names))) for s in range(len(names))])
    grid_path = RESULTS / f"styles_{args.name}_grid.png"
    Image.fromarray(grid_image(cells, columns=len(grid_seeds))).save(grid_path)
    strip = []
    for seed in grid_seeds[:4]:
        for t in BLEND_STEPS:
            strip.append(cond.images([seed], style=(1 - t) * one_hot(0, len(names)) + t * one_hot(1, len(names)))[0])
    strip_path = RESULTS / f"styles_{args.name}_blend_{names[0]}_{names[1]}.png"
    Image.fromarray(grid_image(np.stack(strip), columns=len(BLEND_STEPS))).save(strip_path)

    result = {
        "meta": {"date": time.strftime("%Y-%m-%d %H:%M"), "cpu": cpu_name(), "data": str(args.data),
                 "cond_run": str(args.cond), "cond_step": cond.step, "which": args.which, "styles": names,
                 "cond_steps_trained": stats[-1]["step"] if stats else None,
                 "cond_minutes": round(stats[-1]["seconds"] / 60, 1) if stats else None,
                 "cond_images_per_s": round(float(np.median([r["images_per_s"] for r in stats])), 1) if stats else None,
                 "cond_styles": info.get("styles"), "repeats": args.repeats, "res": args.res,
                 "meter_seconds": round(meter_seconds, 1), "meter_heldout": meter.heldout_accuracy,
                 "meter_heldout_count": meter.heldout_count, "heldout_images": int(len(held)),
                 "seconds": round(time.time() - started)},
        "styles": rows, "blend": curves,
        "pictures": {"grid": grid_path.name, "blend_strip": strip_path.name},
    }
    out = RESULTS / f"styles_{args.name}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")

    print(f"{cpu_name()}; conditional run {args.cond} at step {cond.step} ({args.which})")
    print(f"{'style':<12}{'n':>5}{'cond SWD':>10}{'single SWD':>12}{'ratio':>7}{'style acc':>11}{'meter':>7}"
          f"{'share':>7}{'copies':>8}")
    for r in rows:
        print(f"{r['style']:<12}{r['n']:>5}{r['cond_swd']:>10.2f}{r.get('single_swd', float('nan')):>12.2f}"
              f"{r.get('ratio', float('nan')):>7.2f}{r['style_accuracy']:>11.1%}{r['meter_heldout']:>7.1%}"
              f"{r['accuracy_share']:>7.1%}{r['copied_share']:>8.1%}")
    for c in curves:
        print(f"blend {c['from']} -> {c['to']}: P({c['to']}) " + " ".join(f"{p:.2f}" for p in c["p_to"])
              + ("  monotone" if c["monotone"] else "  NOT monotone"))
    print(f"wrote {out}, {grid_path.name}, {strip_path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
