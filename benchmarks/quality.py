"""Sample quality for the same wall-clock time: GAN Studio's default against the classic DCGAN recipe.

    python benchmarks/quality.py DATA_DIR --minutes 10 [--res 64] [--n 300] [--name monet300]

GAN Studio is run exactly as a user would: ``gan-studio train DATA_DIR --res R --minutes M`` (no other flag: the
default model and augmentation for the data set), then ``gan-studio sample RUN --n N`` (the best snapshot).
The classic recipe is a plain reimplementation of pytorch/examples dcgan/main.py: Pillow decoding in two
DataLoader workers every epoch (Resize + CenterCrop + Normalize), float32, NCHW, DCGAN 64 with a sigmoid +
BCELoss discriminator, Adam 2e-4 / 0.5, batch 64, ``.item()`` every step, samples from the final G. Each runs in
its own process, one after the other, with the same thread settings.

Both sets of N samples are measured against the data set's images (decoded once, centre crop, R pixels) with
GAN Studio's offline metrics: multi-scale SWD (compare only at equal N), the copy share, MS-SSIM diversity.
Writes benchmarks/results/quality_NAME.json, a sample grid per contender (quality_NAME_CONTENDER.png) and
prints a table. On a shared machine, read the steps and images/s columns beside the minutes.
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"


# ---------------------------------------------------------------------------------------- the classic loop
def classic(data: Path, minutes: float, res: int, n: int, out: Path, seed: int = 0) -> dict:
    """pytorch/examples dcgan/main.py, trimmed to what runs: returns steps and images/s; saves n samples."""
    import torch
    import torch.nn as nn
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    from gan_studio.data import IMAGE_EXTENSIONS

    torch.manual_seed(seed)
    files = sorted(p for p in data.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    tf = transforms.Compose([transforms.Resize(res), transforms.CenterCrop(res), transforms.ToTensor(),
                             transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])

    class Folder(Dataset):
        def __len__(self) -> int:
            return len(files)

        def __getitem__(self, i: int):
            return tf(Image.open(files[i]).convert("RGB"))

    nz, ngf, ndf = 100, 64, 64
    netG = nn.Sequential(  # (nz, 1, 1) -> (3, 64, 64)
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh())
    netD = nn.Sequential(  # (3, 64, 64) -> (1, 1, 1)
        nn.Conv2d(3, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def weights_init(m: nn.Module) -> None:
        if "Conv" in type(m).__name__:
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif "BatchNorm" in type(m).__name__:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)

    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loader = DataLoader(Folder(), batch_size=64, shuffle=True, num_workers=2, drop_last=False)
    start, steps, images = time.monotonic(), 0, 0
    while time.monotonic() - start < minutes * 60:
        for real in loader:
            b = real.size(0)
            netD.zero_grad()
            errD_real = criterion(netD(real).view(-1), torch.full((b,), 1.0))
            errD_real.backward()
            fake = netG(torch.randn(b, nz, 1, 1))
            errD_fake = criterion(netD(fake.detach()).view(-1), torch.full((b,), 0.0))
            errD_fake.backward()
            optD.step()
            netG.zero_grad()
            errG = criterion(netD(fake).view(-1), torch.full((b,), 1.0))  # fake labels are real for G
            errG.backward()
            optG.step()
            _ = errD_real.item() + errD_fake.item() + errG.item()  # the example prints these every step
            steps, images = steps + 1, images + b
            if time.monotonic() - start >= minutes * 60:
                break
    seconds = time.monotonic() - start
    samples = []
    with torch.no_grad():  # as the example draws its grids: G as it was left, in training mode
        for i in range(0, n, 64):
            samples.append(netG(torch.randn(min(64, n - i), nz, 1, 1)))
    x = ((torch.cat(samples).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    np.save(out / "samples.npy", x)
    return {"steps": steps, "seconds": round(seconds, 1), "images_per_s": round(images / seconds, 1)}


# ------------------------------------------------------------------------------------------- GAN Studio
def ours(data: Path, minutes: float, res: int, n: int, out: Path) -> dict:
    """``gan-studio train DATA --res R --minutes M`` then ``gan-studio sample RUN --n N``, as a user runs them."""
    from PIL import Image

    from gan_studio.config import RunConfig
    from gan_studio.engine import RunDir

    run = out / "run"
    cli = [sys.executable, "-m", "gan_studio"]
    subprocess.run(cli + ["train", str(data), "--res", str(res), "--minutes", str(minutes), "--out", str(run)],
                   check=True)
    subprocess.run(cli + ["sample", str(run), "--n", str(n), "--out", str(out / "samples")], check=True)
    files = sorted((out / "samples").glob("seed_*.png"))
    x = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])
    np.save(out / "samples.npy", x)
    stats = RunDir(run).read_stats()
    best = json.loads((run / "checkpoints" / "best.json").read_text()) if (run / "checkpoints" / "best.json").exists() \
        else {}
    sampled_step = int(Image.open(files[0]).text.get("step", -1))
    rates = [r["images_per_s"] for r in stats if r.get("images_per_s")]
    return {"steps": stats[-1]["step"] if stats else 0, "seconds": round(stats[-1]["seconds"], 1) if stats else 0,
            "images_per_s": round(float(np.median(rates)), 1) if rates else None, "sampled_step": sampled_step,
            "model": RunConfig.load(run / "config.json").model.name, "best_check": best,
            "checks": [(r["step"], r["swd"]) for r in stats if r.get("swd") is not None]}


# ----------------------------------------------------------------------------------------------- driver
FLOOR_SPLITS = 8  # random halvings of the real set: one split's floor is noisy (64 px level: sd 3.7 on monet300)


def measure(samples: np.ndarray, train: np.ndarray, seed: int = 0) -> dict:
    from gan_studio.engine import metrics as M

    r = M.swd(samples, train, seed=seed)
    h = half_levels([samples], train)  # beside the real floor, at its n
    return {"swd": round(r.mean, 2), "swd_levels": [round(v, 1) for v in r.levels], "swd_n": r.n,
            "swd_half": round(float(np.mean(h["levels"])), 2), "swd_half_levels": h["levels"], "swd_half_n": h["n"],
            "copy_share": round(M.memorisation(samples, train).copy_share, 4),
            "ms_ssim": round(M.diversity(samples, seed=seed), 4)}


def real_halves(train: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random halves of the real images (SWD depends on n: the floor and a contender are compared
    against half A at the same n)."""
    order = np.random.default_rng(seed).permutation(len(train))
    half = len(train) // 2
    return train[order[:half]], train[order[half:2 * half]]


def _summary(readings: list[list[float]], n: int) -> dict:
    """Per-level mean (and spread) of several readings, finest level first."""
    a = np.asarray(readings)
    spread = a.std(0, ddof=1) if len(a) > 1 else np.zeros(a.shape[1])
    return {"levels": [round(float(v), 2) for v in a.mean(0)], "levels_sd": [round(float(v), 2) for v in spread],
            "readings": len(a), "n": n}


def real_floor(train: np.ndarray, splits: int = FLOOR_SPLITS) -> dict:
    """SWD of one real half against the other, per level, averaged over ``splits`` random halvings: what a
    perfect generator would score at that n. One halving alone is not enough: which images land in which half
    moves the 64 px level by +-3.7 on monet300 (its split 0 reads 15.6 against a mean of 17.6)."""
    from gan_studio.engine import metrics as M

    readings, n = [], 0
    for split in range(splits):
        a, b = real_halves(train, split)
        r = M.swd(b, a, seed=split)
        readings.append(r.levels)
        n = r.n
    out = _summary(readings, n)
    out.update(swd=round(float(np.mean(out["levels"])), 2), swd_levels=out["levels"])
    return out


def half_levels(sample_sets: list[np.ndarray], train: np.ndarray, splits: int = FLOOR_SPLITS) -> dict:
    """A generator's reading beside ``real_floor``: each sample set's two halves against half A of each of the
    same ``splits`` halvings (so a contender and the floor share their real side), averaged per level."""
    from gan_studio.engine import metrics as M

    half = len(train) // 2
    readings, n = [], 0
    for split in range(splits):
        a, _ = real_halves(train, split)
        for x in sample_sets:
            for piece in (x[:half], x[half:2 * half]):
                if len(piece):
                    r = M.swd(piece, a, seed=split)
                    readings.append(r.levels)
                    n = r.n
    return _summary(readings, n)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, nargs="?")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--res", type=int, default=64)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--name", help="results name (default: the folder's name)")
    ap.add_argument("--only", choices=["ours", "classic"], help="run one contender")
    ap.add_argument("--child", choices=["ours", "classic"], help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.data is None:
        from gan_studio.data.demo import ensure_demo_folder

        a.data = ensure_demo_folder()
    a.data = a.data.resolve()
    if a.child:
        fn = ours if a.child == "ours" else classic
        result = fn(a.data, a.minutes, a.res, a.n, a.work)
        (a.work / "result.json").write_text(json.dumps(result))
        return 0

    from gan_studio.data import load_dataset
    from gan_studio.engine.metrics import diversity
    from gan_studio.export import save_grid

    name = a.name or a.data.name
    train = load_dataset(a.data, res=a.res).images
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = {}
    for contender in ([a.only] if a.only else ["ours", "classic"]):
        work = Path(tempfile.mkdtemp(prefix=f"quality_{contender}_"))
        print(f"== {contender}: {a.minutes:g} min on {a.data} ({work})", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, __file__, str(a.data), "--child", contender, "--work", str(work),
                        "--minutes", str(a.minutes), "--res", str(a.res), "--n", str(a.n)], check=True)
        row = json.loads((work / "result.json").read_text())
        samples = np.load(work / "samples.npy")
        row.update(measure(samples, train))
        save_grid(samples[:64], RESULTS / f"quality_{name}_{contender}.png")
        rows[contender] = row
    train_ms_ssim = round(diversity(train), 4)
    floor = real_floor(train)
    record = {"benchmark": "quality", "data": str(a.data), "n_images": int(len(train)), "res": a.res,
              "train_ms_ssim": train_ms_ssim, "real_halves_floor": floor,
              "minutes": a.minutes, "n_samples": a.n, "results": rows, "date": time.strftime("%Y-%m-%d %H:%M"),
              "machine": {"cpus": os.cpu_count(), "load_avg": os.getloadavg(), "python": platform.python_version(),
                          "threads": os.environ.get("OMP_NUM_THREADS", "all cores")}}
    (RESULTS / f"quality_{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"\n{name}: {len(train)} images at {a.res} px, {a.minutes:g} min each, {a.n} samples "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"{'contender':<10} {'model':<8} {'steps':>6} {'img/s':>6} {'SWD':>6} {'levels':<20} {'copies':>7} "
          f"{'MS-SSIM':>7}")
    for contender, r in rows.items():
        levels = "/".join(f"{v:.0f}" for v in r["swd_levels"])
        print(f"{contender:<10} {r.get('model', 'dcgan'):<8} {r['steps']:>6} {r['images_per_s'] or 0:>6.0f} "
              f"{r['swd']:>6.1f} {levels:<20} {r['copy_share']:>7.1%} {r['ms_ssim']:>7.3f}")
    print(f"\nper level (px, largest first) against half of the real images, n = {floor['n']}, "
          f"mean over {floor['readings']} random halvings:")
    print(f"{'real floor':<10} " + " / ".join(f"{v:.1f}" for v in floor["swd_levels"]) + f"  (mean {floor['swd']:.1f})")
    for contender, r in rows.items():
        ratios = " / ".join(f"{v:.1f} ({v / f:.2f}x)" for v, f in zip(r["swd_half_levels"], floor["swd_levels"]))
        print(f"{contender:<10} {ratios}  (mean {r['swd_half']:.1f})")
    print(f"(training set MS-SSIM {train_ms_ssim:.3f}; wrote {RESULTS / f'quality_{name}.json'} and the grids)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
