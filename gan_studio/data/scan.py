"""List and validate the images of a folder: what will be used, what was rejected (and why), what was ignored."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from gan_studio.data.decode import Decoded, decode_full, is_image_name
from gan_studio.errors import DataError, ImageDecodeError

Progress = Callable[[int, int], None]  # (done, total); raising from it cancels the work

PROBE_SIZE = 64  # scan decodes to this size only: enough to prove the whole file decodes, cheap with JPEG draft
POOL_MIN_FILES = 32  # below this a thread pool costs more than it saves
POOL_MAX_WORKERS = 4


@dataclass(frozen=True)
class ImageInfo:
    path: str  # relative to the scanned folder, '/'-separated
    width: int  # as displayed (after EXIF orientation)
    height: int
    mode: str  # Pillow mode of the file
    bytes: int


@dataclass(frozen=True)
class Rejected:
    path: str  # relative to the scanned folder
    reason: str


@dataclass
class ScanResult:
    root: Path
    images: list[ImageInfo] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # hidden files, other extensions, skipped folders ('name/')


@dataclass(frozen=True)
class Candidate:
    """A file with an image extension, with the identity that keys the dataset cache."""

    path: str
    size: int
    mtime_ns: int
    mode: int  # st_mode: a chmod that fixes 'permission denied' must invalidate the cache


@dataclass
class Listing:
    root: Path
    candidates: list[Candidate]
    ignored: list[str]
    rejected: list[Rejected]  # found while listing: unreadable sub-folders, broken links


def list_folder(folder: str | os.PathLike[str]) -> Listing:
    """Walk ``folder`` recursively, in sorted order, without decoding anything.

    Symbolic links to folders are followed once: a folder already visited (by real path) is skipped,
    so link loops end. Hidden files and folders (leading '.') and other extensions are only ignored.
    """
    root = _checked_folder(folder)
    candidates: list[Candidate] = []
    ignored: list[str] = []
    rejected: list[Rejected] = []

    def unreadable(e: OSError) -> None:
        rejected.append(Rejected(_rel(root, e.filename or root), f"cannot read folder: {e.strerror or e}"))

    visited = {os.path.realpath(root)}
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=True):
        keep = []
        for d in sorted(dirnames):
            real = os.path.realpath(os.path.join(dirpath, d))
            if d.startswith(".") or real in visited:
                ignored.append(_rel(root, os.path.join(dirpath, d)) + "/")
            else:
                visited.add(real)
                keep.append(d)
        dirnames[:] = keep  # os.walk descends only into these
        for name in filenames:
            full = os.path.join(dirpath, name)
            rel = _rel(root, full)
            if not is_image_name(name):
                ignored.append(rel)
                continue
            try:
                st = os.stat(full)  # follows a link to a file
            except OSError as e:
                if e.errno == errno.ELOOP:
                    why = "symbolic link loop"
                elif os.path.islink(full):
                    why = "broken link"
                else:
                    why = f"cannot read file: {e.strerror or e}"
                rejected.append(Rejected(rel, why))
                continue
            if not stat.S_ISREG(st.st_mode):
                rejected.append(Rejected(rel, "not a regular file"))
                continue
            candidates.append(Candidate(rel, st.st_size, st.st_mtime_ns, st.st_mode))
    candidates.sort(key=lambda c: c.path)
    ignored.sort()
    rejected.sort(key=lambda r: r.path)
    return Listing(root, candidates, ignored, rejected)


def scan_folder(folder: str | os.PathLike[str], progress: Progress | None = None) -> ScanResult:
    """List ``folder`` and fully decode every candidate (at a small size) to sort good files from bad ones.

    Raises DataError when the folder does not exist, is not a folder or cannot be listed.
    """
    listing = list_folder(folder)
    paths = [c.path for c in listing.candidates]
    results = decode_many(listing.root, paths, PROBE_SIZE, PROBE_SIZE, "center", progress)
    images: list[ImageInfo] = []
    rejected = list(listing.rejected)
    for c, r in zip(listing.candidates, results):
        if isinstance(r, Decoded):
            images.append(ImageInfo(c.path, r.source_size[0], r.source_size[1], r.mode, c.size))
        else:
            rejected.append(Rejected(c.path, str(r)))
    rejected.sort(key=lambda r: r.path)
    return ScanResult(listing.root, images, rejected, listing.ignored)


def decode_many(
    root: Path,
    paths: Sequence[str],
    height: int,
    width: int,
    crop: str,
    progress: Progress | None = None,
) -> list[Decoded | ImageDecodeError]:
    """Decode ``root/path`` for each path, in order; a bad file gives its ImageDecodeError in its slot.

    Many files go through a small thread pool (Pillow decodes and resizes without the GIL), which also
    works from a GUI worker thread. ``progress`` is always called on the calling thread.
    """
    total = len(paths)
    results: list[Decoded | ImageDecodeError | None] = [None] * total

    def one(i: int) -> Decoded | ImageDecodeError:
        try:
            return decode_full(root / paths[i], height, width, crop)
        except ImageDecodeError as e:
            return e

    if progress:
        progress(0, total)
    workers = min(POOL_MAX_WORKERS, os.cpu_count() or 1)
    if total < POOL_MIN_FILES or workers < 2:
        for i in range(total):
            results[i] = one(i)
            if progress:
                progress(i + 1, total)
        return results  # type: ignore[return-value]
    with ThreadPoolExecutor(workers, thread_name_prefix="gan-studio-decode") as pool:
        futures = {pool.submit(one, i): i for i in range(total)}
        try:
            for done, future in enumerate(as_completed(futures), 1):
                results[futures[future]] = future.result()
                if progress:
                    progress(done, total)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # a cancelled progress: stop queued work now
            raise
    return results  # type: ignore[return-value]


def _checked_folder(folder: str | os.PathLike[str]) -> Path:
    root = Path(folder).expanduser()
    if not root.exists():
        raise DataError(f"folder not found: {root}")
    if not root.is_dir():
        raise DataError(f"not a folder: {root}")
    try:
        with os.scandir(root):
            pass
    except OSError as e:
        raise DataError(f"cannot list folder {root}: {e.strerror or e}") from None
    return root.resolve()


def _rel(root: Path, path: str | os.PathLike[str]) -> str:
    return Path(os.path.relpath(path, root)).as_posix()
