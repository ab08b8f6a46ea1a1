"""Sheets and walks of a conditional model's styles: the same seeds painted in every style (a style grid), one seed
blended from one style to another (a strip), and a walk from style to style for an animated GIF.

A seed is the same noise in every style, so each column of a grid, each strip and each walk is one composition,
painted each way. A style is a name of the model's styles or a vector over them (a point of the simplex, as
``LoadedGenerator.style_rows`` takes it). Nothing here imports Qt.

    cells = style_cells(gen, [3, 7, 11])                 # (S, 3, H, W, C): row r is style r
    sheet = sheet_from_cells(cells)                      # one contact sheet, rows = styles, columns = seeds
    strip = blend_strip(gen, 3, "monet", "song")         # 5 images: monet, 75/25, 50/50, 25/75, song
    save_style_walk_gif("walk.gif", style_walk_frames(gen, 3, ["monet", "song", "ming"]))
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Sequence, Union

import numpy as np
import torch

from gan_studio.data.styles import as_style_vector as style_vector_of
from gan_studio.data.styles import blend_label
from gan_studio.export import gif_pictures, grid_image, save_gif

if TYPE_CHECKING:

    from gan_studio.engine.sampling import LoadedGenerator

Style = Union[str, np.ndarray, Sequence[float]]  # a style's name, or weights over the model's styles

WALK_FRAMES_PER_LEG = 12  # frames from one style to the next in a walk
WALK_FRAME_MS = 90  # how long each frame of a style walk shows in its GIF


def model_styles(gen: LoadedGenerator) -> list[str]:
    """The model's styles; a ValueError that says why for a model trained without styles."""
    names = gen.styles
    if not names:
        raise ValueError("this model has no styles: it was trained on one data set (a folder of style folders "
                         "trains one model with a style per folder)")
    return names


def _images(gen: LoadedGenerator, seed: int, vectors: Sequence[np.ndarray]) -> list[np.ndarray]:
    """One seed's images in each style of ``vectors``, in one pass: the same noise for every one."""
    if not vectors:
        return []
    z = gen.noise([seed]).repeat(len(vectors), 1)
    rows = [gen.style_rows([seed], v) for v in vectors]
    y = torch.cat([r for r in rows if r is not None])
    return list(gen.images_from_noise(z, y=y))


# ------------------------------------------------------------------------------------------------- grids
def style_cells(gen: LoadedGenerator, seeds: Sequence[int], styles: Sequence[Style] | None = None) -> np.ndarray:
    """uint8 (R, N, H, W, C): row r is ``seeds`` in style r (``styles``: names or vectors; all the model's styles by
    default). Raises ValueError for a model without styles or a style it does not know."""
    names = model_styles(gen)
    vectors = [style_vector_of(names, s) for s in (names if styles is None else styles)]
    seeds = [int(s) for s in seeds]
    if not vectors or not seeds:
        raise ValueError("a style grid needs at least one style and one seed")
    rows = [gen.images(seeds, style=v) for v in vectors]
    return np.stack(rows)


def style_labels(gen: LoadedGenerator, styles: Sequence[Style] | None = None) -> list[str]:
    """The label of each row of a style grid ('monet', 'monet60-song40')."""
    names = model_styles(gen)
    return [blend_label(names, style_vector_of(names, s)) for s in (names if styles is None else styles)]


def sheet_from_cells(cells: np.ndarray, padding: int = 2, background: int = 255) -> np.ndarray:
    """A contact sheet of uint8 cells (R, N, H, W, C): rows = styles, columns = seeds."""
    r, n = cells.shape[:2]
    return grid_image(cells.reshape(r * n, *cells.shape[2:]), columns=n, padding=padding, background=background)


def style_grid(gen: LoadedGenerator, seeds: Sequence[int], styles: Sequence[Style] | None = None,
               padding: int = 2) -> np.ndarray:
    """uint8 contact sheet (rows = styles, columns = seeds) of ``seeds`` in each of ``styles`` (all the model's by
    default); ``style_cells`` gives the same pictures one by one."""
    return sheet_from_cells(style_cells(gen, seeds, styles), padding)


# ------------------------------------------------------------------------------------------ blends and walks
def blend_weights(steps: int) -> list[float]:
    """``steps`` evenly spaced weights t from 0 to 1 (both ends included)."""
    if steps < 2:
        raise ValueError(f"a blend strip needs at least 2 steps, got {steps}")
    return [i / (steps - 1) for i in range(steps)]


def blend_strip(gen: LoadedGenerator, seed: int, a: Style, b: Style, steps: int = 5) -> list[np.ndarray]:
    """``steps`` uint8 images (H, W, C) of ``seed`` from style ``a`` to style ``b``: weights (1 - t, t) for t evenly
    from 0 to 1, so the first is ``a`` itself and the last ``b``."""
    names = model_styles(gen)
    va, vb = style_vector_of(names, a), style_vector_of(names, b)
    return _images(gen, int(seed), [(1 - t) * va + t * vb for t in blend_weights(steps)])


def style_walk_weights(frames_per_leg: int) -> list[float]:
    """The weight of the next style in each frame of one leg: eased (slow at the pure styles), from 0, short of 1."""
    if frames_per_leg < 1:
        raise ValueError(f"a walk needs at least 1 frame per leg, got {frames_per_leg}")
    return [(1 - math.cos(math.pi * k / frames_per_leg)) / 2 for k in range(frames_per_leg)]


def style_walk_frames(gen: LoadedGenerator, seed: int, names_in_order: Sequence[str] | None = None,
                      frames_per_leg: int = WALK_FRAMES_PER_LEG, loop: bool = True) -> list[np.ndarray]:
    """uint8 frames (H, W, C) of ``seed`` walking from style to style in ``names_in_order`` (all the model's styles
    by default; two at least): ``frames_per_leg`` frames a leg, the first frame of each leg its pure style. With
    ``loop`` the walk comes back to the first style (the frame before it is the last), so a GIF loops seamlessly;
    otherwise it ends on the last style."""
    names = model_styles(gen)
    order = list(names if names_in_order is None else names_in_order)
    if len(order) < 2:
        raise ValueError("a walk between styles needs at least two styles")
    stops = [style_vector_of(names, n) for n in order] + ([style_vector_of(names, order[0])] if loop else [])
    vectors = [(1 - t) * a + t * b for a, b in zip(stops, stops[1:]) for t in style_walk_weights(frames_per_leg)]
    if not loop:
        vectors.append(stops[-1])
    frames: list[np.ndarray] = []
    for i in range(0, len(vectors), 32):
        frames += _images(gen, int(seed), vectors[i:i + 32])
    return frames


def save_style_walk_gif(path: Path | str, frames: Sequence[np.ndarray], frame_ms: int = WALK_FRAME_MS,
                        pixel_exact: bool = True) -> Path:
    """Write a style walk's uint8 frames as a looping animated GIF at ``path`` (atomically, with the export's GIF
    writer), ``frame_ms`` milliseconds a frame. Returns the path."""
    if not len(frames):
        raise ValueError("a GIF needs at least one frame")
    return save_gif(Path(path), gif_pictures(frames, pixel_exact), frame_ms)
