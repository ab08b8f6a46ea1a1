"""Built-in demo data: small procedural landscape "paintings", generated locally and deterministically.

``gan-studio train --demo`` needs a data set with no download and no images in git, so this module paints one:
sky gradients (day, dusk, night), a sun or moon, 2-4 layers of hills/mountains with aerial perspective, often a
lake with a rippled reflection, and a light brush texture. Everything is numpy + Pillow and takes a few ms an image.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from gan_studio.errors import DataError

DEMO_COUNT = 300
DEMO_SIZE = 128
DEMO_VERSION = 1  # bump (and the folder name) whenever the pictures change, so old caches are not reused
MARKER = ".complete"

Size = int | tuple[int, int]

# Sky colour stops from the top of the picture to the horizon, and the light source (sun or moon) colour.
_SKIES = {
    "day": [((0.22, 0.42, 0.75), (0.50, 0.68, 0.88), (0.80, 0.87, 0.92)), (1.0, 0.97, 0.85)],
    "dusk": [((0.16, 0.14, 0.38), (0.75, 0.38, 0.45), (1.0, 0.70, 0.35)), (1.0, 0.85, 0.55)],
    "night": [((0.01, 0.02, 0.08), (0.05, 0.08, 0.20), (0.14, 0.20, 0.34)), (0.95, 0.95, 0.85)],
}
# Land colours (near, far); far layers are further mixed into the haze of the sky.
_LANDS = [
    ((0.20, 0.36, 0.16), (0.30, 0.40, 0.45)),  # green hills, blue-grey mountains
    ((0.45, 0.30, 0.14), (0.50, 0.40, 0.40)),  # autumn
    ((0.25, 0.22, 0.35), (0.40, 0.42, 0.60)),  # violet
    ((0.58, 0.40, 0.24), (0.62, 0.48, 0.40)),  # desert / ochre
    ((0.12, 0.30, 0.28), (0.26, 0.38, 0.44)),  # teal
    ((0.32, 0.40, 0.18), (0.45, 0.46, 0.36)),  # olive
]


def _wh(size: Size) -> tuple[int, int]:
    w, h = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if w < 8 or h < 8:
        raise ValueError(f"landscape size must be at least 8x8 pixels, got {size!r}")
    return w, h


def _noise(rng: np.random.Generator, grid: tuple[int, int], w: int, h: int) -> np.ndarray:
    """Smooth noise in [0, 1]: a small random grid (rows, cols) upsampled bicubically; the grid fixes the scale."""
    g = rng.random(grid).astype(np.float32)
    return np.clip(np.asarray(Image.fromarray(g).resize((w, h), Image.Resampling.BICUBIC)), 0.0, 1.0)


def _mix(a: np.ndarray, b, t) -> np.ndarray:
    return a + (np.asarray(b, dtype=np.float32) - a) * t


def _ridge(rng: np.random.Generator, x: np.ndarray, base: float, height: float, peaky: bool) -> np.ndarray:
    """Ridge line y(x) (0 = top): triangular peaks for mountains, summed sines for rolling hills, plus detail.

    ``x`` is in units of the picture height around 0.5, so a wide picture shows more mountains, not wider ones.
    """
    if peaky:
        c = 0.5 + (rng.uniform(-0.1, 1.1, 4) - 0.5) * max(float(x[-1] - x[0]), 1.0)
        hgt, slope = rng.uniform(0.4, 1.0, 4), rng.uniform(1.5, 4.0, 4)
        y = np.max(hgt[:, None] - np.abs(x[None] - c[:, None]) * slope[:, None], axis=0)
        y = np.maximum(y, 0.1) * height
    else:
        y = np.full_like(x, 0.5 * height)
    for k in range(4):  # a few octaves of detail, fewer and softer for hills
        f, ph = rng.uniform(1.0, 2.0) * 2.2**k, rng.uniform(0, 2 * np.pi)
        y += height * (0.45 if not peaky and k == 0 else 0.12) * 0.55**k * np.sin(2 * np.pi * f * x + ph)
    return base - y


def make_landscape(seed: int, size: Size = DEMO_SIZE) -> Image.Image:
    """Paint landscape number ``seed`` (a non-negative int) as an RGB image; ``size`` is a side or (width, height).

    The same seed and size always give the same pixels (one ``numpy.random.default_rng`` per picture, no global
    state); the composition depends only on the seed, so one seed at two sizes gives the same scene.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    w, h = _wh(size)
    rng = np.random.default_rng(int(seed))  # the scene: drawn in the same order whatever the size
    tex = np.random.default_rng([int(seed), 1])  # brush texture: its draws may depend on the size
    x = (np.arange(w, dtype=np.float32) + 0.5) / w
    y = ((np.arange(h, dtype=np.float32) + 0.5) / h)[:, None]
    aspect = w / h

    time_of_day = rng.choice(["day", "dusk", "night"], p=[0.5, 0.3, 0.2])
    sky_colours, light = _SKIES[time_of_day]
    stops = np.clip(np.array(sky_colours) * rng.uniform(0.85, 1.15, (3, 3)), 0, 1).astype(np.float32)
    has_water = rng.random() < 0.65
    horizon = rng.uniform(0.48, 0.68) if has_water else rng.uniform(0.42, 0.58)

    # Sky: three stops from top to horizon, slightly curved so the light pools near the horizon.
    t = np.clip(y / horizon, 0, 1) ** rng.uniform(0.8, 1.6)
    ts = np.broadcast_to(t, (h, w))
    sky = np.stack([np.interp(ts, [0, 0.55, 1], stops[:, c]) for c in range(3)], -1).astype(np.float32)
    haze = stops[2]

    # Clouds: horizontally stretched smooth noise, lit in the sky's own colours.
    cloud_grid = (6, 3) if rng.random() < 0.5 else (10, 5)
    clouds = _noise(rng, cloud_grid, w, h)
    if rng.random() < 0.6:
        amount = np.clip((clouds - rng.uniform(0.45, 0.7)) * 4, 0, 1) * (1 - t) ** 0.5
        ccol = {"day": (0.97, 0.97, 0.98), "dusk": (1.0, 0.62, 0.55), "night": (0.18, 0.2, 0.3)}[time_of_day]
        sky = _mix(sky, ccol, amount[..., None] * rng.uniform(0.5, 0.85))

    stars = rng.random((60, 3))  # a fixed count in relative positions: the same sky at every size
    if time_of_day == "night":
        sy, sx = (stars[:, 0] * horizon * h).astype(int), (stars[:, 1] * w).astype(int)
        sky[sy, sx] = _mix(sky[sy, sx], (1, 1, 0.95), stars[:, 2:] * 0.9)

    # Sun or moon (absent a quarter of the time): a soft disc with a glow; the moon is sometimes a crescent.
    sun_x, sun_y = rng.uniform(0.15, 0.85), horizon * rng.uniform(0.25, 0.8 if time_of_day != "dusk" else 0.95)
    radius, crescent = rng.uniform(0.04, 0.08), rng.random() < 0.5
    if rng.random() < 0.75:
        d = np.hypot((x - sun_x) * aspect, y - sun_y)
        disc = np.clip((radius - d) * h + 0.5, 0, 1)  # anti-aliased edge, one pixel wide
        if time_of_day == "night" and crescent:  # the moon minus a slightly shifted disc
            d2 = np.hypot((x - sun_x - 0.4 * radius) * aspect, y - sun_y - 0.2 * radius)
            disc *= 1 - np.clip((radius - d2) * h + 0.5, 0, 1)
        glow = np.exp(-((d / (radius * (4 if time_of_day == "dusk" else 2.5))) ** 2)) * 0.5
        sky = _mix(sky, light, np.clip(np.maximum(disc, glow), 0, 1)[..., None])

    # Hills/mountains, far to near: far layers are taller, peakier and mixed into the haze (aerial perspective).
    near, far = (np.array(c, dtype=np.float32) for c in _LANDS[rng.integers(len(_LANDS))])
    shade = {"day": 1.0, "dusk": 0.6, "night": 0.38}[time_of_day]
    scene = sky.copy()
    n_layers = int(rng.integers(2, 5))
    p_peaky = rng.choice([0.0, 0.6, 0.9], p=[0.25, 0.35, 0.4])  # rolling hills only, some peaks, or a range
    top = horizon - rng.uniform(0.22, 0.36)
    bottom = horizon - 0.04 if has_water else horizon + 0.2
    light_side = np.sign(sun_x - 0.5) or 1.0
    xr = (x - 0.5) * max(aspect, 1.0) + 0.5  # ridge coordinate: keeps mountains' shape in wide pictures
    k = max(3, w // 10)
    for i in range(n_layers):
        depth = 1 - i / max(n_layers - 1, 1)  # 1 = farthest, 0 = nearest
        peaky = depth > 0.4 and rng.random() < p_peaky
        base = bottom + (top - bottom) * depth * 0.4 + (0.1 if not has_water and depth == 0 else 0)
        ridge = _ridge(rng, xr, base, (horizon - top) * (0.4 + 0.8 * depth) if peaky else 0.12, peaky)
        colour = _mix(near, far, depth) * shade
        colour = _mix(colour, haze, 0.1 + 0.6 * depth**1.3)
        # Lit vs shaded mountain faces from the slope of the smoothed ridge (unsmoothed, it paints vertical stripes).
        smooth = np.convolve(np.pad(ridge, k, mode="edge"), np.ones(k) / k, mode="same")[k:-k]
        slope = np.clip(np.gradient(smooth, xr) * -light_side * 0.2, -0.15, 0.15)
        below = np.maximum(y - ridge[None], 0)  # sampled along a diagonal, so face edges run down like spurs
        faces = (np.interp(xr[None] + below * light_side, xr, slope) * np.exp(-below / 0.25))[..., None]
        mist = np.clip((y - ridge[None]) / 0.25, 0, 1)[..., None] * 0.35 * depth  # valleys fill with haze
        layer = _mix(colour * (1 + faces), haze, mist)
        if peaky and time_of_day != "night" and rng.random() < 0.5:  # snow caps on the high peaks
            snow_line = ridge.min() + (base - ridge.min()) * 0.3 + 0.02 * np.sin(xr * 40 + i)
            snow = ((y < snow_line[None]) & (y < (ridge[None] + 0.06)))[..., None]
            layer = np.where(snow, _mix(layer, np.array((0.95, 0.95, 0.98)) * shade, 0.7), layer)
        scene = np.where((y >= ridge[None])[..., None], layer, scene)

    # Water: the scene mirrored about the horizon, rippled sideways, darkened and tinted further towards us.
    hpix = int(round(horizon * h))
    ripples = _noise(rng, (24, 3), w, h) - 0.5
    glints = _noise(rng, (40, 4), w, h)
    water_col = _mix(haze, (0.05, 0.12, 0.18), 0.6) * shade
    if has_water and hpix < h:
        rows = np.arange(hpix, h)
        dist = ((rows - hpix) / max(h - hpix, 1))[:, None]
        src_y = np.clip(2 * hpix - 1 - rows[:, None] + np.round(ripples[hpix:] * 3 * dist * h / 64), 0, hpix - 1)
        src_x = np.clip(np.arange(w)[None] + np.round(ripples[hpix:] * (0.02 + 0.1 * dist) * w), 0, w - 1)
        refl = scene[src_y.astype(int), src_x.astype(int)] * rng.uniform(0.7, 0.9)
        water = _mix(refl, water_col, (0.15 + 0.5 * dist)[..., None])
        water = _mix(water, haze, (np.clip((glints[hpix:] - 0.72) * 5, 0, 1) * 0.4)[..., None])
        scene[hpix:] = water
        scene[hpix] = _mix(scene[hpix], haze, 0.35)  # a light line where the water meets the land
        if rng.random() < 0.35:  # a dark foreground bank on one side
            side = rng.choice([-1.0, 1.0])
            bank = 1.05 - rng.uniform(0.1, 0.25) * np.clip(1 - (x - 0.5) * side * 2.5, 0, 1) ** 0.7
            bank += 0.015 * np.sin(x * 30 + rng.uniform(0, 6))
            scene = np.where((y >= bank[None])[..., None], near * shade * 0.45, scene)

    # Palette variety: per-image channel gains, then a brush texture of soft noise and short strokes.
    scene = scene * rng.uniform(0.9, 1.1, 3).astype(np.float32)
    scene *= 1 + 0.08 * (_noise(tex, (16, 8), w, h)[..., None] - 0.5)
    img = Image.fromarray((np.clip(scene, 0, 1) * 255 + 0.5).astype(np.uint8))
    _strokes(img, tex)
    return img.filter(ImageFilter.GaussianBlur(0.5 * min(w, h) / 128))


def _strokes(img: Image.Image, rng: np.random.Generator) -> None:
    """Dab ~w*h/40 short, mostly horizontal translucent strokes in the local colour: it reads as brushwork."""
    w, h = img.size
    px = np.asarray(img)
    n, s = w * h // 40, min(w, h)
    xs, ys = rng.integers(0, w, n), rng.integers(0, h, n)
    ang = rng.normal(0, 0.3, n)
    length = rng.uniform(0.02, 0.06, n) * s
    cols = np.clip(px[ys, xs].astype(int) + rng.normal(0, 6, (n, 1)).astype(int), 0, 255)
    alpha = rng.integers(70, 160, n)
    x2, y2 = xs + np.cos(ang) * length, ys + np.sin(ang) * length
    width = max(1, round(s / 80))
    draw = ImageDraw.Draw(img, "RGBA")
    for i in range(n):  # the one Python loop: ImageDraw has no batch line call
        fill = (*cols[i].tolist(), int(alpha[i]))
        draw.line((int(xs[i]), int(ys[i]), float(x2[i]), float(y2[i])), fill=fill, width=width)


def demo_folder(cache_dir: Path | None = None) -> Path:
    """Default demo folder: ``<cache>/demo-landscapes-v1``, cache = $GAN_STUDIO_CACHE, $XDG_CACHE_HOME/gan_studio
    or ~/.cache/gan_studio (``cache_dir`` overrides all three)."""
    if cache_dir is None:
        if os.environ.get("GAN_STUDIO_CACHE"):
            cache_dir = Path(os.environ["GAN_STUDIO_CACHE"])
        elif os.environ.get("XDG_CACHE_HOME"):
            cache_dir = Path(os.environ["XDG_CACHE_HOME"]) / "gan_studio"
        else:
            cache_dir = Path.home() / ".cache" / "gan_studio"
    return Path(cache_dir).expanduser() / f"demo-landscapes-v{DEMO_VERSION}"


def _is_complete(folder: Path, n: int, size: Size) -> bool:
    try:
        meta = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta == {"version": DEMO_VERSION, "n": n, "size": list(_wh(size))}


def _is_ours(folder: Path) -> bool:
    """True if ``folder`` holds nothing but demo pictures and the marker, so replacing it loses no user file."""
    return all(p.name == MARKER or (p.name.startswith("landscape_") and p.suffix == ".png") for p in folder.iterdir())


def ensure_demo_folder(
    folder: Path | None = None,
    n: int = DEMO_COUNT,
    size: Size = DEMO_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Make sure ``folder`` (default ``demo_folder()``) holds landscape_0000.png ... for seeds 0..n-1; return it.

    A complete folder (marker file matching n and size) returns at once. Otherwise the pictures are painted into a
    temporary sibling that is renamed into place, so a reader never sees half a data set; if another process
    finishes first, its folder is kept. ``progress(done, total)`` is called after each picture.
    """
    folder = Path(folder) if folder is not None else demo_folder()
    if _is_complete(folder, n, size):
        if progress:
            progress(n, n)
        return folder
    if folder.exists() and (not folder.is_dir() or not _is_ours(folder)):
        raise DataError(f"{folder} exists and holds other files; choose an empty or new folder for the demo images")
    folder.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{folder.name}.tmp-"
    for stale in folder.parent.glob(prefix + "*"):  # left by a killed process a day or more ago
        if time.time() - stale.stat().st_mtime > 86400:
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=folder.parent))
    try:
        for i in range(n):
            make_landscape(i, size).save(tmp / f"landscape_{i:04d}.png")
            if progress:
                progress(i + 1, n)
        (tmp / MARKER).write_text(json.dumps({"version": DEMO_VERSION, "n": n, "size": list(_wh(size))}), "utf-8")
        try:
            os.replace(tmp, folder)  # atomic; refused when the folder exists and is not empty
        except OSError:
            if _is_complete(folder, n, size):
                return folder  # another process won the race: keep its (identical) pictures
            # An old or partial demo folder: move it aside, then put ours in its place.
            old = Path(tempfile.mkdtemp(prefix=prefix, dir=folder.parent))
            os.replace(folder, old / "old")
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
