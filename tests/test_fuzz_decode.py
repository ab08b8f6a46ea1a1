"""Fuzzing the decoder: random and mutated image bytes never raise anything but ImageDecodeError, never hang.

Hypothesis feeds ``decode_image`` (through a file, as a scan does) with

- mutated copies of small valid PNG, JPEG, GIF, BMP, WebP and TIFF files (data_corpus.small_encodings): bit
  flips, byte overwrites, truncation, deletion, insertion, splices from another seed, and integer header fields
  overwritten with edge values (0, 1, 0x7fff, 0xffffffff...) in either byte order; PNG chunk checksums are
  optionally recomputed, so that a changed IHDR width or height reaches the decoder instead of the CRC check;
- random bytes, bare or behind the magic number of a supported format.

An example passes when the call returns a (16, 16, 3) uint8 array (or the crop policy's stored size) or raises
ImageDecodeError with a short one-line reason. Every example is timed: a file of a few kB must decode at once
(the bound is generous: the machines that run this are shared). The whole test also has a hard timeout that
ends the process with a stack dump if a C decoder ever loops for ever (pytest-timeout's thread method).

What this found (and the fixes in gan_studio/data/decode.py) is listed in test_regressions_found_by_fuzzing.
"""

from __future__ import annotations

import os
import struct
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

sys.path.insert(0, os.path.dirname(__file__))
from data_corpus import EPS_BYTES, small_encodings, tiff_partial_strips_bytes  # noqa: E402

from gan_studio.data.decode import decode_image, stored_size  # noqa: E402
from gan_studio.errors import ImageDecodeError  # noqa: E402

SEEDS = small_encodings()
SEED_NAMES = sorted(SEEDS)
TARGET = 16
PER_EXAMPLE_LIMIT_S = 10.0  # a decode of a few kB is milliseconds; this only catches a real stall
MAGICS = [
    b"",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"\xff\xd8\xff\xdb",
    b"GIF89a",
    b"GIF87a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"RIFF\x00\x01\x00\x00WEBPVP8 ",
    b"RIFF\x00\x01\x00\x00WEBPVP8L",
]
EDGE_VALUES = [0, 1, 2, 3, 7, 8, 15, 16, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 65500,
               0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]

FUZZ_SETTINGS = settings(
    max_examples=2000,
    derandomize=True,  # the same examples on every run and machine
    database=None,
    deadline=None,  # timed by hand below, with a bound that tolerates a busy machine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)

# --- mutations ----------------------------------------------------------------------------------------------

_pos = st.integers(0, 1 << 16)  # reduced modulo the current length
_op = st.one_of(
    st.tuples(st.just("flip"), _pos, st.integers(0, 7)),
    st.tuples(st.just("set"), _pos, st.integers(0, 255)),
    st.tuples(st.just("truncate"), _pos),
    st.tuples(st.just("delete"), _pos, st.integers(1, 64)),
    st.tuples(st.just("insert"), _pos, st.binary(min_size=1, max_size=32)),
    st.tuples(st.just("splice"), _pos, st.sampled_from(SEED_NAMES), _pos, st.integers(1, 256)),
    st.tuples(st.just("field"), st.integers(0, 87), st.sampled_from([1, 2, 4]), st.sampled_from("<>"),
              st.one_of(st.sampled_from(EDGE_VALUES), st.integers(0, 0xFFFFFFFF))),
)


def signature_length(data: bytes) -> int:
    """Bytes of magic number that mutations leave alone: a broken signature only tests identification, which
    the random-bytes test already covers; past it, the mutations reach the header parsers and the decoders."""
    for magic, n in [(b"\x89PNG", 8), (b"GIF8", 6), (b"RIFF", 12), (b"II*", 4), (b"MM\x00", 4), (b"\xff\xd8", 2),
                     (b"BM", 2)]:
        if data.startswith(magic):
            return n
    return 0


def mutate(data: bytes, ops: list[tuple]) -> bytes:
    b = bytearray(data)
    keep = signature_length(data)
    for op in ops:
        if len(b) <= keep:
            break
        kind, p = op[0], keep + op[1] % (len(b) - keep)
        if kind == "flip":
            b[p] ^= 1 << op[2]
        elif kind == "set":
            b[p] = op[2]
        elif kind == "truncate":
            del b[p:]
        elif kind == "delete":
            del b[p : p + op[2]]
        elif kind == "insert":
            b[p:p] = op[2]
        elif kind == "splice":
            other = SEEDS[op[2]]
            q = op[3] % len(other)
            b[p:p] = other[q : q + op[4]]
        else:  # an integer header field, in the 88 bytes after the signature, where the headers are
            width, order, value = op[2], op[3], op[4]
            p = keep + op[1] % (len(b) - keep)
            b[p : p + width] = struct.pack(order + {1: "B", 2: "H", 4: "I"}[width], value & ((1 << 8 * width) - 1))
    return bytes(b)


def fix_png_crcs(data: bytes) -> bytes:
    """Recompute every PNG chunk CRC, so that mutated chunk contents reach the decoder."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    out, i = bytearray(data[:8]), 8
    while i + 12 <= len(data):
        (n,) = struct.unpack(">I", data[i : i + 4])
        if i + 12 + n > len(data):
            break
        kind, body = data[i + 4 : i + 8], data[i + 8 : i + 8 + n]
        out += data[i : i + 8 + n] + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        i += 12 + n
    return bytes(out + data[i:])


# --- the property ---------------------------------------------------------------------------------------


class Fuzzer:
    """Writes each example to one file and decodes it; counts examples and outcomes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.examples = 0
        self.decoded = 0
        self.reasons: dict[str, int] = {}
        self.slowest = (0.0, b"")

    def check(self, data: bytes, crop: str, ext: str) -> None:
        self.examples += 1
        path = self.folder / f"example{ext}"
        path.write_bytes(data)
        t = time.perf_counter()
        try:
            array, gray, (w, h) = decode_image(path, TARGET, TARGET, crop)
        except ImageDecodeError as e:
            reason = str(e)
            assert reason.strip() and "\n" not in reason and len(reason) <= 200, repr(reason)
            key = reason.split(" (")[0].split(":")[0]
            self.reasons[key] = self.reasons.get(key, 0) + 1
        else:  # anything else propagates and fails the example
            assert array.dtype == np.uint8 and array.shape == (*stored_size(TARGET, TARGET, crop), 3)
            assert isinstance(gray, bool) and w >= 1 and h >= 1
            self.decoded += 1
        dt = time.perf_counter() - t
        if dt > self.slowest[0]:
            self.slowest = (dt, data)
        assert dt < PER_EXAMPLE_LIMIT_S, f"decoding {len(data)} bytes took {dt:.1f} s"

    def summary(self, name: str) -> str:
        top = ", ".join(f"{k} {v}" for k, v in sorted(self.reasons.items(), key=lambda kv: -kv[1])[:6])
        return (f"{name}: {self.examples} examples, {self.decoded} decoded, rejected: {top}; "
                f"slowest {self.slowest[0] * 1000:.0f} ms ({len(self.slowest[1])} bytes)")


@pytest.fixture()
def pillow_state():
    """Pillow's and Python's global state must be the same after thousands of decodes."""
    before = (list(warnings.filters), Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
    yield
    assert (list(warnings.filters), Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES) == before


@pytest.mark.slow
@pytest.mark.timeout(600, method="thread")
@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's notes on corrupt EXIF / TIFF tags are expected
def test_mutated_images_decode_or_raise_image_decode_error(tmp_path, pillow_state):
    fuzz = Fuzzer(tmp_path)

    @FUZZ_SETTINGS
    @given(
        seed=st.sampled_from(SEED_NAMES),
        ops=st.lists(_op, min_size=1, max_size=6),
        fix_crc=st.booleans(),
        crop=st.sampled_from(["center", "pad", "random"]),
        ext=st.sampled_from([".png", ".jpg", ".tif"]),
    )
    def run(seed: str, ops: list[tuple], fix_crc: bool, crop: str, ext: str) -> None:
        data = mutate(SEEDS[seed], ops)
        fuzz.check(fix_png_crcs(data) if fix_crc else data, crop, ext)

    t = time.perf_counter()
    run()
    print(fuzz.summary("mutated") + f"; {time.perf_counter() - t:.1f} s in all")
    assert fuzz.examples >= 2000
    assert fuzz.decoded > 100 and len(fuzz.reasons) > 2  # the mutations reach both outcomes


@pytest.mark.timeout(600, method="thread")
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_random_bytes_decode_or_raise_image_decode_error(tmp_path, pillow_state):
    fuzz = Fuzzer(tmp_path)

    @settings(FUZZ_SETTINGS, max_examples=500)
    @given(magic=st.sampled_from(MAGICS), body=st.binary(max_size=2048), ext=st.sampled_from([".png", ".gif"]))
    def run(magic: bytes, body: bytes, ext: str) -> None:
        fuzz.check(magic + body, "center", ext)

    run()
    print(fuzz.summary("random"))
    assert fuzz.examples >= 500


# --- what fuzzing found, kept as plain tests -------------------------------------------------------------


def test_regressions_found_by_fuzzing(tmp_path):
    """Each was a finding; each is fixed in decode.py.

    1. A 1 kB TIFF whose header declares 16x2,000,000 float pixels while its one strip holds 12 rows decoded
       'successfully' into a mostly blank image, and took 0.5 to 4 s (34 MP of float64 temporaries): now
       rejected before any pixel is decoded (the strips must cover the image).
    2. 16-bit and float images were scaled through several full-size float64 copies (seconds and gigabytes for
       a large 16-bit scan): now a table look-up (16-bit) or float32 in place; the values are unchanged.
    """
    path = tmp_path / "partial.tif"
    path.write_bytes(tiff_partial_strips_bytes())
    t = time.perf_counter()
    with pytest.raises(ImageDecodeError, match=r"only part of the 16x2000000 image"):
        decode_image(path, TARGET, TARGET)
    assert time.perf_counter() - t < 1.0

    # 16-bit, big-endian 16-bit and float: the same 8-bit values as the float64 reference
    ramp = np.arange(0, 65536, 64, dtype=np.uint16).reshape(32, 32)
    for name, im in [("le.png", Image.fromarray(ramp)),
                     ("be.tif", Image.frombytes("I;16B", (32, 32), ramp.astype(">u2").tobytes()))]:
        im.save(tmp_path / name)
        a, gray, _ = decode_image(tmp_path / name, 32, 32)
        assert gray and np.array_equal(a[:, :, 0], np.rint(ramp / 257.0).astype(np.uint8)), name
    f = np.linspace(-3.0, 5.0, 32 * 32, dtype=np.float32).reshape(32, 32)
    f[0, 0] = np.nan
    Image.fromarray(f).save(tmp_path / "f.tif")
    a, _, _ = decode_image(tmp_path / "f.tif", 32, 32)
    ref = np.nan_to_num(f.astype(np.float64))
    ref = np.rint((ref - ref.min()) * 255.0 / (ref.max() - ref.min()))
    assert np.abs(a[:, :, 0].astype(int) - ref.astype(int)).max() <= 1


def test_formats_outside_the_supported_six_are_not_decoded(tmp_path, monkeypatch):
    """Found reading the decode path for the fuzz test: Image.open tried every Pillow plugin, so a '.png'
    holding PostScript was handed to Ghostscript on load. Now only JPEG, PNG, GIF, BMP, TIFF and WebP open."""
    from PIL import EpsImagePlugin

    calls = []
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *a, **k: calls.append(a) or pytest.fail("ran gs"))
    (tmp_path / "drawing.png").write_bytes(EPS_BYTES)
    with pytest.raises(ImageDecodeError, match="not an image"):
        decode_image(tmp_path / "drawing.png", TARGET, TARGET)
    assert calls == []
    for fmt, kw in [("ICO", {}), ("PCX", {}), ("TGA", {}), ("PPM", {})]:
        Image.new("RGB", (16, 16), (1, 2, 3)).save(tmp_path / f"other.{fmt.lower()}", fmt, **kw)
        os.replace(tmp_path / f"other.{fmt.lower()}", tmp_path / "other.jpg")
        with pytest.raises(ImageDecodeError, match="not an image"):
            decode_image(tmp_path / "other.jpg", TARGET, TARGET)
