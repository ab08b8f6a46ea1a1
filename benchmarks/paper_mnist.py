"""Table 1 of Goodfellow et al. (2014) inside GAN Studio: the paper's MNIST GAN, its Parzen-window estimate.

    python benchmarks/paper_mnist.py                      # the paper-mnist preset as it is ('paper')
    python benchmarks/paper_mnist.py --name stabilised --optimizer adam --instance-noise 0.5
    python benchmarks/paper_mnist.py --name paper --evaluate-only    # evaluate a finished --work again

Trains the ``paper-mnist`` preset through the project's Trainer on 4,000 of the 5,000 digits of
``../shared/datasets/mnist/train-5k.csv.gz``; the other 1,000 (the file's last rows) are the validation set
that chooses the Parzen sigma, as the paper's code chooses it on 1,000 held-out digits. The test set is the
10,000 digits of ``t10k-images-idx3-ubyte.gz``, used only for the reported figures: no choice is made on it.
The paper trained on 50,000 digits; we have 4,000.

The generator is saved every ``--eval-every`` minutes of training and each copy is evaluated after training
(so evaluation never eats training time): 10,000 samples as centres, sigma from logspace(-1, 0, 10) on the
validation digits, the mean test log-likelihood and its standard error. At the end of training the candidates
are G, its EMA (the Trainer's), uniform averages of G's weights over the run's tail, and means of the EMA
snapshots; the one with the best validation log-likelihood is reported, and between runs (each stored under
``--name`` in the results file) again the best on validation. The same estimate with the 4,000 real training
digits as centres is the reference. Writes benchmarks/results/paper_mnist.json and paper_mnist_samples.png
(the paper's figure 2: samples, and beside the last column each one's nearest training digit), and
paper_mnist_samples_NAME.png for every run.

Three details of the paper's code (pylearn2 mnist.yaml) are part of the preset, as the app trains it
(``--no-pylearn2-details`` turns them off, for comparison):
  * G's sigmoid output bias starts at the logit of the training digits' mean pixel values
    (``init_bias: init_sigmoid_bias_from_marginals``, marginals clipped to [1e-3, 1 - 1e-3]; ``g_bias_from_data``);
  * D's weights start uniform in [-0.005, 0.005] (``irange: .005``; G keeps .05; ``d_init_range``);
  * D sees pixels in [0, 1], as pylearn2's MNIST gives them, not in [-1, 1]: input dropout then zeroes a
    pixel to black, the background, rather than to mid-grey (``d_input: unit``).
``--instance-noise S`` adds Gaussian noise of standard deviation S (pixel units) to every input of D while
training (pylearn2's ``noise_both``), which the Trainer cannot do yet either.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MNIST = ROOT.parent / "shared" / "datasets" / "mnist"
RESULTS = ROOT / "benchmarks" / "results"
N_VALID = 1000
N_SAMPLES = 10_000
PAPER_TABLE = [  # Table 1 of the paper: Parzen window-based log-likelihood estimates on MNIST
    ("DBN (Bengio et al. 2013)", 138, 2),
    ("Stacked CAE (Bengio et al. 2013)", 121, 1.6),
    ("Deep GSN (Bengio et al. 2014)", 214, 1.1),
    ("Adversarial nets (Goodfellow et al. 2014)", 225, 2),
]


# ------------------------------------------------------------------------------------------------- data
def load_splits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 (4000, 28, 28) training, (1000, 28, 28) validation and (10000, 28, 28) test digits."""
    from gan_studio.data.arrays import read_array_file

    digits = read_array_file(MNIST / "train-5k.csv.gz")
    test = read_array_file(MNIST / "t10k-images-idx3-ubyte.gz")
    return digits[:-N_VALID], digits[-N_VALID:], test


def write_idx(path: Path, images: np.ndarray) -> Path:
    """The training split as an IDX file, so the Trainer loads exactly these digits like any MNIST file."""
    header = b"\x00\x00\x08\x03" + np.array(images.shape, dtype=">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + np.ascontiguousarray(images, np.uint8).tobytes())
    return path


def unit(images: np.ndarray) -> np.ndarray:
    """uint8 digits -> float64 (N, 784) in [0, 1], the pixel scale of the paper's Parzen estimate."""
    return images.reshape(len(images), -1).astype(np.float64) / 255.0


# ------------------------------------------------------------------------------------------- the model
def add_instance_noise(D: torch.nn.Module, std: float) -> None:
    """Gaussian noise of ``std`` (in [0, 1] pixel units) on everything D sees while training, real and generated
    alike (pylearn2's AdversaryCost2 ``noise_both``; 'instance noise', Sonderby et al. 2017): the two
    distributions then overlap, so D cannot become certain and G keeps a useful gradient."""
    forward = D.forward
    D.forward = lambda x: forward(x + (2.0 * std) * torch.randn_like(x) if D.training else x)  # x is in [-1, 1]


@torch.no_grad()
def generate(G: torch.nn.Module, n: int, seed: int, z_dim: int, noise: str) -> np.ndarray:
    """n samples of G as float64 (n, 784) in [0, 1], in float32 (no autocast), from their own noise stream."""
    from gan_studio.models import sample_noise

    gen = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, n, 1000):
        z = sample_noise(min(1000, n - start), z_dim, noise, gen)
        out.append(((G(z).float() + 1.0) / 2.0).reshape(len(z), -1).double())
    return torch.cat(out).clamp_(0, 1).numpy()


# ------------------------------------------------------------------------------------------- training
def train(args: argparse.Namespace, work: Path, train_digits: np.ndarray) -> dict:
    from gan_studio.config import RunConfig
    from gan_studio.engine import Failed, Finished, StepStats, Trainer
    from gan_studio.presets import apply_preset

    cfg = apply_preset(RunConfig(), "paper-mnist")
    cfg.data.source = str(write_idx(work / "train-4k-idx3-ubyte.gz", train_digits))
    cfg.train.minutes = args.minutes
    cfg.train.seed = args.seed
    cfg.train.amp = "off"  # float32 as the paper; bf16 autocast measured no faster for these layers here
    cfg.train.log_every = 100
    cfg.train.sample_every = 2000
    if args.g_loss:
        cfg.train.g_loss = args.g_loss
    if args.optimizer == "adam":  # the investigation's variant: Adam as DCGAN, no SGD schedules
        cfg.train.optimizer, cfg.train.beta1 = "adam", args.beta1
        cfg.train.lr_g, cfg.train.lr_d = args.lr_g, args.lr_d
        cfg.train.lr_decay, cfg.train.momentum_final = 1.0, None
    if args.ema_decay is not None:
        cfg.train.ema_decay = args.ema_decay
    if args.no_pylearn2_details:  # the project's MLP defaults instead of mnist.yaml's three details
        cfg.model.d_init_range, cfg.model.g_bias_from_data, cfg.model.d_input = 0.05, False, "symmetric"
    trainer = Trainer.new(cfg, out=work / "run")
    if args.instance_noise:
        add_instance_noise(trainer.D, args.instance_noise)
    snapshots: list[dict] = []
    curve: list[dict] = []
    every = args.eval_every * 60
    next_mark = every
    load_start = os.getloadavg()
    cpu_start = time.process_time()

    # Uniform averages of G's weights from several starting times to the end, sampled every log_every steps
    # ("tail averaging", Yazici et al. 2019): the last snapshot's averages are candidates chosen on validation.
    budget = args.minutes * 60
    sums: dict[str, list] = {f"avg_from_{round(f * args.minutes)}min": [f * budget, None, 0]
                             for f in (1 / 6, 1 / 3, 1 / 2, 2 / 3)}

    def accumulate(seconds: float) -> None:
        for acc in sums.values():
            if seconds >= acc[0]:
                state = {k: v.detach().double() for k, v in trainer.G.state_dict().items()}
                acc[1] = state if acc[1] is None else {k: acc[1][k] + state[k] for k in state}
                acc[2] += 1

    def snapshot(step: int, seconds: float) -> None:
        path = work / f"G_{step:08d}.pt"
        averages = {name: {k: (v / n).float() for k, v in total.items()}
                    for name, (_, total, n) in sums.items() if n}
        torch.save({"G": trainer.G.state_dict(), "G_ema": trainer.G_ema.state_dict(), "averages": averages}, path)
        snapshots.append({"step": step, "seconds": round(seconds, 1), "path": str(path)})
        print(f"  snapshot at step {step}, {seconds / 60:.1f} min", flush=True)

    # Ctrl-C or SIGTERM: stop after this step, keep the snapshots and evaluate them
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: trainer.request_stop())
    finished = None
    for event in trainer.run():
        if isinstance(event, StepStats):
            curve.append({"step": event.step, "seconds": round(event.seconds, 1), "loss_d": event.loss_d,
                          "loss_g": event.loss_g, "d_real": event.d_real, "d_fake": event.d_fake})
            if event.step % 1000 == 0:
                print(f"step {event.step} {event.seconds / 60:.1f} min D {event.loss_d:.3f} G {event.loss_g:.3f} "
                      f"D(x) {event.d_real:.2f} D(G(z)) {event.d_fake:.2f} lr {event.lr_g:.4f} "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
            accumulate(event.seconds)
            if event.seconds >= next_mark:
                snapshot(event.step, event.seconds)
                next_mark += every
        elif isinstance(event, Finished):
            finished = event
        elif isinstance(event, Failed):
            raise SystemExit(f"training failed: {event.message}")
    assert finished is not None
    if not snapshots or snapshots[-1]["step"] != finished.step:
        snapshot(finished.step, finished.seconds)
    return {"config": cfg.to_dict(), "instance_noise": args.instance_noise, "steps": finished.step,
            "seconds": finished.seconds, "snapshots": snapshots,
            "stats": curve[:: max(1, len(curve) // 200)], "loadavg_start": load_start, "loadavg_end": os.getloadavg(),
            "cpu_minutes": round((time.process_time() - cpu_start) / 60, 2),
            "pylearn2_details": not args.no_pylearn2_details}


# ----------------------------------------------------------------------------------------- evaluation
def evaluate(info: dict, train_digits: np.ndarray, valid: np.ndarray, test: np.ndarray, seed: int) -> dict:
    """Parzen estimates of G and its EMA at every snapshot; at the last one also of the weight averages (kept
    during training, or of the EMA snapshots); every candidate gets its validation and its test figures."""
    from gan_studio.config import RunConfig
    from gan_studio.engine.parzen import parzen_evaluate
    from gan_studio.models import build_models

    cfg = RunConfig.from_dict(info["config"])
    G, _ = build_models(cfg.model, 1, 28, 28)
    v, t = unit(valid), unit(test)
    snaps = info["snapshots"]
    states = [torch.load(snap["path"], weights_only=True) for snap in snaps]
    for i, (snap, state) in enumerate(zip(snaps, states)):
        candidates = {"G": state["G"], "G_ema": state["G_ema"]}
        if i == len(snaps) - 1:
            candidates.update(state.get("averages", {}))
            for j in range(len(snaps) - 2):  # the mean of the EMA snapshots from snapshot j to the last
                tail = [s["G_ema"] for s in states[j:]]
                name = f"ema_snapshots_from_{snaps[j]['seconds'] / 60:.0f}min"
                candidates[name] = {k: sum(s[k] for s in tail) / len(tail) for k in tail[0]}
        for which, weights in candidates.items():
            G.load_state_dict(weights)
            G.eval()
            started = time.perf_counter()
            samples = generate(G, N_SAMPLES, seed + 12345, cfg.model.z_dim, cfg.model.noise)
            r = parzen_evaluate(samples, v, t)
            snap[which] = {"test_ll": r.test_ll, "test_ll_se": r.test_ll_se, "sigma": r.sigma,
                           "valid_ll": r.valid_lls[r.sigma], "eval_seconds": round(time.perf_counter() - started, 1)}
            print(f"  step {snap['step']} ({snap['seconds'] / 60:.1f} min) {which}: test LL {r.test_ll:.1f} "
                  f"± {r.test_ll_se:.1f}, sigma {r.sigma:.4f}, valid LL {r.valid_lls[r.sigma]:.1f}", flush=True)
        snap["candidates"] = list(candidates)
    real = parzen_evaluate(unit(train_digits), v, t)
    return {"test_ll": real.test_ll, "test_ll_se": real.test_ll_se, "sigma": real.sigma,
            "valid_ll": real.valid_lls[real.sigma]}


def final_weights(info: dict, which: str) -> dict:
    """The weights of candidate ``which`` at the last snapshot (see evaluate)."""
    snaps = info["snapshots"]
    state = torch.load(snaps[-1]["path"], weights_only=True)
    if which in ("G", "G_ema"):
        return state[which]
    if which in state.get("averages", {}):
        return state["averages"][which]
    start = next(j for j, s in enumerate(snaps) if which == f"ema_snapshots_from_{s['seconds'] / 60:.0f}min")
    tail = [torch.load(s["path"], weights_only=True)["G_ema"] for s in snaps[start:]]
    return {k: sum(s[k] for s in tail) / len(tail) for k in tail[0]}


def sample_grid(G: torch.nn.Module, cfg, train_digits: np.ndarray, path: Path, seed: int,
                rows: int = 10, cols: int = 6) -> None:
    """The paper's figure 2: rows x cols samples, then (after a gap) the nearest training digit of each sample
    of the last column, by Euclidean distance in pixel space."""
    from PIL import Image

    s = generate(G, rows * cols, seed, cfg.model.z_dim, cfg.model.noise).reshape(rows, cols, 28, 28)
    train = unit(train_digits)
    last = s[:, -1].reshape(rows, -1)
    d2 = (last ** 2).sum(1, keepdims=True) + (train ** 2).sum(1) - 2 * last @ train.T
    nearest = train[d2.argmin(1)].reshape(rows, 28, 28)
    pad, gap = 2, 8
    h = rows * (28 + pad) + pad
    w = (cols + 1) * (28 + pad) + pad + gap
    canvas = np.ones((h, w))
    for r in range(rows):
        y = pad + r * (28 + pad)
        for c in range(cols):
            x = pad + c * (28 + pad)
            canvas[y:y + 28, x:x + 28] = s[r, c]
        x = pad + cols * (28 + pad) + gap
        canvas[y:y + 28, x:x + 28] = nearest[r]
    canvas[:, pad + cols * (28 + pad) + gap // 2 - 1: pad + cols * (28 + pad) + gap // 2 + 1] = 0.5  # a rule
    img = Image.fromarray((canvas * 255).round().astype(np.uint8)).resize((w * 2, h * 2), Image.NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


# ------------------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=60.0, help="training wall-clock minutes (default 60)")
    p.add_argument("--eval-every", type=float, default=10.0, help="minutes between saved generators (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: on this shared 2-core CPU a team of 2 threads measured up to "
                        "10x slower per step whenever another process was busy)")
    p.add_argument("--g-loss", choices=["non_saturating", "minimax"], help="override the preset's loss")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd",
                   help="sgd: the preset as it is; adam: Adam with --lr-g/--lr-d/--beta1 instead")
    p.add_argument("--lr-g", type=float, default=2e-4)
    p.add_argument("--lr-d", type=float, default=2e-4)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--instance-noise", type=float, default=0.0, help="std of Gaussian noise on D's inputs")
    p.add_argument("--ema-decay", type=float, help="the Trainer's EMA decay (default: the config's 0.999)")
    p.add_argument("--name", default="paper", help="this run's name in the results file (default 'paper')")
    p.add_argument("--no-pylearn2-details", action="store_true", help="the project's MLP as built, no mnist.yaml "
                                                                     "init/bias/pixel-scale details")
    p.add_argument("--work", type=Path, default=Path("/tmp/paper_mnist"), help="run folder and snapshots")
    p.add_argument("--evaluate-only", action="store_true", help="re-evaluate the snapshots of an earlier --work")
    p.add_argument("--json", type=Path, default=RESULTS / "paper_mnist.json")
    p.add_argument("--grid", type=Path, default=RESULTS / "paper_mnist_samples.png")
    args = p.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # the Trainer's configure_threads then keeps our count
    torch.set_num_threads(args.threads)
    os.environ.setdefault("GAN_STUDIO_CACHE", str(args.work / "cache"))
    os.environ.setdefault("GAN_STUDIO_RUNS", str(args.work / "runs"))
    args.work.mkdir(parents=True, exist_ok=True)
    train_digits, valid, test = load_splits()

    info_path = args.work / "train_info.json"
    if args.evaluate_only:
        info = json.loads(info_path.read_text())
    else:
        info = train(args, args.work, train_digits)
        info_path.write_text(json.dumps(info, indent=1))
    print(f"trained {info['steps']} steps in {info['seconds'] / 60:.1f} min; evaluating", flush=True)
    real = evaluate(info, train_digits, valid, test, args.seed)
    final = info["snapshots"][-1]
    # G, its EMA or a weight average: the highest validation log-likelihood at the end (never the test set)
    which = max(final["candidates"], key=lambda w: final[w]["valid_ll"])

    from gan_studio.config import RunConfig
    from gan_studio.models import build_models

    cfg = RunConfig.from_dict(info["config"])
    G, _ = build_models(cfg.model, 1, 28, 28)
    G.load_state_dict(final_weights(info, which))
    grid_path = args.grid.with_name(f"{args.grid.stem}_{args.name}{args.grid.suffix}")
    sample_grid(G.eval(), cfg, train_digits, grid_path, args.seed)

    t = cfg.train
    run = {
        **{k: final[which][k] for k in ("test_ll", "test_ll_se", "sigma", "valid_ll")}, "generator": which,
        "candidates_at_end": {w: final[w] for w in final["candidates"]},
        "minutes": round(info["seconds"] / 60, 2), "steps": info["steps"],
        "steps_per_second": round(info["steps"] / info["seconds"], 2),
        "curve": [{k: s[k] for k in ("step", "seconds", "G", "G_ema")} for s in info["snapshots"]],
        "settings": {"preset": "paper-mnist", "optimizer": t.optimizer, "lr_g": t.lr_g, "lr_d": t.lr_d,
                     "beta1": t.beta1 if t.optimizer == "adam" else None, "g_loss": t.g_loss,
                     "instance_noise": info.get("instance_noise", 0.0),
                     "ema_decay": t.ema_decay, "pylearn2_details": info["pylearn2_details"],
                     "seed": args.seed, "precision": "float32", "threads": args.threads},
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "loadavg_start": info["loadavg_start"], "loadavg_end": info["loadavg_end"],
                    "process_cpu_minutes": info.get("cpu_minutes")},
        "samples_png": str(grid_path.relative_to(ROOT)) if grid_path.is_relative_to(ROOT) else str(grid_path),
        "training_stats": info["stats"],
    }
    result = json.loads(args.json.read_text()) if args.json.exists() else {}
    runs = result.get("runs", {})
    runs[args.name] = run
    best = max(runs, key=lambda n: runs[n]["valid_ll"])  # between runs too: by validation only
    result = {
        **{k: runs[best][k] for k in ("test_ll", "test_ll_se", "sigma", "valid_ll", "minutes", "steps")},
        "selected_run": best, "selected_by": "validation log-likelihood (1,000 held-out training digits)",
        "real_training_digits_as_centres": real,
        "paper_table": [{"model": m, "ll": ll, "se": se} for m, ll, se in PAPER_TABLE],
        "protocol": {"train_digits": len(train_digits), "valid_digits": len(valid), "test_digits": len(test),
                     "centres": N_SAMPLES, "sigmas": "numpy.logspace(-1, 0, 10), chosen on the validation digits",
                     "paper_train_digits": 50_000, "pixel_scale": "[0, 1]"},
        "runs": runs,
    }
    if best == args.name:
        shutil.copyfile(grid_path, args.grid)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print_table(result)
    return 0


def print_table(r: dict) -> None:
    print("\nParzen window-based log-likelihood estimates, MNIST test set (nats)")
    for m, ll, se in PAPER_TABLE:
        print(f"  {m:<56} {ll:>6.0f} ± {se}")
    for name, run in r["runs"].items():
        label = f"GAN Studio '{name}', {run['minutes']:.0f} min, {run['steps']} steps ({run['generator']})"
        print(f"  {label:<56} {run['test_ll']:>6.1f} ± {run['test_ll_se']:.1f}  (sigma {run['sigma']:.3f}, "
              f"valid {run['valid_ll']:.1f})")
    real = r["real_training_digits_as_centres"]
    print(f"  {'4,000 real training digits as centres':<56} {real['test_ll']:>6.1f} ± {real['test_ll_se']:.1f}"
          f"  (sigma {real['sigma']:.3f})")
    print("  (trained on 4,000 digits; the paper on 50,000)")


if __name__ == "__main__":
    sys.exit(main())
