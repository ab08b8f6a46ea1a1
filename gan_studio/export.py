"""Writing generated images: one file per image (with seed, run and step in its metadata), contact sheets,
a self-contained HTML gallery page, and animated GIFs (a latent walk, the training progress).

Every file is written to a temporary name and renamed, and nothing existing is overwritten unless asked:
``export_run`` checks every file it is about to write before it writes the first one.
"""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import quote

import numpy as np
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from gan_studio.engine.latent import WALK_FRAMES, walk_noise
from gan_studio.errors import GanStudioError
from gan_studio.fileio import atomic_save, atomic_write_text

FORMATS = {"png": "PNG", "jpg": "JPEG"}
LANCZOS = Image.Resampling.LANCZOS


def image_name(seed: int, fmt: str = "png", style: str = "") -> str:
    """seed_000012.png, or with a conditional model's style (or blend) seed_000012_monet.png,
    seed_000012_monet60-song40.png."""
    return f"seed_{seed:06d}_{_safe(style)}.{fmt}" if style else f"seed_{seed:06d}.{fmt}"


def _safe(label: str) -> str:
    """A style label fit for a file name on every system."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in label).strip(".") or "style"


def _pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)


def save_images(images: np.ndarray, seeds: Sequence[int], out: Path, run_name: str = "", step: int = 0,
                fmt: str = "png", size: int | None = None, overwrite: bool = False,
                progress: Callable[[int, int], None] | None = None,
                styles: Sequence[str] | None = None) -> list[Path]:
    """Write uint8 images (N, H, W, C) as seed_NNNNNN.png|jpg in ``out`` (seed_NNNNNN_STYLE.png with a
    conditional model's ``styles``, one label per image, also in the metadata); returns the paths."""
    if fmt not in FORMATS:
        raise GanStudioError(f"unknown image format {fmt!r}; use png or jpg")
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise GanStudioError(f"cannot create the output folder {out}: {e.strerror or e}") from None
    labels = list(styles) if styles else [""] * len(seeds)
    paths = [out / image_name(s, fmt, label) for s, label in zip(seeds, labels)]
    existing = [p for p in paths if p.exists()]
    if existing and not overwrite:
        raise GanStudioError(f"{len(existing)} file(s) already exist in {out} (first: {existing[0].name}); "
                             f"choose another folder or allow overwriting")
    for i, (image, seed, path, label) in enumerate(zip(images, seeds, paths, labels)):
        pil = _pil(image)
        if size and size != max(pil.size):
            scale = size / max(pil.size)
            pil = pil.resize((max(1, round(pil.width * scale)), max(1, round(pil.height * scale))), LANCZOS)
        meta = {"seed": str(seed), "run": run_name, "step": str(step), "software": "GAN Studio"}
        if label:
            meta["style"] = label
        try:
            if fmt == "png":
                info = PngImagePlugin.PngInfo()
                for k, v in meta.items():
                    info.add_text(k, v)
                atomic_save(path, lambda f: pil.save(f, "PNG", pnginfo=info))
            else:
                comment = "; ".join(f"{k}={v}" for k, v in meta.items()).encode()
                atomic_save(path, lambda f: pil.convert("RGB").save(f, "JPEG", quality=95, comment=comment))
        except OSError as e:
            raise GanStudioError(f"could not write {path}: {e.strerror or e}") from None
        if progress:
            progress(i + 1, len(paths))
    return paths


def grid_image(images: np.ndarray, columns: int | None = None, padding: int = 2,
               background: int = 255) -> np.ndarray:
    """A contact sheet: uint8 (N, H, W, C) -> (rows*(H+p)+p, cols*(W+p)+p, C)."""
    n, h, w, c = images.shape
    cols = columns or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    sheet = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, c), background, np.uint8)
    for i, image in enumerate(images):
        r, q = divmod(i, cols)
        y, x = padding + r * (h + padding), padding + q * (w + padding)
        sheet[y:y + h, x:x + w] = image
    return sheet


def save_grid(images: np.ndarray, path: Path, columns: int | None = None, overwrite: bool = True) -> Path:
    path = Path(path)
    if path.exists() and not overwrite:
        raise GanStudioError(f"{path} already exists")
    sheet = _pil(grid_image(images, columns))
    atomic_save(path, lambda f: sheet.save(f, "PNG"))
    return path


# ------------------------------------------------------------------------------------------ a whole export
GRID_NAME = "grid.png"
HTML_NAME = "index.html"
WALK_GIF = "latent_walk.gif"
PROGRESS_GIF = "training_progress.gif"
THUMB_SIZE = 128  # long side of the thumbnails embedded in the HTML page
GRID_CELL_MAX = 256  # a contact sheet of 100 images at 1024 px would be 300 MB: cells are capped
GIF_MIN, GIF_MAX = 128, 512  # long side of GIF frames
WALK_KEYS = 4  # a latent walk visits this many seeds
PROGRESS_FRAMES = 48  # at most this many training-progress frames (evenly spaced, the last always kept)


@dataclass
class ExportResult:
    out: Path
    files: list[Path] = field(default_factory=list)  # every file written, in order
    run_name: str = ""
    step: int = 0
    seeds: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # what was asked for but could not be made, and why
    notes: list[str] = field(default_factory=list)  # damaged files of the run that were passed over


def _umask() -> int:
    try:  # Linux: read it without the race of os.umask(0); os.umask(old)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _shareable(paths: Sequence[Path]) -> None:
    """Atomic writes go through mkstemp, which creates files readable by their owner only; an exported
    gallery is meant to be shared (or served), so give it the permissions of a normally created file."""
    mode = 0o666 & ~_umask()
    for p in paths:
        try:
            Path(p).chmod(mode)
        except OSError:
            pass


def _resized(image: np.ndarray, size: int | None) -> Image.Image:
    pil = _pil(image).convert("RGB")
    if size and size != max(pil.size):
        scale = size / max(pil.size)
        pil = pil.resize((max(1, round(pil.width * scale)), max(1, round(pil.height * scale))), LANCZOS)
    return pil


def _data_uri(pil: Image.Image) -> str:
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=88)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _caption(pil: Image.Image, text: str) -> Image.Image:
    """The picture with a dark strip below it that reads ``text``."""
    font = ImageFont.load_default()
    strip = 18
    out = Image.new("RGB", (pil.width, pil.height + strip), (24, 24, 28))
    out.paste(pil, (0, 0))
    ImageDraw.Draw(out).text((6, pil.height + 3), text, fill=(230, 230, 230), font=font)
    return out


def _save_gif(path: Path, frames: list[Image.Image], durations: list[int] | int) -> None:
    # One adaptive palette from a few frames keeps colours stable from frame to frame (no flicker).
    sample = frames[:: max(1, len(frames) // 6)]
    mosaic = Image.new("RGB", (sample[0].width, sample[0].height * len(sample)))
    for i, f in enumerate(sample):
        mosaic.paste(f, (0, i * f.height))
    palette = mosaic.quantize(255, method=Image.Quantize.MEDIANCUT)
    quantized = [f.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG) for f in frames]
    atomic_save(path, lambda f: quantized[0].save(f, "GIF", save_all=True, append_images=quantized[1:],
                                                  duration=durations, loop=0, optimize=False, disposal=1))


def gif_pictures(images: Sequence[np.ndarray], pixel_exact: bool = True) -> list[Image.Image]:
    """uint8 images (H, W, C) as RGB pictures for a GIF, their long side brought within the export's GIF sizes:
    by a whole factor, nearest neighbour, when ``pixel_exact`` (sharp pixels), else smoothly."""
    h, w = images[0].shape[:2]
    native = max(h, w)
    if pixel_exact and native < GIF_MIN:
        factor = max(1, min(math.ceil(GIF_MIN / native), GIF_MAX // native))
        size, resample = (w * factor, h * factor), Image.Resampling.NEAREST
    else:
        side = min(max(native, GIF_MIN), GIF_MAX)
        size, resample = (max(1, round(w * side / native)), max(1, round(h * side / native))), LANCZOS
    out = []
    for a in images:
        pil = Image.fromarray(a[..., 0] if a.shape[-1] == 1 else a).convert("RGB")
        out.append(pil if pil.size == size else pil.resize(size, resample))
    return out


def save_gif(path: Path, frames: Sequence[Image.Image], durations: list[int] | int = 80) -> Path:
    """Write RGB ``frames`` as a looping animated GIF at ``path`` (one palette for all frames, written
    atomically); ``durations`` in milliseconds, one for all or one per frame. Returns the path."""
    path = Path(path)
    _save_gif(path, list(frames), durations)
    return path


def _read_grid(path: Path) -> Image.Image | None:
    """A preview grid as RGB, at most GIF_MAX wide; None when the file is damaged."""
    try:
        with Image.open(path) as im:
            pic = im.convert("RGB")
    except Exception:  # noqa: BLE001 - Pillow raises a zoo of types on a damaged file; one bad grid is left out
        return None
    if pic.width > GIF_MAX:
        pic = pic.resize((GIF_MAX, max(1, round(pic.height * GIF_MAX / pic.width))), LANCZOS)
    return pic


def _progress_frames(grids: list[Path]) -> list[Path]:
    if len(grids) <= PROGRESS_FRAMES:
        return grids
    idx = np.unique(np.linspace(0, len(grids) - 1, PROGRESS_FRAMES).round().astype(int))
    return [grids[i] for i in idx]


def export_plan(run: Path, out: Path, seeds: Sequence[int], fmt: str = "png", grid: bool = False,
                html: bool = False, gif: bool = False, style: np.ndarray | None = None) -> list[Path]:
    """Every file ``export_run`` would write for these choices (check them before writing anything)."""
    out = Path(out)
    labels = _style_labels(Path(run), seeds, style)
    files = [out / image_name(s, fmt, label) for s, label in zip(seeds, labels)]
    if grid:
        files.append(out / GRID_NAME)
    if html:
        files.append(out / HTML_NAME)
    if gif:
        files.append(out / WALK_GIF)
        from gan_studio.engine.rundir import RunDir

        if RunDir(Path(run)).sample_grids():
            files.append(out / PROGRESS_GIF)
    return files


def export_run(run: Path, out: Path, n: int = 100, first_seed: int = 0, fmt: str = "png", size: int | None = None,
               grid: bool = False, html: bool = False, gif: bool = False, overwrite: bool = False,
               progress: Callable[[int, int], None] | None = None, seeds: Sequence[int] | None = None,
               checkpoint: Path | None = None, device: str = "cpu", which: str = "best",
               style: np.ndarray | None = None) -> ExportResult:
    """Export a gallery of a run's EMA generator into ``out``.

    The images are ``seeds`` (for example the favourites) or ``n`` new samples from ``first_seed``; each is
    seed_NNNNNN.png|jpg with its seed, run and step in its metadata, at ``size`` pixels on the long side. They
    come from ``checkpoint``, else from the run's best snapshot (``which='best'``, when it keeps one) or its newest
    checkpoint, as ``gan-studio sample`` chooses.
    Optionally a contact sheet (grid.png), an HTML page (index.html: thumbnails embedded, linking to the full
    images), and GIFs (latent_walk.gif, training_progress.gif). Every target is checked before anything is
    written: existing files are an error unless ``overwrite``. Each file is written atomically, and if the
    export fails or is cancelled (``progress`` raising), the files it had created are removed again.
    A conditional model's images are of ``style`` (a vector over its styles: a style or a blend), else each seed's
    style in turn; the style is in every file's name and metadata and in the HTML page.
    """
    from gan_studio.data.styles import labels_for_seeds
    from gan_studio.engine.rundir import RunDir
    from gan_studio.engine.sampling import load_generator

    if fmt not in FORMATS:
        raise GanStudioError(f"unknown image format {fmt!r}; use png or jpg")
    if seeds is None:
        if not 1 <= n <= 100_000:
            raise GanStudioError(f"the number of images must be between 1 and 100000, got {n}")
        if first_seed < 0:
            raise GanStudioError(f"seeds are non-negative, got {first_seed}")
        seeds = list(range(first_seed, first_seed + n))
    else:
        seeds = list(dict.fromkeys(int(s) for s in seeds))
        if not seeds:
            raise GanStudioError("no images to export: mark some favourites in the gallery, or export new samples")
    if size is not None and not 8 <= size <= 4096:
        raise GanStudioError(f"the image size must be between 8 and 4096 pixels, got {size}")
    run_dir = RunDir.open(Path(run))
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise GanStudioError(f"{out} is a file; choose a folder for the export")
    targets = export_plan(run_dir.path, out, seeds, fmt, grid, html, gif, style)
    existing = [p for p in targets if p.exists()]
    if existing and not overwrite:
        raise GanStudioError(f"{len(existing)} file(s) already exist in {out} (first: {existing[0].name}); "
                             f"choose another folder or allow overwriting")
    gen = load_generator(run_dir.path, checkpoint=checkpoint, device=device, which=which)
    labels = labels_for_seeds(gen.styles, seeds, style)
    result = ExportResult(out=out, run_name=run_dir.path.name, step=gen.step, seeds=list(seeds), notes=list(gen.notes))
    grids = _progress_frames(run_dir.sample_grids()) if gif else []
    keys = list(seeds[:WALK_KEYS]) if len(seeds) >= 2 else [seeds[0], seeds[0] + 1, seeds[0] + 2]
    walk_frames = len(keys) * WALK_FRAMES if gif else 0
    total = 2 * len(seeds) + int(grid) + int(html) + walk_frames + len(grids)
    done = 0

    def tick(k: int = 1) -> None:
        nonlocal done
        done += k
        if progress:
            progress(min(done, total), total)

    created = [p for p in targets if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        if progress:
            progress(0, total)
        images = gen.images(seeds, progress=lambda d, t: tick(d - done) if d > done else None, style=style)
        done = len(seeds)
        result.files += save_images(images, seeds, out, run_name=result.run_name, step=gen.step, fmt=fmt,
                                    size=size, overwrite=overwrite, progress=lambda d, t: tick(),
                                    styles=labels if gen.styles else None)
        if grid:
            cell = min(size or max(images.shape[1:3]), GRID_CELL_MAX)
            cells = np.stack([np.asarray(_resized(im, cell)) for im in images])
            result.files.append(save_grid(cells, out / GRID_NAME, overwrite=overwrite))
            tick()
        if gif:
            native = max(images.shape[1:3])
            gif_size = min(max(size or native, GIF_MIN), GIF_MAX)
            z = walk_noise(gen.noise(keys).cpu().numpy(), WALK_FRAMES, gen.config.model.noise)
            import torch

            frames = []
            walk_style = gen.style_rows([keys[0]] * len(z), style)  # the walk keeps one style (the first seed's)
            for i in range(0, len(z), 16):
                rows = walk_style[i:i + 16] if walk_style is not None else None
                for im in gen.images_from_noise(torch.from_numpy(z[i:i + 16]), y=rows):
                    frames.append(_resized(im, gif_size))
                tick(min(16, len(z) - i))
            _save_gif(out / WALK_GIF, frames, 80)
            result.files.append(out / WALK_GIF)
            pictures = []
            for path in grids:
                pic = _read_grid(path)
                if pic is None:
                    result.notes.append(f"samples/{path.name} is damaged: left out of {PROGRESS_GIF}")
                else:
                    pictures.append(_caption(pic, f"step {max(RunDir.grid_step(path), 0):,}"))
                tick()
            if pictures:
                _save_gif(out / PROGRESS_GIF, pictures, [150] * (len(pictures) - 1) + [1500])
                result.files.append(out / PROGRESS_GIF)
            else:
                result.skipped.append(f"{PROGRESS_GIF}: the run has no {'readable ' if grids else ''}sample grids yet")
        if html:
            progress_gif = out / PROGRESS_GIF in result.files
            result.files.append(_write_html(out, images, seeds, fmt, result, grid, progress_gif, gif, labels))
            tick()
        _shareable(result.files)
    except BaseException:
        for p in created:  # all or nothing: no export leaves a partial set of its own new files
            p.unlink(missing_ok=True)
        raise
    return result


def _write_html(out: Path, images: np.ndarray, seeds: Sequence[int], fmt: str, result: ExportResult,
                grid: bool, progress_gif: bool, walk_gif: bool, labels: Sequence[str]) -> Path:
    run, step = html.escape(result.run_name), result.step
    figures = []
    for image, seed, label in zip(images, seeds, labels):
        thumb = _resized(image, THUMB_SIZE)
        href = quote(image_name(seed, fmt, label))
        style = f"<br>style {html.escape(label)}" if label else ""
        figures.append(
            f'<figure><a href="{href}"><img src="{_data_uri(thumb)}" width="{thumb.width}" height="{thumb.height}" '
            f'alt="seed {seed}"></a><figcaption><b>seed {seed}</b>{style}<br>{run}<br>step {step:,}'
            f'</figcaption></figure>')
    extras = []
    if grid:
        extras.append(f'<a href="{quote(GRID_NAME)}">contact sheet</a>')
    if walk_gif:
        extras.append(f'<a href="{quote(WALK_GIF)}">latent walk (GIF)</a>')
    if progress_gif:
        extras.append(f'<a href="{quote(PROGRESS_GIF)}">training progress (GIF)</a>')
    extra = f"<p class=more>Also here: {' · '.join(extras)}</p>" if extras else ""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{run} — GAN Studio gallery</title>
<style>
body {{ background:#1f2024; color:#e4e4e4; font:14px/1.4 system-ui, sans-serif; margin:24px; }}
h1 {{ font-weight:600; font-size:20px; margin:0 0 4px; }}
p {{ color:#a8a8ad; margin:0 0 16px; }} a {{ color:#8cc4ff; }}
main {{ display:flex; flex-wrap:wrap; gap:14px; }}
figure {{ margin:0; width:{THUMB_SIZE}px; }}
figure img {{ display:block; border-radius:4px; image-rendering:auto; background:#000; }}
figcaption {{ font-size:11px; color:#a8a8ad; margin-top:4px; word-break:break-all; }}
figcaption b {{ color:#e4e4e4; }}
</style></head>
<body>
<h1>{run}</h1>
<p>{len(seeds)} images from step {step:,} of the EMA generator. Click a thumbnail for the full image;
each file carries its seed, run and step in its metadata. Made with GAN Studio.</p>
{extra}
<main>
{chr(10).join(figures)}
</main>
</body></html>
"""
    path = out / HTML_NAME
    atomic_write_text(path, page)
    return path



def _style_labels(run: Path, seeds: Sequence[int], style: np.ndarray | None) -> list[str]:
    """Each seed's style label for a run's model, from its config ('' for an unconditional model)."""
    from gan_studio.data.styles import labels_for_seeds
    from gan_studio.engine.rundir import RunDir

    try:
        names = RunDir(run).config().model.styles
    except GanStudioError:
        names = []
    return labels_for_seeds(names, seeds, style)
