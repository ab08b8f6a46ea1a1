"""Differentiable augmentation shown to the discriminator, on reals and fakes alike, with an adaptive strength.

DiffAugment (Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training", 2020): colour
(brightness, saturation, contrast), translation (up to 1/8 of the image, zero padding) and cutout (a square of
half the image's size). Each is a small pure function of a batch in [-1, 1], its probability and a
torch.Generator: every image gets each augmentation with probability ``p``, independently. Every function is
differentiable in ``x``, so the generator learns through it, and draws the same amount of randomness whatever
``p`` is, so the run's random stream does not depend on the strength.

ADA (Karras et al., "Training Generative Adversarial Networks with Limited Data", 2020): the overfitting signal
r_t = E[sign(D(real))] is gathered over ``interval`` steps, and p moves up when r_t is above the target (D is
too sure of the training images) and down when below, clamped to [0, 1]; the speed is set so that p could
cross [0, 1] in ``kimg`` thousand images. Everything stays on the device: no host synchronisation in the step.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

Augment = Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


def _coin(x: torch.Tensor, p: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """(B, 1, 1, 1) float mask: 1 where this image gets the augmentation."""
    return (torch.rand(x.shape[0], 1, 1, 1, generator=gen, device=x.device) < p).to(x.dtype)


def _uniform(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(x.shape[0], 1, 1, 1, generator=gen, device=x.device, dtype=x.dtype)


def brightness(x: torch.Tensor, p: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Add a uniform offset in [-0.5, 0.5]."""
    on = _coin(x, p, gen)
    return x + (_uniform(x, gen) - 0.5) * on


def saturation(x: torch.Tensor, p: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Scale each pixel's distance from its grey by a factor in [0, 2]."""
    on = _coin(x, p, gen)
    change = (_uniform(x, gen) * 2.0 - 1.0) * on  # factor - 1: written so that "off" is exactly x
    return x + (x - x.mean(dim=1, keepdim=True)) * change


def contrast(x: torch.Tensor, p: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Scale the distance from the image's mean by a factor in [0.5, 1.5]."""
    on = _coin(x, p, gen)
    change = (_uniform(x, gen) - 0.5) * on
    return x + (x - x.mean(dim=(1, 2, 3), keepdim=True)) * change


def translation(x: torch.Tensor, p: torch.Tensor, gen: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Shift by up to ``ratio`` of the height and width, independently per image; uncovered pixels are 0."""
    b, c, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    on = _coin(x, p, gen).view(b, 1).long()
    dy = torch.randint(-sy, sy + 1, (b, 1), generator=gen, device=x.device) * on
    dx = torch.randint(-sx, sx + 1, (b, 1), generator=gen, device=x.device) * on
    padded = torch.nn.functional.pad(x, (sx, sx, sy, sy))  # zeros around: what slides in is mid-grey
    rows = (sy - dy) + torch.arange(h, device=x.device)  # (B, h): source row of each output row
    cols = (sx - dx) + torch.arange(w, device=x.device)  # (B, w)
    out = padded.gather(2, rows.view(b, 1, h, 1).expand(b, c, h, w + 2 * sx))
    return out.gather(3, cols.view(b, 1, 1, w).expand(b, c, h, w))


def cutout(x: torch.Tensor, p: torch.Tensor, gen: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """Zero a rectangle of ``ratio`` of the height and width at a random centre (clipped at the borders)."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    on = _coin(x, p, gen)
    cy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1, 1), generator=gen, device=x.device) - ch // 2
    cx = torch.randint(0, w + (1 - cw % 2), (b, 1, 1, 1), generator=gen, device=x.device) - cw // 2
    ys = torch.arange(h, device=x.device).view(1, 1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, 1, w)
    hole = ((ys >= cy) & (ys < cy + ch) & (xs >= cx) & (xs < cx + cw)).to(x.dtype)  # (B, 1, H, W)
    return x * (1.0 - hole * on)


# name -> the functions it applies in order; TrainConfig.augment_ops chooses among these names
AUGMENTS: dict[str, tuple[Augment, ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


def augment(x: torch.Tensor, ops: list[str] | tuple[str, ...], p: torch.Tensor | float,
            gen: torch.Generator) -> torch.Tensor:
    """Apply the named augmentations, each with probability ``p`` per image; keeps x's memory format."""
    channels_last = x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    p = torch.as_tensor(p, device=x.device, dtype=torch.float32)
    for name in ops:
        for fn in AUGMENTS[name]:
            x = fn(x, p, gen)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


class AdaptiveAugment:
    """The augmentation probability p and the ADA controller that adjusts it; all state lives on the device.

    ``fixed`` gives a constant p instead (``None``: adaptive, starting from ``start``)."""

    def __init__(self, ops: list[str], device: torch.device, batch: int, target: float = 0.6, interval: int = 4,
                 kimg: float = 100.0, start: float = 0.0, fixed: float | None = None) -> None:
        unknown = [o for o in ops if o not in AUGMENTS]
        if unknown:
            raise ValueError(f"unknown augmentation(s) {unknown}; choose from {', '.join(AUGMENTS)}")
        self.ops, self.target, self.interval, self.kimg = list(ops), target, interval, kimg
        self.batch, self.adaptive = batch, fixed is None
        self.p = torch.tensor(start if fixed is None else fixed, device=device)
        self.signs = torch.zeros((), device=device)  # sum over the interval of E[sign(D(real))]
        self.seen = 0  # steps gathered in the current interval
        self.rt = torch.zeros((), device=device)  # the last interval's r_t, for the statistics

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return augment(x, self.ops, self.p, gen)

    @torch.no_grad()
    def observe(self, real_logits: torch.Tensor, world_mean: Callable[[torch.Tensor], torch.Tensor] | None = None,
                images_per_step: int | None = None) -> None:
        """Gather r_t from one discriminator step; every ``interval`` steps move p."""
        self.signs += torch.sign(real_logits.detach().float()).mean()
        self.seen += 1
        if self.seen < self.interval:
            return
        rt = self.signs / self.seen
        if world_mean is not None:  # under torchrun every rank must move p alike
            rt = world_mean(rt)
        self.rt.copy_(rt)
        if self.adaptive:
            images = (images_per_step or self.batch) * self.seen
            self.p.add_(torch.sign(rt - self.target) * images / (self.kimg * 1000.0)).clamp_(0.0, 1.0)
        self.signs.zero_()
        self.seen = 0

    def state_dict(self) -> dict[str, Any]:
        return {"p": float(self.p), "signs": float(self.signs), "seen": self.seen, "rt": float(self.rt)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.p.fill_(float(state["p"]))
        self.signs.fill_(float(state.get("signs", 0.0)))
        self.seen = int(state.get("seen", 0))
        self.rt.fill_(float(state.get("rt", 0.0)))
