"""A folder of good, odd and broken image files for the data-ingestion tests (built with Pillow and raw writes)."""

from __future__ import annotations

import gzip
import io
import os
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


# --- more bad input: special files, link loops, odd sizes, formats Pillow knows but GAN Studio does not ----------

EPS_BYTES = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 16 16\n"
             b"newpath 0 0 moveto 16 16 lineto stroke\nshowpage\n%%EOF\n")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_rgb16_bytes(width: int = 16, height: int = 12) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one): a horizontal ramp, filter 0 on every row."""
    row = np.zeros((width, 3), ">u2")
    row[:, 0] = np.linspace(0, 65535, width).astype(np.uint16)
    raw = b"".join(b"\x00" + row.tobytes() for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    chunks = png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def set_tiff_tag(data: bytes, tag: int, value: int) -> bytes:
    """Set ``tag`` of the first IFD of a little-endian TIFF to one LONG ``value`` (the tag must be there)."""
    assert data[:4] == b"II*\x00"
    out = bytearray(data)
    (ifd,) = struct.unpack_from("<I", out, 4)
    (count,) = struct.unpack_from("<H", out, ifd)
    for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
        if struct.unpack_from("<H", out, entry)[0] == tag:
            struct.pack_into("<HHII", out, entry, tag, 4, 1, value)  # type 4: LONG, count 1, inline value
            return bytes(out)
    raise KeyError(tag)


def tiff_partial_strips_bytes() -> bytes:
    """A 1 kB float TIFF whose one strip holds 12 rows while its header declares 2,000,000 rows."""
    im = Image.fromarray(np.linspace(0, 1, 16 * 12, dtype=np.float32).reshape(12, 16))
    return set_tiff_tag(_encoded(im, "TIFF"), 257, 2_000_000)  # 257: ImageLength


def make_more_bad_inputs(folder: str | Path) -> dict[str, tuple[str, str]]:
    """Add the inputs make_bad_input_corpus lacks to ``folder``; return {relative path: (outcome, reason words)}.

    Outcome is 'ok' or 'rejected'; for a rejected file the reason words are a part of its reason. Entries
    whose file system cannot make them (FIFOs, symbolic links) are left out of the folder and the dict.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    expected: dict[str, tuple[str, str]] = {}

    def put(rel: str, data: bytes, outcome: str, words: str = "") -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        expected[rel] = (outcome, words)

    # sizes at the edges: 1x1 and a 2-pixel strip are too small to be pictures; 4x4 is the smallest used
    put("one_pixel.png", _encoded(Image.new("RGB", (1, 1), RED), "PNG"), "rejected", "too small: 1x1 pixels")
    put("one_pixel.gif", _encoded(Image.new("P", (1, 1)), "GIF"), "rejected", "too small: 1x1 pixels")
    put("strip.png", _encoded(_noise(300, 2, 11), "PNG"), "rejected", "too small: 300x2 pixels")
    put("four.png", _encoded(_noise(4, 4, 12), "PNG"), "ok")
    # more modes and formats
    put("rgb16.png", png_rgb16_bytes(), "ok")
    put("palette.png", _encoded(_noise(16, 16, 13).convert("P"), "PNG"), "ok")
    put("gray16_be.tif", _encoded(Image.frombytes("I;16B", (8, 8), bytes(range(128))), "TIFF"), "ok")
    put("lossless.webp", _encoded(_noise(16, 16, 14), "WEBP", lossless=True), "ok")
    # names: spaces, accents, emoji, other scripts, a leading dash, an image-like name on a folder
    put("with  two spaces .png", _encoded(_noise(12, 12, 15), "PNG"), "ok")
    put("Ünïcödé/Ελληνικά 日本語 🎨.jpg", _encoded(_noise(24, 16, 16), "JPEG"), "ok")
    put("-dash.png", _encoded(_noise(12, 12, 17), "PNG"), "ok")
    put("folder.jpg/inside.png", _encoded(_noise(12, 12, 18), "PNG"), "ok")  # 'folder.jpg' is walked into
    # bad content
    put("postscript.png", EPS_BYTES, "rejected", "not an image")  # Pillow knows EPS; GAN Studio must not run it
    put("partial_strips.tif", tiff_partial_strips_bytes(), "rejected", "only part")
    put("zeros.jpg", b"\x00" * 4096, "rejected", "not an image")
    gif = _encoded(_noise(64, 64, 19).convert("P"), "GIF")
    put("truncated.gif", gif[: len(gif) // 2], "rejected", "truncated")

    # special files and links (skipped where the platform cannot make them)
    if hasattr(os, "mkfifo"):
        try:
            os.mkfifo(root / "pipe.jpg")  # opening it for reading would block until a writer comes
            expected["pipe.jpg"] = ("rejected", "not a regular file")
        except OSError:
            pass
    try:
        os.symlink("loop_b.jpg", root / "loop_a.jpg")
        os.symlink("loop_a.jpg", root / "loop_b.jpg")
        expected["loop_a.jpg"] = expected["loop_b.jpg"] = ("rejected", "symbolic link loop")
        os.symlink("..", root / "Ünïcödé" / "up")  # a folder loop: walked once, then listed as ignored
        os.symlink("gone.png", root / "dangling.png")
        expected["dangling.png"] = ("rejected", "broken link")
        os.symlink("four.png", root / "link_to_four.png")  # a link to a good file is used like the file
        expected["link_to_four.png"] = ("ok", "")
        if os.path.exists("/dev/zero"):
            os.symlink("/dev/zero", root / "endless.jpg")  # a device: reading it never ends
            expected["endless.jpg"] = ("rejected", "not a regular file")
    except (OSError, NotImplementedError):
        pass
    return expected


def small_encodings() -> dict[str, bytes]:
    """Small valid files of every format and most modes GAN Studio reads: the seeds that the fuzz test mutates."""
    rgb = _noise(16, 12, 20)
    ramp16 = Image.fromarray((np.arange(16 * 12).reshape(12, 16) * 300).astype(np.uint16))
    exif = Image.Exif()
    exif[0x0112] = 6
    frames = [rgb, rgb.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    return {
        "png_rgb": _encoded(rgb, "PNG"),
        "png_palette_trns": _encoded(rgb.convert("P"), "PNG", transparency=3),
        "png_rgba": _encoded(rgb.convert("RGBA"), "PNG"),
        "png_gray16": _encoded(ramp16, "PNG"),
        "png_rgb16": png_rgb16_bytes(),
        "png_1bit": _encoded(rgb.convert("1"), "PNG"),
        "png_la": _encoded(rgb.convert("LA"), "PNG"),
        "jpeg": _encoded(rgb, "JPEG", quality=80),
        "jpeg_progressive_exif": _encoded(rgb, "JPEG", quality=80, progressive=True, exif=exif.tobytes()),
        "jpeg_cmyk": _encoded(rgb.convert("CMYK"), "JPEG"),
        "jpeg_gray": _encoded(rgb.convert("L"), "JPEG"),
        "gif_animated": _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0),
        "bmp_rgb": _encoded(rgb, "BMP"),
        "bmp_palette": _encoded(rgb.convert("P"), "BMP"),
        "webp_lossy": _encoded(rgb, "WEBP", quality=60),
        "webp_lossless_rgba": _encoded(rgb.convert("RGBA"), "WEBP", lossless=True),
        "tiff_raw": _encoded(rgb, "TIFF"),
        "tiff_lzw": _encoded(rgb, "TIFF", compression="tiff_lzw"),
        "tiff_deflate_gray16": _encoded(ramp16, "TIFF", compression="tiff_adobe_deflate"),
        "tiff_gray16_be": _encoded(Image.frombytes("I;16B", (8, 8), bytes(range(128))), "TIFF"),
        "tiff_jpeg": _encoded(rgb, "TIFF", compression="jpeg"),
        "tiff_packbits_2pages": _encoded(rgb, "TIFF", compression="packbits", save_all=True,
                                         append_images=[rgb.convert("L").convert("RGB")]),
        "tiff_float": _encoded(Image.fromarray(np.linspace(0, 1, 192, dtype=np.float32).reshape(12, 16)), "TIFF"),
    }
