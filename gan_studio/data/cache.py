"""Load a data source once into a uint8 (N, C, H, W) array and keep it in an on-disk cache.

The cache key is a hash of every candidate file's identity (relative path, size, mtime_ns, mode) plus
the resolution, aspect, crop policy and a format version, so an unchanged folder loads with one
``np.load`` and no decoding. Entries are an ``.npy`` array and a ``.json`` sidecar, each written to a
temporary file and renamed into place; anything unreadable is treated as a miss and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import PIL

from gan_studio.config import CROP_POLICIES, image_size
from gan_studio.data import arrays
from gan_studio.data.decode import IMAGE_EXTENSIONS, Decoded, stored_size
from gan_studio.data.scan import Listing, Progress, Rejected, decode_many, list_folder
from gan_studio.errors import ConfigError, DataError

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: JPEGs drafted only to twice the size needed, then resampled (decode.DRAFT_MARGIN)
_SUBDIR = "datasets"


@dataclass
class ImageSet:
    images: np.ndarray  # uint8 (N, C, H, W)
    channels: int  # 1 when every image is grayscale, else 3
    height: int  # stored size; for crop='random' the 9/8 larger size
    width: int
    target_height: int  # training size
    target_width: int
    files: list[str]  # relative paths (array sources: 'file#row')
    rejected: list[Rejected] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    source_sizes: list[tuple[int, int]] = field(default_factory=list)  # (width, height) of each source image
    from_cache: bool = False
    source: str = ""

    def __len__(self) -> int:
        return int(self.images.shape[0])


class NoUsableImagesError(DataError):
    """Nothing in the source could be used; ``rejected`` says why for each file."""

    def __init__(self, message: str, rejected: list[Rejected]) -> None:
        super().__init__(message)
        self.rejected = rejected


def default_cache_dir() -> Path:
    """$GAN_STUDIO_CACHE, else $XDG_CACHE_HOME/gan_studio, else ~/.cache/gan_studio."""
    if os.environ.get("GAN_STUDIO_CACHE"):
        return Path(os.environ["GAN_STUDIO_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "gan_studio"
    return Path.home() / ".cache" / "gan_studio"


def load_dataset(
    source: str | os.PathLike[str],
    res: int = 64,
    aspect: str = "1:1",
    crop: str = "center",
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> ImageSet:
    """A folder of images, an MNIST-style file (IDX or CSV), or a folder of those -> ImageSet.

    ``res`` is the short side and ``aspect`` 'W:H' (see config.image_size). Raises DataError when the
    source is missing or nothing in it is usable (NoUsableImagesError carries the rejected list).
    """
    if crop not in CROP_POLICIES:
        raise ConfigError(f"crop must be one of {', '.join(CROP_POLICIES)}, got {crop!r}")
    if res < 1:
        raise ConfigError(f"resolution must be positive, got {res}")
    target = image_size(res, aspect)
    params = [res, aspect, crop]
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(f"data source not found: {path}")
    if path.is_file():
        if not arrays.is_array_file(path.name):
            raise DataError(
                f"{path} is a file: give a folder of images, or an MNIST-style file "
                "(*-idx3-ubyte[.gz], or a .csv[.gz] of 784 pixel columns then a label)"
            )
        file = path.resolve()
        return _load_arrays(file, file.parent, [path.name], [], target, crop, params, cache, progress)

    listing = list_folder(path)
    if listing.candidates:
        return _load_images(listing, target, crop, params, cache, progress)
    array_files = arrays.pick_array_files(listing.ignored)
    if array_files:
        others = [n for n in listing.ignored if n not in array_files]
        return _load_arrays(listing.root, listing.root, array_files, others, target, crop, params, cache, progress)
    if listing.rejected:
        raise NoUsableImagesError(_no_usable(listing.root, listing.rejected), listing.rejected)
    exts = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
    raise DataError(
        f"no image files in {listing.root} (looked for {exts}, in sub-folders too; "
        f"{len(listing.ignored)} other file(s) ignored)"
    )


def _load_images(
    listing: Listing, target: tuple[int, int], crop: str, params: list[Any], cache: Path, progress: Progress | None
) -> ImageSet:
    entries = [[c.path, c.size, c.mtime_ns, c.mode] for c in listing.candidates]
    key = _cache_key("images", params, entries)
    hit = _read_cache(cache, key)
    if hit is not None:
        images, meta = hit
        if progress:
            progress(len(entries), len(entries))
        # listing-time rejections (broken links, unreadable folders) are fresh; decode rejections are cached
        rejected = sorted(listing.rejected + [Rejected(p, r) for p, r in meta["rejected"]], key=lambda r: r.path)
        return _image_set(images, meta, target, rejected, listing.ignored, True, listing.root)

    h, w = stored_size(*target, crop)
    results = decode_many(listing.root, [c.path for c in listing.candidates], *target, crop, progress)
    files: list[str] = []
    pixels: list[np.ndarray] = []
    sizes: list[tuple[int, int]] = []
    gray = True
    decode_rejected: list[Rejected] = []
    for c, r in zip(listing.candidates, results):
        if isinstance(r, Decoded):
            files.append(c.path)
            pixels.append(r.array)
            sizes.append(r.source_size)
            gray = gray and r.is_gray
        else:
            decode_rejected.append(Rejected(c.path, str(r)))
    del results
    rejected = sorted(listing.rejected + decode_rejected, key=lambda r: r.path)
    if not files:
        raise NoUsableImagesError(_no_usable(listing.root, rejected), rejected)

    channels = 1 if gray else 3  # grayscale images in a colour set are already replicated to RGB
    images = np.empty((len(files), channels, h, w), np.uint8)
    for n in range(len(pixels) - 1, -1, -1):  # pop as we go: peak memory stays near one copy of the set
        images[n] = pixels.pop()[:, :, :channels].transpose(2, 0, 1)
    meta = {"files": files, "rejected": [[r.path, r.reason] for r in decode_rejected], "source_sizes": sizes}
    meta = _write_cache(cache, key, images, meta, listing.root)
    return _image_set(images, meta, target, rejected, listing.ignored, False, listing.root)


def _load_arrays(
    source: Path,
    folder: Path,
    names: list[str],
    ignored: list[str],
    target: tuple[int, int],
    crop: str,
    params: list[Any],
    cache: Path,
    progress: Progress | None,
) -> ImageSet:
    paths = [folder / n for n in names]
    try:
        stats = [p.stat() for p in paths]
    except OSError as e:
        raise DataError(f"cannot read {e.filename}: {e.strerror or e}") from None
    entries = [[n, st.st_size, st.st_mtime_ns] for n, st in zip(names, stats)]
    key = _cache_key("arrays", params, entries)
    hit = _read_cache(cache, key)
    if hit is None:
        if progress:
            progress(0, len(paths))
        stack, files = arrays.read_array_files(paths)
        images = arrays.resize_stack(stack, *target, crop)
        meta = {"files": files, "rejected": [], "source_sizes": [[stack.shape[2], stack.shape[1]]] * len(stack)}
        meta = _write_cache(cache, key, images, meta, source)
    else:
        images, meta = hit
    if progress:
        progress(len(paths), len(paths))
    return _image_set(images, meta, target, [], ignored, hit is not None, source)


def _image_set(
    images: np.ndarray,
    meta: dict[str, Any],
    target: tuple[int, int],
    rejected: list[Rejected],
    ignored: list[str],
    from_cache: bool,
    source: Path,
) -> ImageSet:
    return ImageSet(
        images=images,
        channels=int(images.shape[1]),
        height=int(images.shape[2]),
        width=int(images.shape[3]),
        target_height=target[0],
        target_width=target[1],
        files=list(meta["files"]),
        rejected=rejected,
        ignored=list(ignored),
        source_sizes=[(int(w), int(h)) for w, h in meta["source_sizes"]],
        from_cache=from_cache,
        source=str(source),
    )


def _no_usable(root: Path, rejected: list[Rejected]) -> str:
    first = "; ".join(f"{r.path}: {r.reason}" for r in rejected[:3])
    more = f"; and {len(rejected) - 3} more" if len(rejected) > 3 else ""
    return f"no usable image in {root}: {len(rejected)} file(s) rejected ({first}{more})"


def _cache_key(kind: str, params: list[Any], entries: list[list[Any]]) -> str:
    # Pillow's version is part of the key: its decoders and resampling may change the pixels.
    blob = json.dumps([FORMAT_VERSION, PIL.__version__, kind, params, entries], ensure_ascii=True)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()[:40]


def _read_cache(cache: Path, key: str) -> tuple[np.ndarray, dict[str, Any]] | None:
    meta_path, array_path = cache / _SUBDIR / f"{key}.json", cache / _SUBDIR / f"{key}.npy"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION or meta.get("key") != key:
            return None
        images = np.load(array_path, allow_pickle=False)
        n = images.shape[0] if images.ndim == 4 else -1
        if images.dtype != np.uint8 or list(images.shape) != meta["shape"] or len(meta["files"]) != n:
            raise ValueError(f"array {images.dtype} {images.shape} does not match its sidecar")
        if len(meta["source_sizes"]) != n or not isinstance(meta["rejected"], list):
            raise ValueError("sidecar lists do not match the array")
        return images, meta
    except FileNotFoundError:
        return None
    except Exception as e:  # noqa: BLE001 - any damage to a cache entry just means: rebuild it
        log.warning("ignoring a damaged dataset cache entry %s: %s", key, e)
        return None


def _write_cache(cache: Path, key: str, images: np.ndarray, meta: dict[str, Any], source: Path) -> dict[str, Any]:
    """Store images + meta under ``key`` (array first, sidecar last); a failure to write only logs."""
    meta = {"format": FORMAT_VERSION, "key": key, "source": str(source), "shape": list(images.shape), **meta}
    directory = cache / _SUBDIR
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(directory / f"{key}.npy", lambda f: np.save(f, images, allow_pickle=False))
        _atomic_write(directory / f"{key}.json", lambda f: f.write(json.dumps(meta).encode("utf-8")))
    except OSError as e:
        log.warning("could not write the dataset cache in %s: %s", directory, e)
    return meta


def _atomic_write(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
