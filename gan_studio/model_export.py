"""A run's generator as a file that runs without GAN Studio: ONNX (onnxruntime, in any language) or TorchScript
(``torch.jit.load``), with a model card beside it (``FILE.json`` and a short ``FILE.md``).

What is exported is exactly what sampling computes: the EMA generator of the chosen snapshot in eval mode (batch
norm uses its running statistics), followed by sampling's mapping from [-1, 1] to pixels. Input ``z``: float32
(N, z_dim) drawn as the card says (and, for a model with styles, ``style``: float32 (N, S), weights over its
styles summing to 1); output ``images``: float32 (N, C, H, W) in [0, 1]; N is free. The files are
plain graphs: loading them imports nothing of ours, and every file is written atomically, never over an existing
one unless asked.
"""

from __future__ import annotations

import copy
import io
import json
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from gan_studio import __version__
from gan_studio.engine.rundir import RunDir
from gan_studio.engine.sampling import LoadedGenerator, load_generator
from gan_studio.errors import CheckpointError, ConfigError, GanStudioError
from gan_studio.families import family
from gan_studio.fileio import atomic_write_bytes, atomic_write_text
from gan_studio.models import small_grid

FORMATS = ("onnx", "torchscript")
SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt"}
# ONNX opset 18: the native opset of torch.onnx's exporter (its torchlib functions are written for 18, so no
# version-conversion pass runs and can fail), which onnxruntime's current release (1.32, opsets up to 28) runs, as
# has every release since 1.14: a file made today also opens in the older runtimes people have installed.
ONNX_OPSET = 18
INPUT_NAME, OUTPUT_NAME, STYLE_NAME = "z", "images", "style"
EXAMPLE_BATCH = 2  # torch.export specialises batch 1; any other size keeps N free
LICENCE_NOTE = ("GAN Studio is MIT-licensed software; its licence does not cover this model. The weights were "
                "learned from the training images named here, so whoever holds the rights to those images may hold "
                "rights in the model and in what it draws: share it on the terms the images allow.")

Progress = Callable[[int, int], None]


@dataclass
class ModelExport:
    """What ``export_model`` wrote."""

    model: Path
    card_json: Path
    card_md: Path
    format: str
    step: int
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        return [self.model, self.card_json, self.card_md]


def card_paths(out: Path) -> tuple[Path, Path]:
    """The model card beside ``out``: (FILE.json, FILE.md)."""
    out = Path(out)
    return out.with_name(out.name + ".json"), out.with_name(out.name + ".md")


def model_export_plan(out: Path) -> list[Path]:
    """Every file ``export_model`` writes for ``out`` (check them before writing anything)."""
    return [Path(out), *card_paths(out)]


def format_for(out: Path) -> str:
    """The format a file name asks for: TorchScript for .pt / .ts / .torchscript, else ONNX."""
    return "torchscript" if Path(out).suffix.lower() in (".pt", ".ts", ".torchscript") else "onnx"


def snapshot_choice(text: str) -> str | int:
    """--checkpoint's value: 'best', 'latest' or a step number."""
    text = str(text).strip().lower()
    if text in ("best", "latest"):
        return text
    if text.isdigit():
        return int(text)
    raise ConfigError(f"--checkpoint must be best, latest or a step number, got {text!r}")


def load_snapshot(run_path: Path, checkpoint: str | int | Path = "best") -> LoadedGenerator:
    """The EMA generator of ``checkpoint`` ('best', 'latest', a step, or a checkpoint file) on the CPU."""
    if isinstance(checkpoint, str) and checkpoint in ("best", "latest"):
        return load_generator(run_path, device="cpu", which=checkpoint)
    if isinstance(checkpoint, int):
        run = RunDir.open(run_path)
        path = run.checkpoint_path(checkpoint)
        if not path.is_file():
            steps = ", ".join(str(s) for s, _ in run.checkpoint_list()) or "none"
            raise CheckpointError(f"{run.name} has no checkpoint at step {checkpoint} (kept: {steps})")
        return load_generator(run_path, checkpoint=path, device="cpu")
    return load_generator(run_path, checkpoint=Path(checkpoint), device="cpu")


# ------------------------------------------------------------------------------------------------ the graph
class ImageGenerator(nn.Module):
    """z (N, z_dim) -> images (N, C, H, W) in [0, 1]: the generator, then sampling's pixel mapping (clamp to
    [-1, 1], then (x + 1) / 2; sampling's uint8 pixels are round(255 * this))."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        return (self.generator(z, style).clamp(-1.0, 1.0) + 1.0) * 0.5


def example_inputs(z_dim: int, n_styles: int) -> tuple[torch.Tensor, ...]:
    """What the graph is traced with: z, and for a model with styles a style input (the first style)."""
    z = torch.zeros(EXAMPLE_BATCH, z_dim)
    if not n_styles:
        return (z,)
    return z, torch.nn.functional.one_hot(torch.zeros(EXAMPLE_BATCH, dtype=torch.long), n_styles).float()


_PLAIN: dict[type, type] = {small_grid.Conv2d: nn.Conv2d, small_grid.ConvTranspose2d: nn.ConvTranspose2d}


def plain_copy(generator: nn.Module) -> nn.Module:
    """A float32 CPU copy in eval mode whose convolutions are torch's own classes. small_grid's layers may compute
    as matrix products (a training speed-up on some CPUs) and a trace would record that route; as plain
    nn.Conv2d / nn.ConvTranspose2d (same parameters, no state of their own) they always export as Conv and
    ConvTranspose, whatever the policy, and the running app's policy is never touched."""
    g = copy.deepcopy(generator).float().cpu().eval()
    for m in g.modules():
        plain = _PLAIN.get(type(m))
        if plain is not None:
            m.__class__ = plain
    for p in g.parameters():
        p.requires_grad_(False)
    return g


def onnx_bytes(module: nn.Module, z_dim: int, metadata: dict[str, str], n_styles: int = 0) -> bytes:
    """The ONNX model of ``module`` (z -> images; (z, style) -> images with styles) with a free batch size and
    ``metadata`` in its properties."""
    try:
        import onnx
        import onnxscript  # noqa: F401 - torch.onnx's exporter needs it; say so here, not deep in torch
    except ImportError:
        raise GanStudioError("exporting ONNX needs the onnx and onnxscript packages: pip install onnx onnxscript") \
            from None
    inputs = example_inputs(z_dim, n_styles)
    names = [INPUT_NAME, STYLE_NAME][:len(inputs)]
    batch = torch.export.Dim("batch", min=1)
    shapes = {"z": {0: batch}, **({"style": {0: batch}} if n_styles else {})}  # keyed by forward's arguments
    with warnings.catch_warnings():  # the exporter's notes on its own internals are not the user's business
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module, inputs, None, input_names=names, output_names=[OUTPUT_NAME], opset_version=ONNX_OPSET,
            dynamo=True, external_data=False, verbose=False, dynamic_shapes=shapes)
    assert program is not None  # f=None: the program is returned, not written
    proto = program.model_proto
    onnx.helper.set_model_props(proto, metadata)
    proto.producer_name, proto.producer_version = "GAN Studio", __version__
    return proto.SerializeToString()


def torchscript_bytes(module: nn.Module, z_dim: int, metadata: dict[str, str], n_styles: int = 0) -> bytes:
    """The traced TorchScript archive of ``module``; ``metadata`` rides along as extra files (readable with
    torch.jit.load(..., _extra_files=...))."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # torch.jit is deprecated in favour of torch.export, yet it is what C++ loads
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, example_inputs(z_dim, n_styles), check_trace=False)
        torch.jit.save(traced, buffer, _extra_files=metadata)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------- the card
def model_card(gen: LoadedGenerator, fmt: str, out: Path, image_shape: tuple[int, ...]) -> dict[str, Any]:
    """The facts a user of the file needs: what it draws, how to feed it, what it learned from and how well."""
    run = RunDir.open(gen.run_dir)
    info, cfg = run.info(), gen.config
    c, h, w = (int(v) for v in image_shape)
    source = str(info.get("source") or cfg.data.source)
    if cfg.model.noise == "uniform":
        z = {"distribution": "uniform", "low": -math.sqrt(3.0), "high": math.sqrt(3.0)}
    else:
        z = {"distribution": "normal", "mean": 0.0, "std": 1.0}
    best = run.best_info()
    quality = None if best is None else {
        "swd": best.get("swd"), "copy_share": best.get("copy_share"), "measured_at_step": best.get("step"),
        "of_this_snapshot": best.get("step") == gen.step}
    styles = gen.styles
    if fmt == "onnx":
        feed = f"'{INPUT_NAME}': z" + (f", '{STYLE_NAME}': style" if styles else "")
        call = (f"onnxruntime.InferenceSession('{out.name}').run(None, {{{feed}}})[0]  "
                f"# z: float32 (N, {gen.z_dim})" + (f", style: float32 (N, {len(styles)})" if styles else ""))
    else:
        call = (f"torch.jit.load('{out.name}')(z{', style' if styles else ''})  # z: torch.float32 (N, {gen.z_dim})"
                + (f", style: (N, {len(styles)})" if styles else ""))
    style_input = {"name": STYLE_NAME, "dtype": "float32", "shape": ["N", len(styles)], "styles": styles,
                   "meaning": "weights over the styles, in this order, summing to 1: a one-hot row is one style, "
                              "[0.6, 0.4, 0] a blend"} if styles else None
    return {
        "card_version": 1,
        "file": out.name,
        "format": fmt,
        **({"onnx_opset": ONNX_OPSET} if fmt == "onnx" else {}),
        "family": cfg.model.name,
        "family_title": family(cfg.model.name).title,
        "input": {"name": INPUT_NAME, "dtype": "float32", "shape": ["N", gen.z_dim], "z_dim": gen.z_dim, **z},
        **({"style_input": style_input} if style_input else {}),
        "output": {"name": OUTPUT_NAME, "dtype": "float32", "shape": ["N", c, h, w], "layout": "NCHW",
                   "range": [0.0, 1.0], "pixels": "round(255 * images)", "channels": "grayscale" if c == 1 else "RGB"},
        "image": {"channels": c, "height": h, "width": w},
        "training_data": {
            "name": "demo landscapes (built in)" if source == "demo" else Path(source).name,
            "images": info.get("n_images"), "skipped_files": info.get("rejected")},
        "training": {"step": gen.step, "snapshot": "best" if RunDir.is_best(gen.checkpoint) else f"step {gen.step}",
                     "run": run.name, "run_steps": max(run.latest_step(), gen.step), "ema": True},
        "quality": quality,
        "software": {"gan_studio": __version__, "torch": torch.__version__},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "licence": LICENCE_NOTE,
        "how_to_call": call,
        "runner": f"python examples/onnx_runner.py {out.name} --n 16 --out samples/" if fmt == "onnx" else None,
    }


def card_markdown(card: dict[str, Any]) -> str:
    """FILE.md: the card for a person."""
    z, img, data, q = card["input"], card["image"], card["training_data"], card["quality"]
    zdist = ("standard normal" if z["distribution"] == "normal"
             else f"uniform on [-sqrt 3, sqrt 3] (±{z['high']:.4f})")
    lines = [
        f"# {card['file']}: a {card['family_title']} generator",
        "",
        f"- Format: {card['format']}" + (f" (opset {card['onnx_opset']})" if "onnx_opset" in card else ""),
        f"- Draws {img['width']}x{img['height']} {card['output']['channels']} images: `{card['output']['name']}`, "
        f"float32 (N, {img['channels']}, {img['height']}, {img['width']}) in [0, 1]; pixels are round(255 x value).",
        f"- Input `{z['name']}`: float32 (N, {z['z_dim']}), each entry {zdist}; any N.",
        *([f"- Input `{card['style_input']['name']}`: float32 (N, {len(card['style_input']['styles'])}), weights over "
           f"the styles {', '.join(card['style_input']['styles'])} (in this order) summing to 1: one-hot for one "
           f"style, e.g. [0.6, 0.4, 0] for a blend. The same z in two styles is the same composition."]
          if "style_input" in card else []),
        f"- Trained on {data['name']} ({data['images']} images) for {card['training']['step']} steps "
        f"({card['training']['snapshot']} snapshot, EMA generator).",
        ("- Quality: no quality check was recorded." if q is None else
         f"- Quality at step {q['measured_at_step']}: SWD {q['swd']:.1f} (lower is better), "
         f"{q['copy_share']:.0%} near-copies of training images"
         + ("" if q["of_this_snapshot"] else " (a different snapshot from this one)") + "."),
        f"- Made by GAN Studio {card['software']['gan_studio']} with PyTorch {card['software']['torch']}.",
        "",
        "## How to call it",
        "",
        "```python",
        card["how_to_call"],
        "```",
        *(["", f"or `{card['runner']}`."] if card.get("runner") else []),
        "",
        "## Licence",
        "",
        card["licence"],
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- the export
def export_model(run_path: Path, out: Path, fmt: str | None = None, checkpoint: str | int | Path = "best",
                 overwrite: bool = False, progress: Progress | None = None) -> ModelExport:
    """Write the generator of ``run_path`` as ``out`` (ONNX or TorchScript; by default as the suffix says)
    with its model card beside it. Nothing is written when a file exists and ``overwrite`` is False, and
    ``progress`` (which may raise to cancel) is called only before the first file is written."""
    fmt = fmt or format_for(out)
    if fmt not in FORMATS:
        raise ConfigError(f"model format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out).expanduser()
    plan = model_export_plan(out)
    existing = [p for p in plan if p.exists()]
    if existing and not overwrite:
        raise GanStudioError(f"{existing[0]} already exists; choose another file name or allow replacing it")
    report = progress or (lambda done, total: None)
    report(0, 3)
    gen = load_snapshot(run_path, checkpoint)
    module = ImageGenerator(plain_copy(gen.generator)).eval()
    with torch.no_grad():
        rows = gen.style_rows([0])
        shape = tuple(module(gen.noise([0]).cpu(), rows.cpu() if rows is not None else None).shape[1:])
    card = model_card(gen, fmt, out, shape)
    metadata = {"gan_studio.model_card": json.dumps(card), "z_distribution": card["input"]["distribution"],
                "z_dim": str(gen.z_dim)}
    report(1, 3)
    with torch.no_grad():
        data = (onnx_bytes if fmt == "onnx" else torchscript_bytes)(module, gen.z_dim, metadata, len(gen.styles))
    report(2, 3)  # the last chance to cancel: from here the files are written
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # The large file first: a full disk then fails it and leaves an old model and its old card together.
        atomic_write_bytes(out, data)
        atomic_write_text(plan[1], json.dumps(card, indent=2) + "\n")
        atomic_write_text(plan[2], card_markdown(card))
    except OSError as e:
        for p in plan:
            if p not in existing:  # no half set of new files; files that were there are left as they are
                p.unlink(missing_ok=True)
        raise GanStudioError(f"could not write {out}: {e.strerror or e}") from None
    return ModelExport(out, plan[1], plan[2], fmt, gen.step, card)
