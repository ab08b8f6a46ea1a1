"""Decode one image file into a fixed-size uint8 RGB array, or say in a few words why it cannot be used.

Every problem with a file becomes ``ImageDecodeError(reason)``: a folder scan must never crash on one file.
Pillow's global state (``LOAD_TRUNCATED_IMAGES``, ``MAX_IMAGE_PIXELS``) is never changed.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_studio.config import CROP_POLICIES
from gan_studio.errors import ConfigError, ImageDecodeError

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
# The only Pillow decoders a file may reach, whatever its name says (a '.png' is identified by content). Leaves
# out every other plugin: EPS would hand the file to Ghostscript, and rarely used decoders are attack surface.
# Pillow's JPEG opener also returns the multi-picture JPEGs (MPO) many cameras write.
DECODER_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP")
DEFAULT_MAX_PIXELS = 100_000_000
MIN_SIDE = 4  # a side shorter than this is a spacer or tracking pixel, not a picture: upscaled it is one flat colour
RANDOM_CROP_SCALE = 9 / 8  # crop='random' stores this much more so the trainer can take random target-size crops
PAD_COLOUR = 0  # crop='pad' letterboxes with black: predictable, and the same for every image of a set

_RESAMPLE = Image.Resampling.LANCZOS
DRAFT_MARGIN = 2  # JPEG draft decoding stops at this multiple of the needed size; the filter does the rest
_REDUCING_GAP = 3.0  # integer pre-reduction first (fast), then LANCZOS over >= 3x the target: no visible loss
_EXIF_ORIENTATION = 0x0112


class Decoded(NamedTuple):
    array: np.ndarray  # uint8 (H, W, 3)
    is_gray: bool  # a grayscale source, or an RGB one whose three channels are identical
    source_size: tuple[int, int]  # (width, height) as displayed, i.e. after EXIF orientation
    mode: str  # the file's Pillow mode before any conversion


def is_image_name(name: str) -> bool:
    """True for a non-hidden file name with one of IMAGE_EXTENSIONS (any case)."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def stored_size(height: int, width: int, crop: str) -> tuple[int, int]:
    """(height, width) actually stored for a target size: crop='random' keeps a 9/8 margin for random crops."""
    if crop == "random":
        return round(height * RANDOM_CROP_SCALE), round(width * RANDOM_CROP_SCALE)
    return height, width


def decode_image(
    path: str | os.PathLike[str],
    height: int,
    width: int,
    crop: str = "center",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[np.ndarray, bool, tuple[int, int]]:
    """Decode ``path`` to a uint8 (H, W, 3) array for a (height, width) target under a crop policy.

    Crop policies: 'center' scales the image to cover the target and keeps the middle; 'pad' fits it
    inside and letterboxes with black (PAD_COLOUR); 'random' is 'center' at ``stored_size`` (9/8 larger)
    so the trainer can take random target-size crops. Alpha is composited onto white.

    Returns (array, is_gray, source (width, height) after EXIF orientation).
    Raises ImageDecodeError with a short one-line reason for any bad file: not a regular file, empty, not
    JPEG/PNG/GIF/BMP/TIFF/WebP, truncated or corrupt, over ``max_pixels``, or under MIN_SIDE on a side.
    """
    d = decode_full(path, height, width, crop, max_pixels)
    return d.array, d.is_gray, d.source_size


def decode_full(
    path: str | os.PathLike[str],
    height: int,
    width: int,
    crop: str = "center",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Decoded:
    """Like decode_image, and also reports the file's Pillow mode (for scan listings)."""
    if crop not in CROP_POLICIES:
        raise ConfigError(f"crop must be one of {', '.join(CROP_POLICIES)}, got {crop!r}")
    if height < 1 or width < 1:
        raise ConfigError(f"target size must be positive, got {height}x{width}")
    path = Path(path)
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block open() for ever; a device never ends
            raise ImageDecodeError("not a regular file")
        if st.st_size == 0:
            raise ImageDecodeError("empty file (0 bytes)")
        with _bomb_warnings_as_errors(), Image.open(path, formats=_open_formats()) as im:
            return _decode_open(im, height, width, crop, max_pixels)
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageDecodeError(_bomb_reason(e, max_pixels)) from None
    except UnidentifiedImageError:
        raise ImageDecodeError("not an image (cannot identify format)") from None
    except FileNotFoundError:
        raise ImageDecodeError("file not found") from None
    except PermissionError:
        raise ImageDecodeError("permission denied") from None
    except IsADirectoryError:
        raise ImageDecodeError("not a regular file") from None
    except MemoryError:
        raise ImageDecodeError("out of memory while decoding") from None
    except Exception as e:  # noqa: BLE001 - Pillow raises many types for bad data; one bad file must not stop a scan
        raise ImageDecodeError(_reason(e)) from None


@functools.cache
def _open_formats() -> tuple[str, ...]:
    """DECODER_FORMATS that this Pillow can open: Image.open raises KeyError for a name it has no opener for."""
    Image.init()
    return tuple(f for f in DECODER_FORMATS if f in Image.OPEN)


def _decode_open(im: Image.Image, height: int, width: int, crop: str, max_pixels: int) -> Decoded:
    mode = im.mode
    w0, h0 = im.size
    if w0 < 1 or h0 < 1:
        raise ImageDecodeError(f"empty image ({w0}x{h0} pixels)")
    if w0 * h0 > max_pixels:  # the declared size: checked before anything is decoded
        raise ImageDecodeError(f"too large: {w0}x{h0} pixels (limit {max_pixels / 1e6:g} MP)")
    if min(w0, h0) < MIN_SIDE:
        raise ImageDecodeError(f"too small: {w0}x{h0} pixels (at least {MIN_SIDE} on each side)")
    if im.format == "TIFF" and not _tiles_cover(im):
        # e.g. a 1 kB file whose strips hold 12 rows of a 16x2,000,000 image: the rest would be blank pixels,
        # and turning that blank into an array would cost seconds
        raise ImageDecodeError(f"corrupt image data (its strips hold only part of the {w0}x{h0} image)")

    orientation = _orientation(im)
    transposed = orientation in (5, 6, 7, 8)  # these swap width and height
    shown = (h0, w0) if transposed else (w0, h0)

    # Reduced JPEG decoding (1/2, 1/4, 1/8) for speed, but only down to DRAFT_MARGIN times what the crop policy
    # needs: the last factor of two or more is the resampling filter's. A DCT-scaled decode straight to the target
    # leaves block-wise texture a resize does not: 300 paintings decoded 256 -> 64 that way read SWD 10.4 against
    # the same paintings resized bicubically (64 px level 14.5), against 9.4 (11.5) drafted to 128 then resized,
    # and a generator learns that texture (benchmarks/README.md, issue 16 on a slower CPU).
    need_w, need_h = _needed_size(shown, stored_size(height, width, crop), crop)
    need_w, need_h = need_w * DRAFT_MARGIN, need_h * DRAFT_MARGIN
    if shown[0] >= 2 * need_w and shown[1] >= 2 * need_h:
        im.draft("RGB", (need_h, need_w) if transposed else (need_w, need_h))
    im.load()  # truncated data raises here (LOAD_TRUNCATED_IMAGES stays False)
    if orientation in range(2, 9):
        im = ImageOps.exif_transpose(im)

    im, gray_mode = _to_l_or_rgb(im)
    im = fit_image(im, height, width, crop)
    if im.mode == "L":
        a = np.asarray(im)
        return Decoded(np.repeat(a[:, :, None], 3, axis=2), True, shown, mode)
    a = np.array(im)  # a writable copy: np.asarray of a Pillow image may be read-only
    return Decoded(a, gray_mode or _channels_equal(a), shown, mode)


def fit_image(im: Image.Image, height: int, width: int, crop: str) -> Image.Image:
    """Resize an L or RGB image to ``stored_size(height, width, crop)`` under the crop policy."""
    h, w = stored_size(height, width, crop)
    sw, sh = im.size
    if crop == "pad":
        # Letterbox: fit inside, then centre on a black canvas.
        scale = min(w / sw, h / sh)
        nw, nh = max(1, min(w, round(sw * scale))), max(1, min(h, round(sh * scale)))
        inner = im if (nw, nh) == (sw, sh) else im.resize((nw, nh), _RESAMPLE, reducing_gap=_REDUCING_GAP)
        canvas = Image.new(im.mode, (w, h), PAD_COLOUR if im.mode == "L" else (PAD_COLOUR,) * 3)
        canvas.paste(inner, ((w - nw) // 2, (h - nh) // 2))
        return canvas
    if (w, h) == (sw, sh):
        return im
    # Cover ('center' and 'random'): the largest centred box of the target aspect, resized in one step.
    if sw * h > sh * w:  # source wider than the target
        cw = sh * w / h
        box = ((sw - cw) / 2, 0.0, (sw + cw) / 2, float(sh))
    else:
        ch = sw * h / w
        box = (0.0, (sh - ch) / 2, float(sw), (sh + ch) / 2)
    return im.resize((w, h), _RESAMPLE, box=box, reducing_gap=_REDUCING_GAP)


def _tiles_cover(im: Image.Image) -> bool:
    """True when the pieces Pillow will decode (strips, tiles) add up to the whole image."""
    w, h = im.size
    area = 0
    for tile in getattr(im, "tile", []):  # Pillow's undocumented (but stable) list of decoder pieces
        x0, y0, x1, y1 = tile[1]
        area += max(0, min(x1, w) - max(x0, 0)) * max(0, min(y1, h) - max(y0, 0))
    return area >= w * h


def _needed_size(shown: tuple[int, int], target: tuple[int, int], crop: str) -> tuple[int, int]:
    """Smallest (width, height) of the source that still gives full detail at the target (height, width)."""
    (sw, sh), (h, w) = shown, target
    pick = min if crop == "pad" else max
    scale = pick(w / sw, h / sh)
    return max(1, int(np.ceil(sw * scale))), max(1, int(np.ceil(sh * scale)))


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(_EXIF_ORIENTATION, 1)
        return int(value) if value in range(1, 9) else 1
    except Exception:  # noqa: BLE001 - a broken EXIF block should not reject otherwise good pixels
        return 1


def _to_l_or_rgb(im: Image.Image) -> tuple[Image.Image, bool]:
    """Any Pillow mode -> ('L' or 'RGB' image, source was a grayscale mode). Transparency goes onto white."""
    mode = im.mode
    has_key = im.info.get("transparency") is not None
    if mode == "1":
        return im.convert("L"), True
    if mode == "L":
        return (_on_white(im.convert("LA")) if has_key else im), True
    if mode in ("LA", "La"):
        return _on_white(im if mode == "LA" else im.convert("LA")), True
    if mode.startswith("I;16") or mode in ("I", "F"):
        return _high_depth_to_l(im), True
    if mode in ("P", "RGB") and not has_key:
        return (im if mode == "RGB" else im.convert("RGB")), False
    if mode in ("P", "PA", "RGB", "RGBA", "RGBa"):
        # alpha channel or a transparency key (P index, RGB colour): through RGBA, then onto white
        return _on_white(im if mode == "RGBA" else im.convert("RGBA")), False
    return im.convert("RGB"), False  # CMYK, YCbCr, LAB, HSV, RGBX: Pillow's own conversions


def _on_white(im: Image.Image) -> Image.Image:
    """Composite an LA or RGBA image over a white background (alpha-blended paste)."""
    base = im.mode[:-1]  # "L" or "RGB"
    canvas = Image.new(base, im.size, 255 if base == "L" else (255, 255, 255))
    canvas.paste(im.convert(base), mask=im.getchannel("A"))
    return canvas


# 16-bit value -> 8-bit, rint(v / 257) (65535 -> 255 exactly): one table look-up per pixel, no float copies,
# so a large 16-bit scan costs one byte a pixel here instead of several float32 arrays.
_LUT16 = np.rint(np.arange(65536, dtype=np.float32) / np.float32(257.0)).astype(np.uint8)


def _high_depth_to_l(im: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer and float images -> 8-bit L, scaled (not clipped) to 0..255."""
    a = np.asarray(im)
    if im.mode.startswith("I;16"):
        out = _LUT16[a.astype(np.uint16, copy=False)]  # big-endian I;16B becomes native first
    elif im.mode == "I":
        lo, hi = int(a.min()), int(a.max())
        if lo >= 0 and hi <= 255:
            out = a.astype(np.uint8)  # 8-bit values in a 32-bit container
        elif lo >= 0 and hi <= 65535:
            out = _LUT16[a]  # 16-bit data that Pillow opened as 'I'
        else:
            out = _to_u8(_stretch(a.astype(np.float64)))
    else:  # 'F': float32, worked on in place
        f = np.nan_to_num(a.astype(np.float32), copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        f_lo, f_hi = float(f.min()), float(f.max())
        if f_lo >= 0 and f_hi <= 1:
            f *= 255.0
        elif not (f_lo >= 0 and f_hi <= 255):
            f = _stretch(f.astype(np.float64))  # float64: (value - lo) cannot overflow
        out = _to_u8(f)
    return Image.fromarray(np.ascontiguousarray(out))


def _to_u8(f: np.ndarray) -> np.ndarray:
    """Round and clip a float array to uint8, in place where it can."""
    np.rint(f, out=f)
    np.clip(f, 0, 255, out=f)
    return f.astype(np.uint8)


def _stretch(a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    if not hi > lo:
        return np.zeros_like(a)
    a -= a.dtype.type(lo)
    a *= a.dtype.type(255.0 / (hi - lo))
    return a


def _channels_equal(a: np.ndarray) -> bool:
    return bool(np.array_equal(a[:, :, 0], a[:, :, 1]) and np.array_equal(a[:, :, 1], a[:, :, 2]))


def _reason(e: BaseException) -> str:
    """A short human reason for an exception Pillow raised while reading one file."""
    msg = " ".join(str(e).split())  # one line: a reason is shown in a list
    if "truncated" in msg.lower() or isinstance(e, (EOFError, struct.error)):
        return "truncated image data"
    if isinstance(e, OSError) and e.errno is not None:
        return f"cannot read file: {e.strerror or msg}"
    detail = f"{type(e).__name__}: {msg}" if msg else type(e).__name__
    return f"corrupt image data ({detail[:120]})"


def _bomb_reason(e: BaseException, max_pixels: int) -> str:
    m = re.search(r"\((\d+) pixels\) exceeds limit of (\d+)", str(e))
    if not m:
        return "too large (decompression bomb check)"
    pixels, limit = int(m.group(1)), int(m.group(2))
    return f"too large: {pixels / 1e6:,.0f} megapixels (limit {min(limit, max_pixels) / 1e6:.0f} MP)"


# warnings.catch_warnings swaps a process-global filter list, so two threads entering and leaving it
# in an interleaved order could leave the 'error' filter installed for good. One shared, reference-counted
# context keeps the filter in place exactly while at least one decode is running.
_bomb_lock = threading.Lock()
_bomb_users = 0
_bomb_ctx: warnings.catch_warnings | None = None


@contextmanager
def _bomb_warnings_as_errors() -> Iterator[None]:
    global _bomb_users, _bomb_ctx
    with _bomb_lock:
        if _bomb_users == 0:
            _bomb_ctx = warnings.catch_warnings()
            _bomb_ctx.__enter__()
            warnings.simplefilter("error", Image.DecompressionBombWarning)
        _bomb_users += 1
    try:
        yield
    finally:
        with _bomb_lock:
            _bomb_users -= 1
            if _bomb_users == 0 and _bomb_ctx is not None:
                _bomb_ctx.__exit__(None, None, None)
                _bomb_ctx = None
