"""How much FastGAN's self-supervision acts on the discriminator: the reconstruction loss's gradient on D's trunk
(the stem and the down blocks below the features the decoders read, which both losses train) as a share of the
adversarial (hinge) loss's gradient.

    python benchmarks/self_supervision.py [--steps 200] [--at 0,40,200] [DATA_DIR]

Trains FastGAN 64 on the data set (monet300 where ../shared is present, else the built-in demo) with each
self-supervision variant ("whole": one decoder, the whole image at 32 px, squared error; "whole+crop": Liu et al.'s
whole-image and random-quadrant decoders, absolute error), the defaults otherwise, and at the given steps measures
|grad_trunk(recon_weight x recon)| / |grad_trunk(hinge)| on one real and one fake batch (the norms over all trunk
parameters). Writes benchmarks/results/self_supervision.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
SHARED_MONET = ROOT.parent / "shared" / "datasets" / "monet300"


def trunk_share(trainer) -> float:
    """|d(recon_weight x recon)/d trunk| / |d hinge/d trunk| for a fresh real and fake batch, in float32."""
    t, m = trainer.config.train, trainer.config.model
    d = trainer.D
    d.requires_grad_(True)  # the trainer's G step leaves D frozen
    trunk = [p for name, p in d.named_parameters() if name.startswith(("stem", "downs"))]
    gen = torch.Generator(device=trainer.device).manual_seed(12345)
    real = trainer.data.sample(t.batch, gen)
    from gan_studio.models import sample_noise

    with torch.no_grad():
        fake = trainer.G(sample_noise(t.batch, m.z_dim, m.noise, gen, trainer.device))
    real_logits, recon = d.reconstruction_loss(real)
    hinge = trainer.d_loss(real_logits.float(), d(fake).float())
    g_adv = torch.autograd.grad(hinge, trunk, retain_graph=True)
    g_rec = torch.autograd.grad(t.recon_weight * recon, trunk, allow_unused=True)
    # over the trunk the reconstruction reaches (the layers below the last feature map a decoder reads)
    shared = [(a, r) for a, r in zip(g_adv, g_rec) if r is not None]
    norm = lambda gs: torch.sqrt(sum((g.float() ** 2).sum() for g in gs))  # noqa: E731
    return float(norm([r for _, r in shared]) / norm([a for a, _ in shared]))


def measure(data: str, variant: str, steps: int, at: list[int]) -> dict:
    from gan_studio.data.summary import summarize_source
    from gan_studio.defaults import defaults_for
    from gan_studio.engine import Trainer

    cfg = defaults_for(summarize_source(data), "cpu", model="fastgan")
    cfg.data.source, cfg.data.res = data, 64
    cfg.model.d_self_supervision = variant
    cfg.train.steps, cfg.train.quality_every, cfg.train.sample_every = steps, 0, 100_000
    trainer = Trainer.new(cfg, out=Path(tempfile.mkdtemp()) / "run")
    shares, began = {}, time.perf_counter()
    for step in range(steps + 1):
        if step in at:
            shares[step] = round(trunk_share(trainer), 4)
        if step < steps:
            trainer.train_step()
            trainer.step += 1
    return {"variant": variant, "shares": shares, "seconds": round(time.perf_counter() - began, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--at", default="0,40,200")
    args = ap.parse_args()
    if args.data:
        data = args.data
    elif SHARED_MONET.is_dir():
        data = str(SHARED_MONET)
    else:
        from gan_studio.data.demo import ensure_demo_folder

        data = str(ensure_demo_folder())
    at = [int(a) for a in args.at.split(",")]
    rows = [measure(data, v, args.steps, at) for v in ("whole", "whole+crop")]
    print(f"{'variant':<12}" + "".join(f"{'step ' + str(s):>12}" for s in at))
    for r in rows:
        print(f"{r['variant']:<12}" + "".join(f"{r['shares'][s]:>11.1%} " for s in at))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"data": data, "rows": rows, "cpu": platform.processor() or platform.machine(), "threads":
           torch.get_num_threads(), "load_average": os.getloadavg(), "torch": torch.__version__,
           "date": time.strftime("%Y-%m-%d %H:%M")}
    (RESULTS / "self_supervision.json").write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
