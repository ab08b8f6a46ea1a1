"""Styles from sub-folders: a folder whose sub-folders each hold a painter's (or a tradition's) images trains one
conditional model, with one style per sub-folder.

The rule, in full (``describe`` says it to the user):
- a style is a folder directly inside the dropped folder; its name is the folder's name, and every image under it,
  at any depth, belongs to it (a painter's folder may keep its own sub-folders);
- styles are used when at least two such folders hold ``MIN_STYLE_IMAGES`` images or more;
- then images lying loose at the top level, and folders with fewer images, belong to no style: they are left out
  of the training, and a message says which and why (move them into a style folder, or switch styles off to train
  one model on everything);
- otherwise the folder is one data set, as before.

Styles are a function of the images' relative paths alone, so the decoded cache (which stores those paths) gives
each image its label without storing anything more.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MIN_STYLE_IMAGES = 20  # a style with fewer images would be learnt from too little; it is left out, with a message
STYLE_MODES = ("auto", "off")


@dataclass
class StyleLayout:
    names: list[str]  # in sorted order; index = label
    counts: list[int]  # images per style
    loose: int = 0  # images at the top level: in no style
    small: dict[str, int] = field(default_factory=dict)  # folders with too few images: name -> count

    @property
    def left_out(self) -> int:
        return self.loose + sum(self.small.values())

    def messages(self) -> list[str]:
        """What was left out of a styled training, and why, one line each."""
        out = []
        if self.loose:
            out.append(f"{self.loose} image(s) at the top level belong to no style and are left out: move them into "
                       f"a style folder, or switch styles off to train one model on everything")
        for name, count in sorted(self.small.items()):
            out.append(f"folder '{name}' has {count} image(s), fewer than the {MIN_STYLE_IMAGES} a style needs: "
                       f"left out")
        return out

    def describe(self) -> str:
        """'3 styles, one model: monet 300, ming 211, song 222'."""
        parts = ", ".join(f"{n} {c:,}" for n, c in zip(self.names, self.counts))
        return f"{len(self.names)} styles, one model: {parts}"


def style_of(path: str) -> str | None:
    """The style folder of a relative, '/'-separated path (None for an image at the top level)."""
    head, sep, _ = path.partition("/")
    return head if sep else None


def detect_styles(paths: Sequence[str], min_images: int = MIN_STYLE_IMAGES) -> StyleLayout | None:
    """The styles of a folder's images (relative paths), or None when the folder is one data set (see the
    module's rule)."""
    counts: dict[str, int] = {}
    loose = 0
    for p in paths:
        s = style_of(p)
        if s is None:
            loose += 1
        else:
            counts[s] = counts.get(s, 0) + 1
    names = sorted(n for n, c in counts.items() if c >= min_images)
    if len(names) < 2:
        return None
    small = {n: c for n, c in counts.items() if c < min_images}
    return StyleLayout(names, [counts[n] for n in names], loose, small)


def style_labels(paths: Sequence[str], names: Sequence[str]) -> np.ndarray:
    """The label (index into ``names``) of each path, -1 for an image in no style."""
    index = {n: i for i, n in enumerate(names)}
    return np.array([index.get(style_of(p) or "", -1) for p in paths], dtype=np.int64)


def parse_blend(text: str, names: Sequence[str]) -> dict[str, float]:
    """'monet:0.6,song:0.4' (or one name: 'monet') -> {name: weight}, weights normalised to sum to 1.

    Raises ValueError with a message that names the known styles."""
    weights: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, value = part.rpartition(":")
        if not sep:
            name, value = part, "1"
        if name not in names:
            raise ValueError(f"no style named {name!r}; this model knows {', '.join(names)}")
        try:
            w = float(value)
        except ValueError:
            raise ValueError(f"the weight of {name!r} must be a number, got {value!r}") from None
        if not w >= 0:
            raise ValueError(f"the weight of {name!r} must be zero or more, got {value}")
        weights[name] = weights.get(name, 0.0) + w
    total = sum(weights.values())
    if not weights or total <= 0:
        raise ValueError("a blend needs at least one style with a weight above zero, e.g. 'monet:0.6,song:0.4'")
    return {n: w / total for n, w in weights.items()}


def style_vector(names: Sequence[str], weights: dict[str, float]) -> np.ndarray:
    """A point of the simplex of styles: float32 (S,) from {name: weight} (normalised)."""
    v = np.array([max(weights.get(n, 0.0), 0.0) for n in names], dtype=np.float32)
    total = float(v.sum())
    if total <= 0:
        raise ValueError("a style vector needs a positive weight")
    return v / total


def as_style_vector(names: Sequence[str], style: str | np.ndarray | Sequence[float]) -> np.ndarray:
    """float32 (S,) weights summing to 1 for a style's name or a vector over ``names`` (a point of the simplex);
    a ValueError that says what is wrong otherwise."""
    if isinstance(style, str):
        if style not in names:
            raise ValueError(f"no style named {style!r}; this model knows {', '.join(names)}")
        return np.eye(len(names), dtype=np.float32)[list(names).index(style)]
    v = np.asarray(style, np.float32)
    if v.shape != (len(names),) or bool((v < 0).any()) or not float(v.sum()) > 0:
        raise ValueError(f"a style is {len(names)} non-negative weights ({', '.join(names)}), got {style!r}")
    return v / v.sum()


def blend_label(names: Sequence[str], vector: np.ndarray) -> str:
    """A short name for a point of the simplex: 'monet' for a pure style, 'monet60-song40' for a blend."""
    parts = [(n, float(w)) for n, w in zip(names, vector) if w > 1e-6]
    if len(parts) == 1:
        return parts[0][0]
    return "-".join(f"{n}{round(100 * w)}" for n, w in parts)


def proportional_labels(n: int, counts: Sequence[int]) -> np.ndarray:
    """``n`` labels in the proportions of ``counts`` (largest remainders), in blocks: the style mix of a sample
    set compared with the whole training set."""
    counts_a = np.asarray(counts, dtype=np.float64)
    exact = n * counts_a / counts_a.sum()
    k = np.floor(exact).astype(np.int64)
    for i in np.argsort(-(exact - k), kind="stable")[: n - int(k.sum())]:
        k[i] += 1
    return np.repeat(np.arange(len(counts_a)), k)


def select_styled(images: Any, names: Sequence[str]) -> tuple[Any, np.ndarray]:
    """An ImageSet's images that belong to one of ``names``, and their labels. Raises DataError when a style has no
    images (its folder was renamed, emptied or moved)."""
    from gan_studio.errors import DataError

    labels = style_labels(images.files, names)
    counts = np.bincount(labels[labels >= 0], minlength=len(names))
    missing = [n for n, c in zip(names, counts) if c == 0]
    if missing:
        raise DataError(f"no images for the style(s) {', '.join(missing)} in {images.source}: this model was "
                        f"trained with the style folders {', '.join(names)}")
    keep = np.flatnonzero(labels >= 0)
    if len(keep) == len(labels):
        return images, labels
    subset = dataclasses.replace(
        images, images=images.images[keep], files=[images.files[i] for i in keep],
        source_sizes=[images.source_sizes[i] for i in keep] if images.source_sizes else [])
    return subset, labels[keep]


def resolve_styles(mode: str, files: Sequence[str], chosen: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """(the styles a new run trains, what to tell the user): none when ``mode`` is 'off'; else the ``chosen`` ones
    (a config that names them), or those the images' folders give (``detect_styles``)."""
    if mode == "off":
        return [], []
    if chosen:
        return list(chosen), []
    layout = detect_styles(files)
    if layout is None:
        return [], []
    return layout.names, [layout.describe()] + layout.messages()


def seed_style(seed: int, n_styles: int) -> int:
    """The style seed ``seed`` takes when none is asked for: in turn, so a gallery shows every style."""
    return int(seed) % n_styles


def labels_for_seeds(names: Sequence[str], seeds: Sequence[int], style: np.ndarray | None = None) -> list[str]:
    """Each seed's style label ('monet', 'monet60-song40'): ``style`` for all, else each seed's own; '' without
    styles."""
    if not names:
        return [""] * len(seeds)
    if style is not None:
        v = np.asarray(style, np.float64)
        return [blend_label(names, v / float(v.sum()))] * len(seeds)
    return [names[seed_style(s, len(names))] for s in seeds]
