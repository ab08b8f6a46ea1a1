"""Writing generated images: one file per image (with seed, run and step in its metadata) and contact sheets.

Every file is written to a temporary name and renamed, and nothing existing is overwritten unless asked.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PIL import Image, PngImagePlugin

from gan_studio.engine.fileio import atomic_save
from gan_studio.errors import GanStudioError

FORMATS = {"png": "PNG", "jpg": "JPEG"}


def image_name(seed: int, fmt: str = "png") -> str:
    return f"seed_{seed:06d}.{fmt}"


def _pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)


def save_images(images: np.ndarray, seeds: Sequence[int], out: Path, run_name: str = "", step: int = 0,
                fmt: str = "png", size: int | None = None, overwrite: bool = False,
                progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """Write uint8 images (N, H, W, C) as seed_NNNNNN.png|jpg in ``out``; returns the paths."""
    if fmt not in FORMATS:
        raise GanStudioError(f"unknown image format {fmt!r}; use png or jpg")
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise GanStudioError(f"cannot create the output folder {out}: {e.strerror or e}") from None
    paths = [out / image_name(s, fmt) for s in seeds]
    existing = [p for p in paths if p.exists()]
    if existing and not overwrite:
        raise GanStudioError(f"{len(existing)} file(s) already exist in {out} (first: {existing[0].name}); "
                             f"choose another folder or allow overwriting")
    for i, (image, seed, path) in enumerate(zip(images, seeds, paths)):
        pil = _pil(image)
        if size and size != max(pil.size):
            scale = size / max(pil.size)
            pil = pil.resize((max(1, round(pil.width * scale)), max(1, round(pil.height * scale))), Image.LANCZOS)
        meta = {"seed": str(seed), "run": run_name, "step": str(step), "software": "GAN Studio"}
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
