"""The one defaults policy: "this data set on this device" -> a full RunConfig. The command line and the app
both call ``defaults_for``; options the user sets go on top of what it returns.

    summary = summarize_source(folder)                   # gan_studio.data.summary
    cfg = defaults_for(summary, device="cpu")            # model, size, shape, widths, rates, batch, length
    why_default(summary)                                 # "FastGAN: made for folders under 2,000 images; ..."
"""

from __future__ import annotations

from gan_studio.config import RunConfig
from gan_studio.data.summary import DataSummary
from gan_studio.families import FAMILIES, SMALL_DATASET, ModelFamily
from gan_studio.presets import PRESETS, apply_preset

DEFAULT_MINUTES = 10.0
GPU_LOG_EVERY = 10  # steps between statistics on a GPU (each read is a host sync) ...
CPU_LOG_EVERY = 2  # ... and on a CPU, where a sync costs nothing and the curves then appear within seconds
ASPECTS = (("2:1", 1.8, None), ("3:2", 1.35, 1.8), ("1:1", 0.74, 1.35), ("2:3", 0.56, 0.74), ("1:2", None, 0.56))


def choose_family(summary: DataSummary) -> tuple[ModelFamily, str]:
    """The family a new run uses when the user names none, and why."""
    if summary.gray and 0 < summary.median_side < 32:
        return FAMILIES["mlp"], (f"MLP GAN: {FAMILIES['mlp'].best_for}; these are grayscale, "
                                 f"{summary.median_side} px (the original paper's setting)")
    fam = FAMILIES["fastgan" if summary.count < SMALL_DATASET else "dcgan"]
    # (no source: the form's placeholder before a folder is loaded, whose count means nothing)
    return fam, f"{fam.title}: {fam.best_for}" + (f"; this one has {summary.count:,}" if summary.source else "")


def choose_resolution(fam: ModelFamily, summary: DataSummary) -> int:
    """The family's default size, or the largest it offers that most images reach without upscaling (never below
    its smallest)."""
    reachable = [r for r in fam.resolutions if r <= min(fam.default_res, summary.median_side or fam.default_res)]
    return max(reachable) if reachable else min(fam.resolutions)


def choose_aspect(fam: ModelFamily, summary: DataSummary) -> str:
    if not fam.wide_aspects:
        return "1:1"
    a = summary.aspect
    for name, low, high in ASPECTS:
        if (low is None or a >= low) and (high is None or a < high):
            return name
    return "1:1"


def choose_batch(fam: ModelFamily, count: int) -> int:
    """The family's batch, or the largest power of two that a tiny folder fills."""
    batch = fam.batch
    while batch > 1 and batch > count:
        batch //= 2
    return batch


def _family(summary: DataSummary, preset: str | None, model: str | None) -> tuple[ModelFamily, str]:
    named = model or (PRESETS[preset].overrides.get("model", {}).get("name") if preset in PRESETS else None)
    if named:
        fam = FAMILIES[named]
        return fam, (f"{fam.title} (your choice): {fam.best_for}" if model else
                     f"{fam.title}: set by the {preset} preset")
    return choose_family(summary)


def defaults_for(summary: DataSummary, device: str = "cpu", preset: str | None = None,
                 model: str | None = None) -> RunConfig:
    """The full configuration of a new run on ``summary``'s data on a ``device`` ('cpu', 'cuda', 'mps'), from
    a ``preset`` if one is named, for ``model`` if the user chose one (else the policy's family). Not validated:
    the caller puts the user's options on top, then validates."""
    fam, _ = _family(summary, preset, model)
    cfg = RunConfig()
    cfg.data.source = summary.source
    cfg.data.res = choose_resolution(fam, summary)
    cfg.data.aspect = choose_aspect(fam, summary)
    cfg.data.flip = fam.flip
    cfg.model.name, cfg.model.width = fam.name, fam.width
    t = cfg.train
    t.lr_g, t.lr_d, t.batch = fam.lr_g, fam.lr_d, choose_batch(fam, summary.count)
    t.minutes, t.steps = DEFAULT_MINUTES, None
    t.augment_ops, t.lr_anneal = list(fam.augment_ops), fam.lr_anneal
    t.log_every = CPU_LOG_EVERY if device.split(":")[0] == "cpu" else GPU_LOG_EVERY
    if preset:
        apply_preset(cfg, preset)  # the preset's own values win over the family's
        cfg.model.name = fam.name
    return cfg


def why_default(summary: DataSummary, preset: str | None = None, model: str | None = None) -> str:
    """One line for the app's form: why defaults_for picked the model it picked."""
    return _family(summary, preset, model)[1]
