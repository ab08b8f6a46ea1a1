"""MNIST-style array sources: IDX image files and CSV files of 784 pixel columns then a label.

These are how the project's test data ships MNIST; they become 1-channel image stacks.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from gan_studio.data.decode import fit_image
from gan_studio.errors import DataError

CSV_SIDE = 28  # a CSV row is one 28x28 grayscale image
_GZIP_MAGIC = b"\x1f\x8b"
_IDX_UBYTE = 0x08


def is_array_file(name: str) -> bool:
    """True for names like 'train-images-idx3-ubyte(.gz)' or 'mnist_train.csv(.gz)' (any case)."""
    n = os.path.basename(name).lower()
    if n.startswith("."):
        return False
    return n.endswith((".csv", ".csv.gz", "idx3-ubyte", "idx3-ubyte.gz"))


def test_split_beside(source: str | os.PathLike[str]) -> str | None:
    """The test split lying beside an array file that is a training split (MNIST's t10k-images-idx3-ubyte.gz
    beside train-*.csv.gz, or a *test*.csv beside *train*.csv), else None: images the model never saw."""
    path = Path(source)
    if not path.is_file() or not is_array_file(path.name) or "train" not in path.name.lower():
        return None
    tests = sorted(p for p in path.parent.iterdir()
                   if p.is_file() and is_array_file(p.name) and any(t in p.name.lower() for t in ("t10k", "test")))
    return str(tests[0]) if tests else None


def pick_array_files(names: Sequence[str]) -> list[str]:
    """The array files to use from a folder listing: those with 'train' in the name if any, else all."""
    found = sorted(n for n in names if is_array_file(n))
    train = [n for n in found if "train" in os.path.basename(n).lower()]
    return train or found


def read_array_file(path: Path) -> np.ndarray:
    """One IDX or CSV file -> uint8 (N, H, W). Raises DataError with the file name on any problem."""
    data = _read_bytes(path)
    if path.name.lower().endswith((".csv", ".csv.gz")):
        return _parse_csv(data, path.name)
    return _parse_idx(data, path.name)


def read_array_files(paths: Sequence[Path]) -> tuple[np.ndarray, list[str]]:
    """Several files of the same image size, concatenated in order, with a 'file#row' label per image."""
    stacks = [read_array_file(p) for p in paths]
    sizes = {s.shape[1:] for s in stacks}
    if len(sizes) > 1:
        raise DataError(f"array files have different image sizes: {', '.join(f'{h}x{w}' for h, w in sorted(sizes))}")
    labels = [f"{p.name}#{i}" for p, s in zip(paths, stacks) for i in range(len(s))]
    return (np.concatenate(stacks) if len(stacks) > 1 else stacks[0]), labels


def resize_stack(stack: np.ndarray, height: int, width: int, crop: str) -> np.ndarray:
    """uint8 (N, h0, w0) -> uint8 (N, 1, H, W) at ``stored_size(height, width, crop)`` (no work when equal)."""
    n, h0, w0 = stack.shape
    probe = fit_image(Image.new("L", (w0, h0)), height, width, crop)
    if probe.size == (w0, h0):
        return np.ascontiguousarray(stack[:, None])
    out = np.empty((n, 1, probe.size[1], probe.size[0]), np.uint8)
    for i in range(n):
        out[i, 0] = np.asarray(fit_image(Image.fromarray(stack[i]), height, width, crop))
    return out


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
        # by content, not name: some copies of MNIST are gunzipped but keep '.gz', or the reverse
        return gzip.decompress(raw) if raw[:2] == _GZIP_MAGIC else raw
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"cannot read {path.name}: {getattr(e, 'strerror', None) or e}") from None


def _parse_idx(data: bytes, name: str) -> np.ndarray:
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise DataError(f"{name} is not an IDX file (bad magic number)")
    dtype, ndim = data[2], data[3]
    if dtype != _IDX_UBYTE:
        raise DataError(f"{name}: IDX data type 0x{dtype:02x} is not supported (only unsigned bytes)")
    if ndim != 3:
        raise DataError(f"{name}: expected IDX images (N x H x W), got {ndim} dimension(s) (a label file?)")
    if len(data) < 16:
        raise DataError(f"{name}: truncated IDX header")
    dims = struct.unpack(">3I", data[4:16])
    count = dims[0] * dims[1] * dims[2]
    if len(data) - 16 < count or dims[0] == 0 or min(dims[1:]) == 0:
        raise DataError(f"{name}: IDX file is truncated or empty ({len(data) - 16} of {count} bytes)")
    return np.frombuffer(data, np.uint8, count, offset=16).reshape(dims)


def _parse_csv(data: bytes, name: str) -> np.ndarray:
    pixels = CSV_SIDE * CSV_SIDE
    try:
        rows = np.loadtxt(io.BytesIO(data), delimiter=",", dtype=np.int64, ndmin=2)  # C parser: 5,000 rows ~50 ms
    except ValueError as e:
        raise DataError(f"{name}: not a CSV of integers (a header line, or uneven rows?): {e}") from None
    if rows.shape[0] == 0:
        raise DataError(f"{name}: no rows")
    if rows.shape[1] not in (pixels, pixels + 1):
        raise DataError(f"{name}: expected {pixels} pixel columns then a label, got {rows.shape[1]} columns")
    rows = rows[:, :pixels]
    if rows.min() < 0 or rows.max() > 255:
        raise DataError(f"{name}: pixel values must be between 0 and 255")
    return rows.astype(np.uint8).reshape(-1, CSV_SIDE, CSV_SIDE)
