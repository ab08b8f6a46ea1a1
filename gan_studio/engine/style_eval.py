"""A conditional run judged style by style: each style's samples against that style's own images (SWD at equal n,
copies), and how often our style meter (engine/style_meter.py, trained here on the real images) calls them that
style, beside its accuracy on held-out real images."""

from __future__ import annotations

from typing import Any

import numpy as np

from gan_studio.engine.metrics import memorisation, swd


def evaluate_styles(gen: Any, train: np.ndarray, labels: np.ndarray, n: int = 300, seed: int = 0,
                    meter_seed: int = 0) -> dict[str, Any]:
    """Per style of ``gen`` (a LoadedGenerator with styles): min(n, the style's count) samples of that style
    (seeds from ``seed``) against the style's images among ``train`` (uint8 (N, C, H, W), ``labels`` their style
    indices). Returns {"styles": {name: figures}, "meter": held-out accuracy per style}."""
    from gan_studio.engine.style_meter import train_style_meter

    names = gen.styles
    meter = train_style_meter(train, labels, names, seed=meter_seed)
    out: dict[str, Any] = {}
    for s, name in enumerate(names):
        real = train[labels == s]
        count = min(n, len(real))
        vector = np.eye(len(names), dtype=np.float32)[s]
        samples = gen.images(list(range(seed, seed + count)), style=vector)
        result = swd(samples, real, seed=seed)
        out[name] = {"n": result.n, "swd": round(result.mean, 3), "swd_levels": [round(v, 2) for v in result.levels],
                     "copy_share": memorisation(samples, real).summary()["copy_share"],
                     "style_accuracy": round(meter.accuracy(samples, s), 4),
                     "meter_heldout_accuracy": round(meter.heldout_accuracy[name], 4)}
    return {"styles": out, "meter": {"heldout_accuracy": meter.heldout_accuracy,
                                     "heldout_count": meter.heldout_count}}
