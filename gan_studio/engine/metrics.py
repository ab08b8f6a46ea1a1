"""Offline quality metrics: nothing is downloaded, everything runs on the CPU in a few seconds.

- ``swd``: the multi-scale sliced Wasserstein distance of Karras et al., "Progressive Growing of GANs" (2018):
  a Laplacian pyramid from the working resolution down to 16 pixels; 128 random 7x7 patches per image and
  level; each level's descriptor set normalised per channel (by its own mean and deviation); 4 x 128 random
  unit directions; the mean absolute difference of the sorted projections, x1e3 per level, and the levels'
  mean. It falls with the number of images compared, so compare only at equal ``n``.
- ``diversity``: mean MS-SSIM (Wang et al. 2003) over random pairs of one set: near 1 means the images look
  alike (mode collapse); compare it with the training set's own figure.
- ``memorisation``: each sample's L2 distance to its nearest training image against that training image's
  distance to its own nearest other training image; a sample closer than half of it is a copy. (A plain
  distance threshold would also flag blurry samples, which sit near many images.)
- ``parzen``: the Parzen-window log-likelihood of Goodfellow et al. (2014), via ``gan_studio.engine.parzen``.

Images are uint8, (N, C, H, W) or (N, H, W, C), numpy or torch.
"""

from __future__ import annotations

import functools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from gan_studio.engine.parzen import ParzenResult, parzen_evaluate

ImageBatch = np.ndarray | torch.Tensor

# ------------------------------------------------------------------------------------------------ inputs


def as_nchw(images: ImageBatch) -> torch.Tensor:
    """uint8 (N, C, H, W) or (N, H, W, C) -> float32 (N, C, H, W) on the CPU, values 0..255."""
    return _layout(images).to("cpu", torch.float32).contiguous()


def _layout(images: ImageBatch) -> torch.Tensor:
    """The images as an (N, C, H, W) tensor view, dtype unchanged (no copy: index it before converting)."""
    t = torch.as_tensor(images) if not isinstance(images, torch.Tensor) else images.detach()
    if t.ndim == 3:  # (N, H, W): grayscale without a channel axis
        t = t[:, None]
    if t.ndim != 4:
        raise ValueError(f"expected a batch of images (N, C, H, W) or (N, H, W, C), got shape {tuple(t.shape)}")
    if t.shape[1] not in (1, 3, 4) and t.shape[-1] in (1, 3, 4):
        t = t.permute(0, 3, 1, 2)
    if t.shape[1] == 4:  # RGBA: the colour is what is judged
        t = t[:, :3]
    return t


def _match_channels(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if a.shape[1] != b.shape[1]:  # grayscale against colour: compare both as colour
        a, b = a.expand(-1, 3, -1, -1) if a.shape[1] == 1 else a, b.expand(-1, 3, -1, -1) if b.shape[1] == 1 else b
    if a.shape[2:] != b.shape[2:]:
        raise ValueError(f"image sizes differ: {tuple(a.shape[2:])} and {tuple(b.shape[2:])}")
    return a, b


def _subset(x: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` of the images, at random (all of them, in order, when there are ``n``), as float32."""
    x = _layout(x)
    return as_nchw(x if len(x) == n else x[torch.randperm(len(x), generator=gen)[:n]])


# -------------------------------------------------------------------------------------- Laplacian pyramid
_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0  # the Burt-Adelson 5-tap kernel


def _blur(x: torch.Tensor) -> torch.Tensor:
    """Binomial 5x5 blur with mirrored borders, each channel alone."""
    c = x.shape[1]
    k = (_BINOMIAL[:, None] * _BINOMIAL[None, :]).to(x).view(1, 1, 5, 5).expand(c, 1, 5, 5)
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), k, groups=c)


def _downsample(x: torch.Tensor) -> torch.Tensor:
    return _blur(x)[:, :, ::2, ::2]


def _upsample(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    n, c, h, w = x.shape
    y = x.new_zeros(n, c, 2 * h, 2 * w)
    y[:, :, ::2, ::2] = x
    return (_blur(y) * 4.0)[:, :, :size[0], :size[1]]  # x4: the zeros took three quarters of the energy


def laplacian_pyramid(x: torch.Tensor, min_size: int = 16) -> list[torch.Tensor]:
    """Band-pass levels from the finest down, then the low-pass residual whose short side is ``min_size``."""
    levels = []
    while min(x.shape[-2:]) > min_size:
        low = _downsample(x)
        levels.append(x - _upsample(low, (x.shape[-2], x.shape[-1])))
        x = low
    levels.append(x)
    return levels


# ------------------------------------------------------------------------------------------------- SWD
@dataclass
class SWDResult:
    levels: list[float]  # x1e3, finest level first
    mean: float
    n: int  # images per set actually compared


def _positions(level: torch.Tensor, per_image: int, size: int,
               gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    n, _, h, w = level.shape
    ys = torch.randint(0, h - size + 1, (n, per_image), generator=gen)
    xs = torch.randint(0, w - size + 1, (n, per_image), generator=gen)
    return ys, xs


def _patches(level: torch.Tensor, ys: torch.Tensor, xs: torch.Tensor, size: int) -> torch.Tensor:
    """(N * per_image, size, size, C) patches whose top-left corners are (ys, xs), each (N, per_image)."""
    n, c = level.shape[:2]
    off = torch.arange(size)
    rows = (ys[..., None] + off)[..., :, None]  # (n, per, size, 1)
    cols = (xs[..., None] + off)[..., None, :]  # (n, per, 1, size)
    img = torch.arange(n)[:, None, None, None]
    p = level.permute(0, 2, 3, 1)[img, rows, cols]  # (n, per, size, size, C)
    return p.reshape(-1, size, size, c)


def _normalise(desc: torch.Tensor) -> torch.Tensor:
    """Per-channel zero mean, unit deviation over the whole descriptor set, then flattened."""
    mean = desc.mean(dim=(0, 1, 2), keepdim=True)
    std = desc.std(dim=(0, 1, 2), keepdim=True).clamp_min(1e-8)
    return ((desc - mean) / std).reshape(desc.shape[0], -1)


@functools.lru_cache(maxsize=None)
def _sort_pool(workers: int, pid: int) -> ThreadPoolExecutor:
    """One pool per process (``pid``): a forked child inherits the parent's pool without its threads."""
    return ThreadPoolExecutor(workers, thread_name_prefix="swd-sort")


def sort_threads() -> int:
    """How many threads sort SWD's projections: as many as torch computes with (a quality check pauses
    training, so those cores are free), never more than the machine has."""
    return max(1, min(torch.get_num_threads(), os.cpu_count() or 1))


def sort_rows(blocks: list[np.ndarray], threads: int | None = None) -> None:
    """Sort each 2-D array along its rows, in place. numpy's sort runs on one core and releases the GIL, so the
    rows are shared out over ``threads`` threads (default ``sort_threads()``); the result is the same."""
    threads = threads or sort_threads()
    if threads == 1:
        for block in blocks:
            block.sort(axis=1)
        return
    pieces = [piece for block in blocks for piece in np.array_split(block, threads) if len(piece)]  # row views
    list(_sort_pool(threads, os.getpid()).map(lambda piece: piece.sort(axis=1), pieces))


def _sliced_distance(a: torch.Tensor, b: torch.Tensor, gen: torch.Generator, repeats: int, directions: int,
                     threads: int | None = None) -> float:
    """Mean over ``repeats`` x ``directions`` random unit directions of the 1-D Wasserstein-1 distance between
    the projections (equal counts: the mean absolute difference of the sorted values)."""
    total = 0.0
    for _ in range(repeats):  # one repeat's projections at a time: a quarter of the peak memory, same directions
        v = torch.randn(a.shape[1], directions, generator=gen)
        v = v / v.norm(dim=0, keepdim=True)
        # numpy sorts rows with SIMD (AVX-512 where present): 10-30x faster here than torch.sort; the sorting is
        # most of a reading's time, so it runs on several threads (sort_rows)
        pa, pb = (v.T @ a.T).numpy(), (v.T @ b.T).numpy()
        sort_rows([pa, pb], threads)
        total += float(np.abs(pa - pb).mean(dtype=np.float64))
    return total / repeats


def swd(a: ImageBatch, b: ImageBatch, n: int | None = None, seed: int = 0, patches_per_image: int = 128,
        patch_size: int = 7, repeats: int = 4, directions: int = 128, min_size: int = 16,
        shared_positions: bool = False, threads: int | None = None) -> SWDResult:
    """Multi-scale SWD between two image sets (uint8), on ``n`` images of each (default: the smaller count).

    Patch positions are drawn independently for each set, as Karras et al. and the referee do, so a set
    against itself scores the estimator's noise floor (about a third of two disjoint halves of one collection).
    ``shared_positions`` draws one set of positions for both: then identical sets score exactly 0. ``threads``:
    how many threads sort the projections (default ``sort_threads()``; the reading does not depend on it)."""
    x, y = _layout(a), _layout(b)
    gen = torch.Generator().manual_seed(seed)
    n = min(len(x), len(y), n or max(len(x), len(y)))
    if n < 1:
        raise ValueError("SWD needs at least one image in each set")
    if min(x.shape[-2:]) < patch_size:
        raise ValueError(f"images of {tuple(x.shape[-2:])} are smaller than a {patch_size}x{patch_size} patch")
    x, y = _match_channels(_subset(x, n, gen), _subset(y, n, gen))
    per_level: list[float] = []
    for lx, ly in zip(laplacian_pyramid(x, min_size), laplacian_pyramid(y, min_size)):
        pos_x = _positions(lx, patches_per_image, patch_size, gen)
        pos_y = pos_x if shared_positions else _positions(ly, patches_per_image, patch_size, gen)
        dx = _normalise(_patches(lx, *pos_x, patch_size))
        dy = _normalise(_patches(ly, *pos_y, patch_size))
        per_level.append(1e3 * _sliced_distance(dx, dy, gen, repeats, directions, threads))
    return SWDResult(per_level, float(np.mean(per_level)), n)


# ---------------------------------------------------------------------------------------------- MS-SSIM
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang, Simoncelli and Bovik (2003)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    g = torch.exp(-((torch.arange(size) - (size - 1) / 2) ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _ssim_parts(x: torch.Tensor, y: torch.Tensor, win: torch.Tensor, data_range: float):
    """Per-image, per-channel mean SSIM and mean contrast-structure term (valid windows only)."""
    c = x.shape[1]
    kh, kw = win.view(1, 1, -1, 1).expand(c, 1, -1, 1), win.view(1, 1, 1, -1).expand(c, 1, 1, -1)

    def filt(t: torch.Tensor) -> torch.Tensor:  # separable 'valid' Gaussian filter
        return F.conv2d(F.conv2d(t, kh, groups=c), kw, groups=c)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = filt(x), filt(y)
    sxx, syy, sxy = filt(x * x) - mx * mx, filt(y * y) - my * my, filt(x * y) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim = (2 * mx * my + c1) / (mx * mx + my * my + c1) * cs
    return ssim.mean(dim=(2, 3)), cs.mean(dim=(2, 3))


def ms_ssim(a: ImageBatch, b: ImageBatch, data_range: float = 255.0, window: int = 11) -> torch.Tensor:
    """MS-SSIM of each pair (a[i], b[i]), shape (N,). Small images use as many of the five scales as hold an
    11-pixel window (3 at 64 px), with the published weights renormalised."""
    x, y = _match_channels(as_nchw(a), as_nchw(b))
    scales = 1
    while scales < len(MS_SSIM_WEIGHTS) and min(x.shape[-2:]) // 2 ** scales >= window:
        scales += 1
    win = _gaussian_window(min(window, *x.shape[-2:]))
    w = torch.tensor(MS_SSIM_WEIGHTS[:scales])
    w = w / w.sum()
    out = torch.ones(x.shape[0], x.shape[1])
    for s in range(scales):
        ssim, cs = _ssim_parts(x, y, win, data_range)
        # negative terms would make fractional powers undefined; they mean "unrelated", so count them as 0
        term = ssim if s == scales - 1 else cs
        out = out * term.clamp_min(0) ** w[s]
        if s < scales - 1:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    return out.mean(dim=1)


def diversity(images: ImageBatch, pairs: int = 1000, seed: int = 0, batch: int = 250) -> float:
    """Mean MS-SSIM over random pairs of distinct images: lower is more diverse."""
    x = _layout(images)  # indexed before any conversion: a large set is never copied whole
    if len(x) < 2:
        return float("nan")
    gen = torch.Generator().manual_seed(seed)
    i = torch.randint(len(x), (pairs,), generator=gen)
    j = (i + torch.randint(1, len(x), (pairs,), generator=gen)) % len(x)  # never i itself
    values = [ms_ssim(as_nchw(x[i[k:k + batch]]), as_nchw(x[j[k:k + batch]])) for k in range(0, pairs, batch)]
    return float(torch.cat(values).mean())


# ------------------------------------------------------------------------------------------ memorisation
@dataclass
class Memorisation:
    copy_share: float  # samples closer than half their nearest training image's own nearest-neighbour distance
    near_share: float  # samples closer than the 5th percentile of training nearest-neighbour distances
    sample_nn: torch.Tensor  # (N,) each sample's distance to its nearest training image (pixels in [0, 1])
    nearest: torch.Tensor  # (N,) index of that training image
    ratio: torch.Tensor  # (N,) sample_nn / that image's own nearest-neighbour distance
    train_nn: torch.Tensor  # (M,) each training image's distance to its nearest other training image

    def summary(self) -> dict[str, float]:
        return {"copy_share": round(self.copy_share, 4), "near_share": round(self.near_share, 4),
                "sample_nn_median": round(float(self.sample_nn.median()), 3),
                "train_nn_median": round(float(self.train_nn.median()), 3),
                "ratio_min": round(float(self.ratio.min()), 3)}


def _flat_small(x: torch.Tensor, max_side: int) -> torch.Tensor:
    """Flattened pixels in [0, 1]; large images are area-averaged down first (a copy stays a copy at 64 px)."""
    factor = max(1, min(x.shape[-2:]) // max_side)
    if factor > 1:
        x = F.avg_pool2d(x, factor)
    return x.reshape(len(x), -1) / 255.0


def _nearest(q: torch.Tensor, ref: torch.Tensor, exclude_self: bool = False, chunk: int = 512):
    ref_sq = (ref * ref).sum(1)
    dists, idx = [], []
    for s in range(0, len(q), chunk):
        qb = q[s:s + chunk]
        # float64 expansion: |q|^2 + |r|^2 - 2 q.r cancels badly in float32 for near-identical images
        d2 = ((qb * qb).sum(1, keepdim=True).double() + ref_sq.double() - 2.0 * (qb @ ref.T).double())
        d = d2.clamp_min(0).sqrt()
        if exclude_self:
            d[torch.arange(len(qb)), torch.arange(s, s + len(qb))] = float("inf")
        v, i = d.min(dim=1)
        dists.append(v.float())
        idx.append(i)
    return torch.cat(dists), torch.cat(idx)


MAX_REFERENCE = 5000  # training images memorisation compares with (a random subset of larger sets: N^2 work)


@dataclass
class Reference:
    """Training images as memorisation compares with them, with each one's nearest-other distance, computed once."""
    flat: torch.Tensor  # (M, D) pixels in [0, 1], downsampled to at most 64 pixels
    nn: torch.Tensor  # (M,) distance of each to its nearest other
    index: torch.Tensor  # (M,) position of each in the training set given


def reference(train: ImageBatch, max_images: int = MAX_REFERENCE, max_side: int = 64, seed: int = 0) -> Reference:
    t = _layout(train)
    if len(t) < 2:
        raise ValueError("memorisation needs at least two training images")
    index = torch.arange(len(t))
    if len(t) > max_images:  # a large set is rarely memorised; a fixed random subset keeps this affordable
        index = torch.randperm(len(t), generator=torch.Generator().manual_seed(seed))[:max_images].sort().values
        t = t[index]
    flat = _flat_small(as_nchw(t), max_side)
    return Reference(flat, _nearest(flat, flat, exclude_self=True)[0], index)


def memorisation(samples: ImageBatch, train: ImageBatch | None = None, threshold: float = 0.5, max_side: int = 64,
                 ref: Reference | None = None) -> Memorisation:
    """Copies among ``samples``; pass ``ref`` (from ``reference(train)``) to reuse the training side."""
    s = as_nchw(samples)
    if ref is None:
        if train is None:
            raise ValueError("memorisation needs the training images or their reference")
        s, t = _match_channels(s, as_nchw(train))
        ref = reference(t, max_side=max_side)
    fs = _flat_small(s, max_side)
    if fs.shape[1] != ref.flat.shape[1]:
        raise ValueError(f"samples and training images differ in size or channels ({fs.shape[1]} and "
                         f"{ref.flat.shape[1]} values after downsampling)")
    sample_nn, nearest = _nearest(fs, ref.flat)
    # an exact duplicate in the training set has distance 0: keep the ratio finite, and a copy of it flagged
    ratio = sample_nn / ref.nn[nearest].clamp_min(1e-6)
    near = torch.quantile(ref.nn, 0.05)
    return Memorisation(float((ratio < threshold).float().mean()), float((sample_nn < near).float().mean()),
                        sample_nn, ref.index[nearest], ratio, ref.nn)


def closest_pairs_image(samples: ImageBatch, train: ImageBatch, mem: Memorisation, k: int = 16,
                        columns: int = 4) -> np.ndarray:
    """uint8 (H, W, 3): the ``k`` samples closest to a training image (by ratio), each beside that image."""
    from torchvision.utils import make_grid

    order = torch.argsort(mem.ratio)[:k]
    s, t = _match_channels(as_nchw(_layout(samples)[order]), as_nchw(_layout(train)[mem.nearest[order]]))
    tiles = torch.stack([im for pair in zip(s, t) for im in pair]) / 255.0
    grid = make_grid(tiles, nrow=2 * columns, padding=2, pad_value=1.0)
    if grid.shape[0] == 1:
        grid = grid.expand(3, -1, -1)
    return grid.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()


# ------------------------------------------------------------------------------------------------ Parzen
def parzen(samples: ImageBatch, train: ImageBatch, seed: int = 0, max_points: int = 1000) -> ParzenResult:
    """Parzen-window log-likelihood (nats) of real images under a window on the samples: sigma chosen on one half
    of (up to 2 x ``max_points``) of the images ``train``, the figure reported on the other. Pass images the
    generator never saw (a test split) for the paper's figure; on training images it rewards memorising."""
    t = _layout(train)
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(t), generator=gen)[:2 * max_points]
    half = len(perm) // 2
    s, valid = _match_channels(as_nchw(samples), as_nchw(t[perm[:half]]))
    test = _match_channels(s, as_nchw(t[perm[half:]]))[1]
    return parzen_evaluate(s / 255.0, valid / 255.0, test / 255.0)


# ---------------------------------------------------------------------------------------------- together
def quick_quality(samples: ImageBatch, train: ImageBatch, seed: int = 0,
                  ref: Reference | None = None) -> dict[str, float]:
    """The cheap pair a training run tracks: SWD (at the smaller count) and the copy share."""
    result = swd(samples, train, seed=seed)
    mem = memorisation(samples, train, ref=ref)
    return {"swd": round(result.mean, 3), "copy_share": round(mem.copy_share, 4), "n": result.n}


def evaluate(samples: ImageBatch, train: ImageBatch, seed: int = 0, with_parzen: bool = True,
             held_out: ImageBatch | None = None) -> dict[str, Any]:
    """Every metric, as a JSON-ready dict. The Parzen estimate is taken on ``held_out`` images where given (and
    says so); on the training images otherwise, labelled as such."""
    result = swd(samples, train, seed=seed)
    mem = memorisation(samples, train)
    out: dict[str, Any] = {
        "n_samples": len(_layout(samples)), "n_train": len(_layout(train)), "swd_n": result.n,
        "swd": round(result.mean, 3), "swd_levels": [round(v, 2) for v in result.levels],
        "ms_ssim_samples": round(diversity(samples, seed=seed), 4),
        "ms_ssim_train": round(diversity(train, seed=seed), 4),
        **mem.summary(),
    }
    if with_parzen:
        p = parzen(samples, train if held_out is None else held_out, seed=seed)
        out["parzen"] = {k: v for k, v in asdict(p).items() if k != "valid_lls"}
        out["parzen"]["held_out"] = held_out is not None
        out["parzen"]["n_images"] = len(_layout(train if held_out is None else held_out))
        out["parzen"]["test_ll"] = round(p.test_ll, 2) if math.isfinite(p.test_ll) else p.test_ll
    return out
