"""What the defaults policy needs to know about a data source: how many images, their sizes, shape and colour.

A folder is scanned (every file decoded at a small size, so the count excludes what cannot be used); an
MNIST-style file or a folder of them is read as arrays. The app shows the summary; ``gan_studio.defaults``
turns it into a RunConfig.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from gan_studio.data import arrays
from gan_studio.data.scan import ImageInfo, Progress, Rejected, ScanResult, list_folder, scan_folder
from gan_studio.data.styles import StyleLayout, detect_styles
from gan_studio.errors import DataError

GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")


@dataclass
class DataSummary:
    folder: Path  # the folder shown (an array file's own folder)
    source: str  # the config's data source: a folder, an array file, or 'demo'
    count: int
    rejected: list[Rejected] = field(default_factory=list)
    ignored: int = 0  # files that are not images (hidden files not counted)
    min_size: tuple[int, int] = (0, 0)  # (width, height) of the smallest and largest image
    max_size: tuple[int, int] = (0, 0)
    min_side: int = 0  # the smallest short side
    median_side: int = 0  # the median short side: what most images can give without upscaling
    gray: bool = False  # every image is grayscale
    aspect: float = 1.0  # median width / height
    images: list[ImageInfo] = field(default_factory=list, repr=False)  # empty for array files
    styles: StyleLayout | None = None  # a folder of style folders (gan_studio.data.styles); None: one data set

    @property
    def name(self) -> str:
        if self.source == "demo":
            return "Demo landscapes"
        path = Path(self.source)
        return path.name if path.is_file() else (self.folder.name or str(self.folder))

    @property
    def channels(self) -> int:
        return 1 if self.gray else 3


def summarize_scan(result: ScanResult, source: str) -> DataSummary:
    images = result.images
    ignored = sum(1 for p in result.ignored if not Path(p).name.startswith("."))
    if not images:
        return DataSummary(Path(result.root), source, 0, list(result.rejected), ignored)
    by_area = sorted(images, key=lambda i: i.width * i.height)
    sides = [min(i.width, i.height) for i in images]
    return DataSummary(
        folder=Path(result.root), source=source, count=len(images), rejected=list(result.rejected), ignored=ignored,
        min_size=(by_area[0].width, by_area[0].height), max_size=(by_area[-1].width, by_area[-1].height),
        min_side=min(sides), median_side=int(statistics.median(sides)),
        gray=all(i.mode in GRAY_MODES for i in images),
        aspect=statistics.median(i.width / max(i.height, 1) for i in images), images=list(images),
        styles=detect_styles([i.path for i in images]))


def summarize_arrays(path: Path, names: list[str], ignored: int = 0) -> DataSummary:
    """MNIST-style files (IDX or CSV): grayscale stacks of one size."""
    stack, _ = arrays.read_array_files([path / n for n in names] if path.is_dir() else [path])
    h, w = stack.shape[1:]
    folder = path if path.is_dir() else path.parent
    return DataSummary(folder=folder, source=str(path), count=len(stack), ignored=ignored, min_size=(w, h),
                       max_size=(w, h), min_side=min(h, w), median_side=min(h, w), gray=True, aspect=w / h)


def summarize_source(source: str | os.PathLike[str], progress: Progress | None = None) -> DataSummary:
    """A folder of images, an MNIST-style file, a folder of those files, or 'demo' (the built-in landscapes,
    painted first if need be) -> DataSummary."""
    if str(source) == "demo":
        from gan_studio.data.demo import ensure_demo_folder

        summary = summarize_source(ensure_demo_folder(progress=progress), progress)
        summary.source = "demo"
        return summary
    path = Path(source).expanduser()
    if path.is_file():
        if not arrays.is_array_file(path.name):
            raise DataError(f"{path} is a file: give a folder of images, or an MNIST-style file "
                            "(*-idx3-ubyte[.gz], or a .csv[.gz] of 784 pixel columns then a label)")
        return summarize_arrays(path.resolve(), [path.name])
    listing = list_folder(path)  # raises DataError for a missing or unreadable folder
    if not listing.candidates:
        found = arrays.pick_array_files(listing.ignored)
        if found:
            return summarize_arrays(listing.root, found, len(listing.ignored) - len(found))
    return summarize_scan(scan_folder(path, progress), str(listing.root))
