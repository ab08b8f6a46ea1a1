"""Training throughput: GAN Studio's step against the classic DCGAN-example loop, same network, same device.

    python benchmarks/throughput.py [--seconds 20] [--rows mlp32,dcgan32,dcgan64,...,fastgan256] [--device auto]
    python benchmarks/throughput.py --rows dcgan64 --repeat 3     # best of three pairs: a shared or busy machine

Each measurement runs in its own process (so peak memory is its own) and the two loops alternate row by row
(and pair by pair with --repeat), so both see the same machine. The classic loop is a plain reimplementation of
pytorch/examples dcgan/main.py: Pillow decoding in 2 DataLoader workers every epoch, float32, NCHW, a sigmoid +
BCELoss discriminator, and `.item()` host syncs every step. GAN Studio's side trains the route a run of
``--minutes`` would (engine/routes.py: on the CPU the probe's measured choice, made in the first "ours" process of
a row and read from the shared cache by the later ones, as a user's second run would). Prints a table; writes
benchmarks/results/throughput[_cuda].json with the route, its reason and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
SHARED_MONET = ROOT.parent / "shared" / "datasets" / "monet300"
ROWS = {"mlp32": ("mlp", 32), "dcgan32": ("dcgan", 32), "dcgan64": ("dcgan", 64), "dcgan128": ("dcgan", 128),
        "fastgan64": ("fastgan", 64), "fastgan128": ("fastgan", 128), "fastgan256": ("fastgan", 256)}


def data_folder() -> Path:
    if SHARED_MONET.is_dir():
        return SHARED_MONET
    from gan_studio.data.demo import ensure_demo_folder

    return ensure_demo_folder()


def model_config(model: str, res: int):
    from gan_studio.config import ModelConfig

    cfg = ModelConfig(name=model)
    if model == "mlp":
        cfg.g_output = "tanh"
    return cfg


def peak_rss_mb() -> float:
    """Peak resident memory of this process plus its (loader) children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def timed_loop(step, sync, batch: int, seconds: float, warmup: int) -> tuple[float, int]:
    for _ in range(warmup):
        step()
    sync()
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        step()
        n += 1
    sync()
    return n * batch / (time.perf_counter() - start), n


# --------------------------------------------------------------------------------------------- GAN Studio
def measure_ours(model: str, res: int, batch: int, seconds: float, device: str, warmup: int,
                 minutes: float = 10.0) -> dict:
    import torch

    from gan_studio.config import RunConfig
    from gan_studio.engine import Trainer

    cfg = RunConfig()
    cfg.data.source, cfg.data.res = str(data_folder()), res
    cfg.model = model_config(model, res)
    # the route (precision, layout, small grids, compiling) of a run of this length; the loop below times steps
    cfg.train.batch, cfg.train.minutes, cfg.train.device = batch, minutes, device
    # The same work as the classic loop: no augmentation (small folders get it by default; it costs a few %)
    cfg.train.augment, cfg.train.quality_every = "off", 0
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("GAN_STUDIO_CACHE", str(Path(tmp) / "cache"))  # the parent shares one per run
        began = time.perf_counter()
        trainer = Trainer.new(cfg, out=Path(tmp) / "run")
        built = time.perf_counter() - began
        acc = torch.zeros(4, device=trainer.device)
        batch_now = cfg.train.batch

        def step():  # as the trainer's loop steps (engine/step_guard.py): eager first, then compiled if chosen
            nonlocal acc
            trainer.guard.before_step(trainer.step, batch_now)
            trainer.g_train, trainer.d_pair, trainer.d_for_g = trainer.guard.modules
            stats, failure, error = trainer.guard.attempt(trainer.train_step, trainer.step, batch_now)
            if failure is not None:
                raise RuntimeError(f"{failure}: {error}")
            acc += stats
            trainer.step += 1

        sync = (lambda: torch.cuda.synchronize()) if trainer.device.type == "cuda" else (lambda: None)
        if trainer.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        rate, n = timed_loop(step, sync, batch, seconds, warmup)
        flops = flops_per_image(trainer)
        return {"images_per_s": rate, "steps": n, "peak_rss_mb": peak_rss_mb(), "flops_per_image": flops,
                "precision": trainer._precision_name(), "device": str(trainer.device), "threads": trainer.threads,
                "route": trainer.route.to_json(), "setup_seconds": round(built, 2), "compiled": trainer.compiled,
                "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2 ** 20 if trainer.device.type == "cuda" else None}


def flops_per_image(trainer) -> float:
    """FLOPs of one training iteration (k D steps + 1 G step) per image, counted by PyTorch's FLOP counter."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    trainer.g_train, trainer.d_pair, trainer.d_for_g = trainer.guard.eager  # count the eager graph's operations
    with counter:
        trainer.train_step()
    return counter.get_total_flops() / trainer.config.train.batch


# ------------------------------------------------------------------------------------------- classic loop
class PilFolder:
    """What torchvision's ImageFolder does per item: open with Pillow, convert, resize, crop, to tensor."""

    def __init__(self, folder: Path, res: int) -> None:
        import torchvision.transforms as T

        exts = {".jpg", ".jpeg", ".png"}
        self.files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in exts)
        self.transform = T.Compose([T.Resize(res), T.CenterCrop(res), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int):
        from PIL import Image

        with Image.open(self.files[i]) as im:
            return self.transform(im.convert("RGB")), 0


def measure_classic(model: str, res: int, batch: int, seconds: float, device: str, warmup: int) -> dict:
    import torch
    from torch import nn

    from gan_studio.engine.device import resolve_device
    from gan_studio.models import build_models

    dev = resolve_device(device)
    torch.manual_seed(0)
    netG, netD_logits = build_models(model_config(model, res), 3, res, res)
    netD = nn.Sequential(netD_logits, nn.Sigmoid())  # the example's D ends in a sigmoid, trained with BCELoss
    netG.to(dev), netD.to(dev)
    criterion = nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loader = torch.utils.data.DataLoader(PilFolder(data_folder(), res), batch_size=batch, shuffle=True,
                                         num_workers=2, drop_last=True, persistent_workers=True)
    batches = iter(loader)

    def next_batch():
        nonlocal batches
        try:
            return next(batches)[0]
        except StopIteration:  # a new epoch: the files are decoded again
            batches = iter(loader)
            return next(batches)[0]

    def step():
        real = next_batch().to(dev)
        b = real.size(0)
        netD.zero_grad()
        label = torch.full((b,), 1.0, device=dev)
        out = netD(real).view(-1)
        err_real = criterion(out, label)
        err_real.backward()
        out.mean().item()
        noise = torch.randn(b, netG.z_dim, device=dev)
        fake = netG(noise)
        label.fill_(0.0)
        out = netD(fake.detach()).view(-1)
        err_fake = criterion(out, label)
        err_fake.backward()
        out.mean().item()
        optD.step()
        netG.zero_grad()
        label.fill_(1.0)
        out = netD(fake).view(-1)
        err_g = criterion(out, label)
        err_g.backward()
        out.mean().item()
        optG.step()
        (err_real + err_fake).item(), err_g.item()

    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    rate, n = timed_loop(step, sync, batch, seconds, warmup)
    return {"images_per_s": rate, "steps": n, "peak_rss_mb": peak_rss_mb(), "precision": "float32",
            "device": str(dev),
            "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2 ** 20 if dev.type == "cuda" else None}


# ------------------------------------------------------------------------------------------------- driver
def cpu_peak_gflops(bf16: bool) -> float:
    """This CPU's attainable peak, measured: a large matrix product in the training's precision (the clock in
    /proc/cpuinfo is the base clock, so cores x MHz x FLOPs/cycle undercounts turbo and overstates the share)."""
    import torch

    dtype = torch.bfloat16 if bf16 else torch.float32
    a, b = torch.randn(4096, 4096, dtype=dtype), torch.randn(4096, 4096, dtype=dtype)
    a @ b
    best = 0.0
    for _ in range(3):  # the best of three rounds: one round read 1,280 and another 2,014 GFLOP/s on an AMX Xeon
        start, n = time.perf_counter(), 8
        for _ in range(n):
            a @ b
        best = max(best, 2 * 4096 ** 3 * n / (time.perf_counter() - start) / 1e9)
    return best


# Dense bfloat16/float16 tensor-core peaks (TFLOP/s, without sparsity) from the vendors' data sheets.
GPU_PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10": 125.0,
                   "RTX 4090": 165.0, "RTX 3090": 71.0, "V100": 125.0, "T4": 65.0}


def gpu_peak_gflops(name: str) -> float | None:
    for key, tflops in GPU_PEAK_TFLOPS.items():
        if key in name:
            return tflops * 1000
    return None


def run_child(kind: str, row: str, args: argparse.Namespace, cache: str) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--rows", row, "--seconds", str(args.seconds),
           "--batch", str(args.batch), "--device", args.device, "--warmup", str(args.warmup),
           "--minutes", str(args.minutes)]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "GAN_STUDIO_CACHE": cache})
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_of(runs: list[dict]) -> dict:
    """The run with the most images per second, with every run's figure beside it (and the highest peak RSS)."""
    good = [r for r in runs if "images_per_s" in r]
    if not good:
        return runs[-1]
    best = dict(max(good, key=lambda r: r["images_per_s"]))
    best["all_images_per_s"] = [round(r["images_per_s"], 1) for r in good]
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in good)
    return best


def cpu_model() -> str:
    from gan_studio.engine.routes import cpu_name

    return cpu_name()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", default=",".join(ROWS))
    p.add_argument("--seconds", type=float, default=20.0, help="timed seconds per measurement")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--device", default="auto")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--repeat", type=int, default=1, help="pairs (ours, classic) per row, alternating; best of each")
    p.add_argument("--minutes", type=float, default=10.0,
                   help="the training length whose route GAN Studio's side takes (default 10, a default run's)")
    p.add_argument("--out", type=Path, default=None,
                   help="JSON to write (default results/throughput.json, or throughput_<device>.json on a GPU)")
    p.add_argument("--child", choices=["ours", "classic"], help=argparse.SUPPRESS)
    args = p.parse_args()
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    if args.child:
        model, res = ROWS[rows[0]]
        if args.child == "ours":
            result = measure_ours(model, res, args.batch, args.seconds, args.device, args.warmup, args.minutes)
        else:
            result = measure_classic(model, res, args.batch, args.seconds, args.device, args.warmup)
        print(json.dumps(result))
        return 0

    import torch

    from gan_studio.engine.device import cpu_has_native_bf16, device_name, resolve_device

    dev = resolve_device(args.device)
    results = []
    print(f"device: {device_name(dev)}; batch {args.batch}; {args.seconds:g} s per measurement; data {data_folder()}")
    cpu_peak = cpu_peak_gflops(cpu_has_native_bf16()) if dev.type == "cpu" else None
    if cpu_peak:
        print(f"measured peak (4096x4096 matrix product, training precision): {cpu_peak:.0f} GFLOP/s")
    out = args.out or RESULTS / ("throughput.json" if dev.type == "cpu" else f"throughput_{dev.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "device": device_name(dev), "cpu": cpu_model(),
            "torch": torch.__version__, "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "batch": args.batch, "seconds": args.seconds, "repeat": args.repeat, "route_minutes": args.minutes,
            "peak_gflops": cpu_peak or gpu_peak_gflops(device_name(dev)),
            "peak_kind": "measured bf16/fp32 matrix product" if cpu_peak else "vendor data sheet",
            "small_grid_policy": os.environ.get("GAN_STUDIO_SMALL_GRID", "auto"),
            "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    cache = tempfile.mkdtemp(prefix="gan_studio_bench_")  # one cache (decoded images, routes) for the run
    header = f"{'row':<10}{'ours img/s':>12}{'classic img/s':>15}{'ratio':>8}{'ours RSS MB':>13}" \
             f"{'classic RSS MB':>16}" \
             f"{'GFLOP/img':>11}{'share of peak':>15}"
    print(header)
    for row in rows:
        pairs = [(run_child("ours", row, args, cache), run_child("classic", row, args, cache))
                 for _ in range(max(1, args.repeat))]
        ours, classic = best_of([o for o, _ in pairs]), best_of([c for _, c in pairs])
        ratio = ours.get("images_per_s", 0) / classic["images_per_s"] if classic.get("images_per_s") else None
        share = None
        if "flops_per_image" in ours:
            peak = cpu_peak if dev.type == "cpu" else gpu_peak_gflops(device_name(dev))
            if peak:
                share = ours["images_per_s"] * ours["flops_per_image"] / (peak * 1e9)
        results.append({"row": row, "ours": ours, "classic": classic, "ratio": ratio, "share_of_peak": share})
        meta["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        # written after every row: a run cut off by a time limit (gpu_check.sh) keeps the rows it finished
        out.write_text(json.dumps({"meta": meta, "rows": results}, indent=2) + "\n")
        if "error" in ours or "error" in classic:
            print(f"{row:<10} error: {ours.get('error') or classic.get('error')}")
            continue
        gpu = f"  GPU MB ours {ours['peak_gpu_mb']:.0f} classic {classic['peak_gpu_mb']:.0f}" \
            if ours.get("peak_gpu_mb") is not None else ""
        print(f"{row:<10}{ours['images_per_s']:>12.1f}{classic['images_per_s']:>15.1f}{ratio:>8.2f}"
              f"{ours['peak_rss_mb']:>13.0f}{classic['peak_rss_mb']:>16.0f}{ours['flops_per_image'] / 1e9:>11.2f}"
              f"{(f'{share * 100:.1f}%' if share is not None else 'n/a'):>15}{gpu}")
        route = ours.get("route") or {}
        print(f"{'':<10}route: {route.get('precision')}, {'channels-last' if route.get('channels_last') else 'NCHW'}"
              f", small-grid {route.get('small_grid')}, compile {route.get('compile')} ({route.get('source')}: "
              f"{route.get('reason')}); {ours.get('threads')} threads")
    shutil.rmtree(cache, ignore_errors=True)
    print(f"load average before {meta['load_average_before']}, after {meta.get('load_average_after')}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
