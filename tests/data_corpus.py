"""A folder of good, odd and broken image files for the data-ingestion tests (built with Pillow and raw writes)."""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)
WIDE_COLOUR = (200, 100, 50)  # wide.png is one flat colour, so letterbox rows are easy to tell apart
GRAY16_LOW = 257 * 100  # right half of gray16.png: 100 after proper 16 -> 8 bit scaling (255 if clipped)

CORPUS_IGNORED = [".hidden.jpg", "notes.txt"]  # what a scan must list as ignored (not rejected)
UNICODE_NAME = "vacances été 🌅 photo.png"


def _noise(w: int, h: int, seed: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


def _halves(w: int, h: int, left: tuple[int, ...], right: tuple[int, ...], mode: str = "RGB") -> Image.Image:
    im = Image.new(mode, (w, h), left)
    im.paste(Image.new(mode, (w - w // 2, h), right), (w // 2, 0))
    return im


def _encoded(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def png_bomb_bytes(width: int = 60000, height: int = 60000) -> bytes:
    """A valid-looking PNG header declaring width x height, with a tiny IDAT: small on disk, huge if decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    idat = zlib.compress(b"\x00" * (width + 1) * 4, 9)  # four rows of zeros: the rest is missing
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def make_bad_input_corpus(folder: str | Path) -> dict[str, str]:
    """Fill ``folder`` and return {relative path: 'ok' | 'rejected'} for every image-named file.

    Files in CORPUS_IGNORED are also written; a scan must list them as ignored.
    """
    root = Path(folder)
    (root / "sub").mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = {}

    def put(rel: str, data: bytes, outcome: str) -> None:
        (root / rel).write_bytes(data)
        expected[rel] = outcome

    # good, plain
    put("a.jpg", _encoded(_noise(64, 48, 1), "JPEG", quality=90), "ok")
    put("b.png", _encoded(_noise(50, 80, 2), "PNG"), "ok")
    put("wide.png", _encoded(Image.new("RGB", (300, 150), WIDE_COLOUR), "PNG"), "ok")
    put("sub/c.jpg", _encoded(_noise(120, 90, 3), "JPEG"), "ok")
    put("UPPER.JPG", _encoded(_noise(40, 40, 4), "JPEG"), "ok")
    put("d.bmp", _encoded(_noise(30, 20, 5), "BMP"), "ok")
    put("e.tiff", _encoded(_noise(20, 30, 6), "TIFF"), "ok")
    put(UNICODE_NAME, _encoded(_noise(33, 33, 7), "PNG"), "ok")

    # good, unusual modes
    g16 = np.full((16, 16), 65535, np.uint16)
    g16[:, 8:] = GRAY16_LOW
    put("gray16.png", _encoded(Image.fromarray(g16), "PNG"), "ok")  # Pillow writes I;16 as a 16-bit PNG
    pal = Image.new("P", (16, 16), 0)
    pal.putpalette([0, 255, 0] + list(RED) + [0] * 762)  # index 0 green (transparent), index 1 red
    pal.paste(1, (8, 0, 16, 16))
    put("palette_trns.png", _encoded(pal, "PNG", transparency=0), "ok")
    put("la.png", _encoded(_halves(16, 16, (0, 0), (0, 255), "LA"), "PNG"), "ok")  # black: clear | opaque
    put("cmyk.jpg", _encoded(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95), "ok")  # red
    put("rgba.png", _encoded(_halves(16, 16, (255, 0, 0, 0), (255, 0, 0, 255), "RGBA"), "PNG"), "ok")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 40x20 (red | blue); shown rotated 90 degrees clockwise: 20x40, red on top
    put("exif_rotated.jpg", _encoded(_halves(40, 20, RED, BLUE), "JPEG", quality=95, exif=exif.tobytes()), "ok")
    frames = [Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), BLUE)]
    put("animated.gif", _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0), "ok")

    # bad
    put("truncated.jpg", _encoded(_noise(200, 200, 8), "JPEG", quality=90)[:3000], "rejected")
    png = _encoded(_noise(200, 200, 9), "PNG")
    put("truncated.png", png[: len(png) * 6 // 10], "rejected")
    put("empty.jpg", b"", "rejected")
    put("text.png", b"just some text, not a picture\n", "rejected")
    put("page.jpg", b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n", "rejected")
    put("bomb.png", png_bomb_bytes(), "rejected")

    # ignored
    (root / "notes.txt").write_text("not an image\n", encoding="utf-8")
    (root / ".hidden.jpg").write_bytes(_encoded(_noise(8, 8, 10), "JPEG"))
    return expected


# --- MNIST-style array files -----------------------------------------------------------------------


def digits(n: int) -> np.ndarray:
    """n random 28x28 uint8 "digits" (seeded by n)."""
    return np.random.default_rng(n).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def write_csv(path: Path, images: np.ndarray) -> None:
    """MNIST CSV: 784 pixel columns then a label, no header; gzipped when the name ends in .gz."""
    rows = [",".join(map(str, list(im.ravel()) + [i % 10])) for i, im in enumerate(images)]
    text = ("\n".join(rows) + "\n").encode()
    path.write_bytes(gzip.compress(text) if path.suffix == ".gz" else text)


def write_idx(path: Path, images: np.ndarray) -> None:
    """An IDX3 unsigned-byte image file; gzipped when the name ends in .gz."""
    data = b"\x00\x00\x08\x03" + struct.pack(">3I", *images.shape) + images.tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
