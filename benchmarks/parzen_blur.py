"""How much does the Parzen-window estimate reward blur? Real MNIST digits as centres, sharp and blurred.

    python benchmarks/parzen_blur.py          # about two minutes on one CPU core

The paper's yardstick (gan_studio.engine.parzen, the protocol of paper_mnist.py: sigma from logspace(-1, 0, 10)
chosen on the 1,000 held-out training digits, mean log-likelihood of the 10,000 test digits) applied to the
4,000 training digits themselves and to the same digits through torchvision's Gaussian blur. No generator is
involved: these rows say what the estimate measures. Theis, van den Oord and Bethge ("A note on the evaluation
of generative models", 2016) made the general point; this puts numbers on our split.

The second table asks what a perfect generator would score: its 10,000 samples would be 10,000 fresh real
digits. We have 5,000 training and 10,000 test digits, so the centres are drawn from a pool of the 4,000
training digits and one half of the test set, and the other half is the test set of the estimate (sigma again
chosen on the 1,000 validation digits); then the halves swap and the two figures are averaged.
Writes benchmarks/results/parzen_blur.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULTS = ROOT / "benchmarks" / "results"


def blurred(digits: np.ndarray, sigma: float) -> np.ndarray:
    """uint8 (N, 28, 28) -> float64 (N, 784) in [0, 1], through a 7x7 Gaussian blur of this sigma (pixels)."""
    from torchvision.transforms.functional import gaussian_blur

    x = torch.from_numpy(digits.astype(np.float32) / 255.0).unsqueeze(1)
    if sigma > 0:
        x = gaussian_blur(x, kernel_size=[7, 7], sigma=[sigma, sigma])
    return x.reshape(len(digits), -1).double().numpy()


def real_centres(train_x: np.ndarray, valid_x: np.ndarray, test_x: np.ndarray, counts: list[int],
                 seed: int = 0) -> list[dict]:
    """Parzen estimates with ``n`` real digits as centres, drawn from the training digits and one half of the
    test digits and evaluated on the other half, both ways round; rows of the mean over the two halves."""
    from gan_studio.engine.parzen import parzen_evaluate

    half = len(test_x) // 2
    halves = [(test_x[:half], test_x[half:]), (test_x[half:], test_x[:half])]
    rng = np.random.default_rng(seed)
    rows = []
    print(f"\n{'centres (real digits, test half held out)':<40}{'test LL':>10}{'± se':>8}{'sigma':>8}")
    for n in counts:
        results = []
        for pool_half, held in halves:
            pool = np.concatenate([train_x, pool_half])
            if n > len(pool):
                raise SystemExit(f"parzen_blur: at most {len(pool)} real centres, asked for {n}")
            results.append(parzen_evaluate(pool[rng.permutation(len(pool))[:n]], valid_x, held))
        ll = float(np.mean([r.test_ll for r in results]))
        se = float(np.sqrt(np.mean([r.test_ll_se ** 2 for r in results])) / np.sqrt(2))
        rows.append({"centres": n, "test_ll": ll, "test_ll_se": se, "per_half": [r.test_ll for r in results],
                     "sigmas": [r.sigma for r in results]})
        print(f"{f'{n:,} real digits':<40}{ll:>10.1f}{se:>8.2f}{results[0].sigma:>8.3f}")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sigmas", default="0,0.5,0.7,1.0,1.3", help="blur widths in pixels (0: the digits as they are)")
    p.add_argument("--counts", default="1000,2000,4000,9000",
                   help="numbers of real digits as centres in the second table (at most 9,000)")
    p.add_argument("--out", type=Path, default=RESULTS / "parzen_blur.json")
    args = p.parse_args(argv)
    import paper_mnist

    from gan_studio.engine.parzen import parzen_evaluate

    if not paper_mnist.MNIST.is_dir():
        print(f"parzen_blur: {paper_mnist.MNIST} is not here; nothing to measure", file=sys.stderr)
        return 1
    train, valid, test = paper_mnist.load_splits()
    valid_x, test_x = paper_mnist.unit(valid), paper_mnist.unit(test)
    rows = []
    print(f"{'centres (4,000 training digits)':<40}{'test LL':>10}{'± se':>8}{'sigma':>8}")
    for blur in (float(s) for s in args.sigmas.split(",")):
        started = time.perf_counter()
        r = parzen_evaluate(blurred(train, blur), valid_x, test_x)
        name = "as they are" if blur == 0 else f"blurred, {blur:g} px Gaussian"
        rows.append({"centres": name, "blur_px": blur, "test_ll": r.test_ll, "test_ll_se": r.test_ll_se,
                     "sigma": r.sigma, "seconds": round(time.perf_counter() - started, 1)})
        print(f"{name:<40}{r.test_ll:>10.1f}{r.test_ll_se:>8.2f}{r.sigma:>8.3f}")
    real = real_centres(paper_mnist.unit(train), valid_x, test_x, [int(n) for n in args.counts.split(",")])
    result = {"what": "Parzen-window test log-likelihood (paper protocol) with real training digits as centres",
              "centres": len(train), "valid_digits": len(valid_x), "test_digits": len(test_x),
              "paper_adversarial_nets": 225, "rows": rows,
              "real_digits_by_count": real, "date": time.strftime("%Y-%m-%d %H:%M")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
