"""Ablation of training choices by sample quality per CPU-minute: each variant trains as a user's run would, with
a few configuration values changed, then is read by the referee.

    python benchmarks/ablation.py DATA --minutes 10 --name NAME \\
        --variant 'defaults={}' --variant 'noise={"model.g_noise": true}' [--res 64]
    python benchmarks/ablation.py DATA --name NAME --variant x --floor   # add per-level ratios to the real floor
    python benchmarks/ablation.py DATA --name NAME --variant 'old_defaults' --existing RUN  # read a finished run
    python benchmarks/ablation.py DATA --steps 750 --name NAME --variant ...  # a step count, not minutes (GPU screens)

Each variant: ``gan-studio train DATA --res R --minutes M`` built by the command line's own code (the defaults
policy for this folder, the app's), the variant's ``section.field`` values on top, trained in a process of its own;
then ``gan-studio sample RUN --n 300 --seed S`` on best.pt for S = 0, 300, 600 and on the newest snapshot (S = 0),
each read by ../shared/referee/swd.py ($GAN_STUDIO_REFEREE elsewhere; SWD x1e3 per level and mean; copy share).
Variants run one after another, strictly alone: anything else on the machine changes how many steps a variant
gets. Appends to benchmarks/results/ablation_NAME.json (a variant already there is skipped, so an
interrupted ablation resumes) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
REFEREE = Path(os.environ.get("GAN_STUDIO_REFEREE", ROOT.parent / "shared" / "referee" / "swd.py"))
SEEDS = (0, 300, 600)
TEN_SEEDS = tuple(range(0, 3000, 300))  # the best.json point restated on ten sample sets (sample_set_spread.py)


def train_one(data: str, res: int, minutes: float, overrides: dict, out: Path, steps: int | None = None) -> None:
    """The run a user's ``gan-studio train DATA --res R --minutes M`` (or ``--steps N``) would make, with
    ``overrides`` on top."""
    from gan_studio.cli import build_parser, config_from_args, drive_training
    from gan_studio.data.summary import summarize_source
    from gan_studio.engine import Trainer

    limit = ["--steps", str(steps)] if steps else ["--minutes", str(minutes)]
    args = build_parser().parse_args(["train", data, "--res", str(res), *limit])
    cfg = config_from_args(args, summarize_source(data))
    for key, value in overrides.items():
        section, name = key.split(".")
        if not hasattr(getattr(cfg, section), name):
            raise SystemExit(f"unknown setting {key}")
        setattr(getattr(cfg, section), name, value)
    cfg.validate()
    drive_training(Trainer.new(cfg, out=out))


def referee(data: str, samples: Path, res: int) -> dict:
    out = subprocess.run([sys.executable, str(REFEREE), data, str(samples), "--res", str(res)], check=True,
                         capture_output=True, text=True).stdout
    line = json.loads(out.strip().splitlines()[-1])
    return {"mean": line["swd_mean"], "levels": line["swd_levels"],
            "copied_share": line.get("copied_share")}


def sample(run: Path, which: str, seed: int, n: int) -> Path:
    """`gan-studio sample RUN --n n --seed seed --which which` into RUN's sibling folder NAME_which_seed."""
    folder = run.parent / f"{run.name}_{which}_{seed}"
    subprocess.run([sys.executable, "-m", "gan_studio", "sample", str(run), "--n", str(n), "--seed", str(seed),
                    "--which", which, "--out", str(folder)], check=True, capture_output=True)
    return folder


def read_run(run: Path, data: str, res: int, n: int) -> dict:
    stats = [json.loads(s) for s in (run / "stats.jsonl").read_text().splitlines() if s.strip()]
    best_file = run / "checkpoints" / "best.json"
    best = json.loads(best_file.read_text()) if best_file.exists() else {}
    result: dict = {"steps": stats[-1]["step"], "images_per_s": round(statistics.median(
        s["images_per_s"] for s in stats[len(stats) // 10:]), 1), "best": best, "referee_best": {}}
    shares = [s["recon_share"] for s in stats if s.get("recon_share") is not None]
    ps = [s["augment_p"] for s in stats if s.get("augment_p") is not None]
    result.update(recon_share=shares, augment_p_end=ps[-1] if ps else None)
    for which, seeds in (("best", SEEDS), ("latest", (0,))):
        for seed in seeds:
            folder = sample(run, which, seed, n)
            reading = referee(data, folder, res)
            if which == "best":
                result["referee_best"][str(seed)] = reading
                result.setdefault("samples_best_0", str(folder))
            else:
                result["referee_latest"] = reading
    result["best_mean_of_3"] = round(statistics.mean(r["mean"] for r in result["referee_best"].values()), 2)
    return result


def ten_seeds(name: str, v: dict, data: str, res: int, n: int) -> None:
    """Read variant ``name``'s best.pt (its results ``v``) at the seeds of TEN_SEEDS not yet read; add
    best_mean_of_10 and the gap best.json - best_mean_of_10."""
    run = Path(v["samples_best_0"]).with_name(name)  # read_run's folders are the run's siblings
    for seed in TEN_SEEDS:
        if str(seed) not in v["referee_best"]:
            v["referee_best"][str(seed)] = referee(data, sample(run, "best", seed, n), res)
            print(f"{name} seed {seed}: {v['referee_best'][str(seed)]['mean']}", flush=True)
    v["best_mean_of_10"] = round(statistics.mean(v["referee_best"][str(s)]["mean"] for s in TEN_SEEDS), 2)
    v["gap_of_10"] = round(v["best"]["swd"] - v["best_mean_of_10"], 2)
    print(f"{name}: best.json {v['best']['swd']:.2f}, ref10 {v['best_mean_of_10']}, gap {v['gap_of_10']:+.2f}")


def floor_levels(doc: dict, runs: Path) -> None:
    """Each variant's best samples per level against half of the real images, beside the other half's reading
    (the real floor at that n), as ratios. Both sides are means (benchmarks/quality.py): the floor over
    FLOOR_SPLITS random halvings, a variant over the same halvings and both halves of each of its three sample
    sets (seeds 0, 300, 600), so that one lucky or unlucky split does not decide the ratio."""
    import numpy as np
    from PIL import Image

    from benchmarks.quality import FLOOR_SPLITS, half_levels, real_floor
    from gan_studio.data import load_dataset

    train = load_dataset(Path(doc["data"]), res=doc["res"]).images
    floor = real_floor(train)
    doc["real_halves_floor"] = floor
    doc["floor_method"] = (f"mean over {FLOOR_SPLITS} random halvings of the real set; a variant: both halves of "
                           f"each best sample set against half A of each halving")
    for name, v in doc["variants"].items():
        first = Path(v.get("samples_best_0") or runs / f"{name}_best_0")  # read_run's folders: NAME_best_SEED
        folders = [first.with_name(f"{first.name.removesuffix('_0')}_{seed}") for seed in SEEDS]
        sets = [np.stack([np.asarray(Image.open(f).convert("RGB")) for f in sorted(folder.glob("seed_*.png"))])
                for folder in folders if folder.is_dir()]
        if not sets:
            continue
        h = half_levels(sets, train)
        v["half_levels"], v["half_levels_sd"], v["half_readings"] = h["levels"], h["levels_sd"], h["readings"]
        v["half_ratio"] = [round(a / b, 2) for a, b in zip(h["levels"], floor["swd_levels"])]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--steps", type=int, help="train for this many steps instead of --minutes (a GPU screening "
                    "at the step count a CPU reaches in M minutes)")
    ap.add_argument("--res", type=int, default=64)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--name", required=True)
    ap.add_argument("--variant", action="append", required=True, help="NAME=JSON of section.field values")
    ap.add_argument("--runs", default="/tmp/ablation", help="where the runs and samples go")
    ap.add_argument("--floor", action="store_true", help="only add the per-level real-floor ratios to NAME's file")
    ap.add_argument("--ten-seeds", action="store_true", help="only read the --variant runs of NAME's file at ten "
                    "sample seeds (0, 300, ..., 2700): best_mean_of_10")
    ap.add_argument("--existing", metavar="RUN", help="measure this finished run as the one --variant's NAME "
                    "(its overrides are not applied: say in NAME how it was trained)")
    ap.add_argument("--one", nargs=2, metavar=("JSON", "OUT"), help=argparse.SUPPRESS)  # the training process
    args = ap.parse_args()
    if args.one:
        train_one(args.data, args.res, args.minutes, json.loads(args.one[0]), Path(args.one[1]), args.steps)
        return 0
    from benchmarks import machine

    path = RESULTS / f"ablation_{args.name}.json"
    if args.ten_seeds:
        doc = json.loads(path.read_text())
        for name in (spec.partition("=")[0] for spec in args.variant):  # each run is saved as it is read
            ten_seeds(name, doc["variants"][name], args.data, doc.get("res", args.res), doc.get("n", args.n))
            path.write_text(json.dumps(doc, indent=1) + "\n")
        return 0
    if args.floor:
        doc = json.loads(path.read_text())
        floor_levels(doc, Path(args.runs) / args.name)
        path.write_text(json.dumps(doc, indent=1) + "\n")
        _table(doc)
        return 0
    doc = json.loads(path.read_text()) if path.exists() else {
        "benchmark": "ablation", "data": args.data, "res": args.res, "n": args.n,
        **({"steps": args.steps} if args.steps else {"minutes": args.minutes}),
        "cpu": machine.cpu_description(), "variants": {}}
    for spec in args.variant:
        name, _, overrides = spec.partition("=")
        if name in doc["variants"]:
            print(f"{name}: already measured, skipped")
            continue
        run = Path(args.existing) if args.existing else Path(args.runs) / args.name / name
        began = time.strftime("%Y-%m-%d %H:%M")
        if not args.existing:
            limit = ["--steps", str(args.steps)] if args.steps else ["--minutes", str(args.minutes)]
            subprocess.run([sys.executable, __file__, args.data, *limit, "--res", str(args.res),
                            "--name", args.name, "--variant", spec, "--one", overrides or "{}", str(run)], check=True)
        doc["variants"][name] = {"overrides": json.loads(overrides or "{}"), "started": began,
                                 **read_run(run, args.data, args.res, args.n)}
        RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=1) + "\n")
        _table(doc)
    return 0


def _table(doc: dict) -> None:
    print(f"{'variant':<24}{'steps':>7}{'img/s':>7}{'best@':>7}{'train':>7}{'ref3':>7}{'newest':>8}  levels(best, s0)")
    for name, v in doc["variants"].items():
        b, r0 = v["best"], v["referee_best"]["0"]
        print(f"{name:<24}{v['steps']:>7}{v['images_per_s']:>7}{b.get('step', '-'):>7}{b.get('swd', 0):>7.2f}"
              f"{v['best_mean_of_3']:>7.2f}{v['referee_latest']['mean']:>8.2f}  {r0['levels']}"
              + (f"  vs floor {v['half_ratio']}" if "half_ratio" in v else ""))


if __name__ == "__main__":
    sys.exit(main())
