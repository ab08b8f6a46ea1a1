"""A style meter we own: a small CNN trained on the user's own real images, one class per style.

It measures generated images, it plays no part in GAN training: ``StyleMeter.accuracy`` is the share of a
style's generated images the meter calls that style, and ``probabilities(...)[:, b]`` along a run of images whose
style input moves from A to B is the blend curve. Nothing is downloaded and no weights are pretrained, so the
figures depend only on the user's images and the seed; the held-out split says how far the meter itself can be
trusted (a meter at 70 % on real images cannot certify a generator at 95 %).

Augmentation is geometric only (horizontal flip, a few pixels of translation): colour and tone are part of a
painter's style, so jittering them would teach the meter to ignore what it is meant to measure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

STATE_FORMAT = "gan_studio.style_meter/1"
WIDTHS = (32, 64, 128, 128)  # four conv blocks, each halving the side: 32 px -> 2 px before global pooling
DROPOUT = 0.3
LEARNING_RATE = 2e-3
WEIGHT_DECAY = 1e-4
MIN_RES = 16  # four 2x poolings need at least 16 px to leave a 1x1 map


class _StyleNet(nn.Module):
    def __init__(self, channels: int, n_styles: int, widths: tuple[int, ...] = WIDTHS, dropout: float = DROPOUT):
        super().__init__()
        layers: list[nn.Module] = []
        c = channels
        for w in widths:
            # bias is redundant before BatchNorm
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(c, n_styles)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # global average pooling: texture and colour statistics matter, not where things sit in the frame
        return self.head(self.drop(self.features(x).mean(dim=(2, 3))))


def _to_input(images: torch.Tensor, res: int) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 (N, C, res, res) in [-1, 1]."""
    x = images.to(torch.float32).div_(127.5).sub_(1.0)
    if x.shape[2:] != (res, res):
        # antialias: shrinking a 256 px painting to 32 px must not alias its brushwork into false texture
        x = F.interpolate(x, size=(res, res), mode="bilinear", align_corners=False, antialias=True)
    return x


@dataclass
class StyleMeter:
    names: list[str]  # style names, index = label
    net: torch.nn.Module  # the classifier, eval mode, on CPU
    res: int  # side in pixels the classifier reads (images are resized to res x res)
    channels: int
    heldout_accuracy: dict[str, float]  # per style name, plus "all" (over every held-out image); NaN if none held
    heldout_count: dict[str, int]  # per style name, plus "all"

    def _nchw(self, images: np.ndarray) -> torch.Tensor:
        """The layout rule: the channel axis is whichever of axes 1 and 3 has size ``channels``.

        When both do (a 1 or 3 px wide image, or height = channels as well) NCHW wins: it is the layout of the
        engine and of ImageSet, and an image that narrow is not one a style can be read from anyway.
        """
        a = np.asarray(images)
        if a.dtype != np.uint8:
            raise ValueError(f"images must be uint8 (0..255), got {a.dtype}")
        if a.ndim != 4:
            raise ValueError(f"expected images (N, C, H, W) or (N, H, W, C), got shape {a.shape}")
        if a.shape[1] == self.channels:
            t = torch.from_numpy(np.ascontiguousarray(a))
        elif a.shape[3] == self.channels:
            t = torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))
        else:
            raise ValueError(f"the meter reads {self.channels}-channel images; neither axis 1 nor axis 3 of "
                             f"shape {a.shape} has size {self.channels}")
        return t

    def probabilities(self, images: np.ndarray, batch: int = 256) -> np.ndarray:
        """uint8 (N, C, H, W) or (N, H, W, C), any H and W (squashed to res x res) -> float64 (N, S) softmax."""
        t = self._nchw(images)
        self.net.eval()
        out = np.empty((len(t), len(self.names)), dtype=np.float64)
        with torch.inference_mode():
            for i in range(0, len(t), batch):  # resize per batch: a large set of big images never sits in float
                logits = self.net(_to_input(t[i:i + batch], self.res))
                out[i:i + batch] = torch.softmax(logits.double(), dim=1).numpy()
        return out

    def predict(self, images: np.ndarray) -> np.ndarray:
        """int64 (N,): the most probable style of each image."""
        return self.probabilities(images).argmax(axis=1).astype(np.int64)

    def accuracy(self, images: np.ndarray, label: int) -> float:
        """The share of ``images`` the meter calls style ``label`` (NaN for no images)."""
        pred = self.predict(images)
        return float((pred == label).mean()) if len(pred) else math.nan

    def state(self) -> dict[str, Any]:
        """Plain tensors, numbers, strings and lists only, so torch.load(weights_only=True) accepts it."""
        return {
            "format": STATE_FORMAT,
            "names": list(self.names),
            "res": int(self.res),
            "channels": int(self.channels),
            "widths": [int(m.out_channels) for m in self.net.modules() if isinstance(m, nn.Conv2d)],
            "weights": {k: v.detach().clone() for k, v in self.net.state_dict().items()},
            "heldout_accuracy": {k: float(v) for k, v in self.heldout_accuracy.items()},
            "heldout_count": {k: int(v) for k, v in self.heldout_count.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> StyleMeter:
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"not a style meter state (format {state.get('format')!r}, expected {STATE_FORMAT!r})")
        names = [str(n) for n in state["names"]]
        net = _StyleNet(int(state["channels"]), len(names), tuple(int(w) for w in state["widths"]))
        net.load_state_dict(state["weights"])
        net.eval()
        return cls(names, net, int(state["res"]), int(state["channels"]),
                   {str(k): float(v) for k, v in state["heldout_accuracy"].items()},
                   {str(k): int(v) for k, v in state["heldout_count"].items()})


def split_heldout(labels: np.ndarray, share: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split -> (train_idx, heldout_idx), both sorted int64, disjoint, together every index.

    Per style round(share * count) images are held out; at least 1 when share > 0 and the style has >= 2 images,
    and at most count - 1 so every style keeps a training image. Deterministic for a seed.
    """
    if not 0.0 <= share < 1.0:
        raise ValueError(f"held-out share must be in [0, 1), got {share}")
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for style in np.unique(labels):  # sorted, so the draws do not depend on the order of the images
        idx = np.flatnonzero(labels == style)
        k = round(share * len(idx))
        if share > 0 and len(idx) >= 2:
            k = min(max(k, 1), len(idx) - 1)
        held.append(rng.permutation(idx)[:k])
    heldout = np.sort(np.concatenate(held)).astype(np.int64) if held else np.empty(0, np.int64)
    train = np.setdiff1d(np.arange(len(labels), dtype=np.int64), heldout)
    return train, heldout


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random horizontal flip and a random shift of up to res/8 px (reflect-padded crop), per image."""
    n, c, h, w = x.shape
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    p = max(1, h // 8)
    padded = F.pad(x, (p, p, p, p), mode="reflect")
    dy = torch.randint(0, 2 * p + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * p + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :]
    return padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]


def _check(images: np.ndarray, labels: np.ndarray, names: list[str], res: int, epochs: int, batch: int) -> None:
    if len(names) < 2:
        raise ValueError(f"a style meter needs at least 2 styles, got {len(names)}: {names}")
    if len(set(names)) != len(names) or "all" in names:
        raise ValueError(f"style names must be distinct and not 'all' (the key of the overall figure): {names}")
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must be uint8 (N, C, H, W) with C 1 or 3, got {images.dtype} {images.shape}")
    if labels.shape != (len(images),):
        raise ValueError(f"labels must be ({len(images)},), got {labels.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(names)):
        raise ValueError(f"labels must lie in [0, {len(names)}), got {labels.min()}..{labels.max()}")
    counts = np.bincount(labels, minlength=len(names))
    few = [f"{n} ({int(k)})" for n, k in zip(names, counts) if k < 2]
    if few:
        raise ValueError(f"every style needs at least 2 images (one to train on, one to hold out): {', '.join(few)}")
    if res < MIN_RES or epochs < 1 or batch < 2:
        raise ValueError(f"need res >= {MIN_RES}, epochs >= 1, batch >= 2; got {res}, {epochs}, {batch}")


def train_style_meter(images: np.ndarray, labels: np.ndarray, names: list[str], *, res: int = 32, epochs: int = 30,
                      batch: int = 64, seed: int = 0, heldout: float = 0.2,
                      progress: Callable[[int, int], None] | None = None) -> StyleMeter:
    """Train a meter on uint8 (N, C, H, W) images labelled 0..S-1; ``progress(epoch, epochs)`` after each epoch.

    Deterministic for a seed (on one machine and thread count); the global torch RNG is left as it was.
    """
    images = np.asarray(images)
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    _check(images, labels, names, res, epochs, batch)
    S, channels = len(names), int(images.shape[1])
    train_idx, held_idx = split_heldout(labels, heldout, seed)
    # resize once up front: 30 epochs of antialiased resizing would cost more than the training itself
    x_all = torch.cat([_to_input(torch.from_numpy(images[i:i + 512]), res) for i in range(0, len(images), 512)])
    y_all = torch.from_numpy(labels)
    x_train, y_train = x_all[train_idx], y_all[train_idx]
    # class weights: the largest style must not win by count; each style weighs as much as the others in total
    counts = torch.bincount(y_train, minlength=S).double()
    weights = (len(y_train) / (S * counts)).float()
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # init and dropout draw from the global RNG: seed it, then restore it
        torch.manual_seed(seed)
        net = _StyleNet(channels, S)
        opt = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
        per_epoch = max(1, len(x_train) // batch)  # drop the short last batch: noisy BatchNorm statistics
        total, step = epochs * per_epoch, 0
        net.train()
        for epoch in range(epochs):
            order = torch.randperm(len(x_train), generator=gen)
            for b in range(per_epoch):
                pick = order[b * batch:(b + 1) * batch]
                # cosine decay to zero: the last weights are the ones kept, so they should have settled
                for g in opt.param_groups:
                    g["lr"] = LEARNING_RATE * 0.5 * (1 + math.cos(math.pi * step / total))
                loss = F.cross_entropy(net(_augment(x_train[pick], gen)), y_train[pick], weight=weights)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step += 1
            if progress is not None:
                progress(epoch + 1, epochs)
    net.eval()
    y_held = y_all[held_idx]
    with torch.inference_mode():
        pred = torch.cat([net(x_all[held_idx[i:i + 256]]).argmax(dim=1) for i in range(0, len(held_idx), 256)]
                         + [torch.empty(0, dtype=torch.long)])
    correct = (pred == y_held).double()
    acc: dict[str, float] = {}
    cnt: dict[str, int] = {}
    for s, name in enumerate(names):
        mine = y_held == s
        cnt[name] = int(mine.sum())
        acc[name] = float(correct[mine].mean()) if cnt[name] else math.nan
    cnt["all"] = len(held_idx)
    acc["all"] = float(correct.mean()) if len(held_idx) else math.nan
    return StyleMeter(list(names), net, res, channels, acc, cnt)
