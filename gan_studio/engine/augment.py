"""Differentiable augmentation shown to the discriminator, on reals and fakes alike, with an adaptive strength.

DiffAugment (Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training", 2020): colour
(brightness, saturation, contrast), translation (up to 1/8 of the image, zero padding) and cutout (a square of
half the image's size). Each is a small pure function of a batch in [-1, 1], its probability and a
torch.Generator: every image gets each augmentation with probability ``p``, independently. Every function is
differentiable in ``x``, so the generator learns through it, and draws the same amount of randomness whatever
``p`` is, so the run's random stream does not depend on the strength.

ADA's further operations, for small sets that exhaust those three: "translation_reflect" (integer translation,
borders reflected), "scale" (isotropic, bilinear), "flip" (horizontal) and "hue" (rotation about the grey axis).
Which ones a run uses is its family's choice (gan_studio.families; measured in benchmarks/README.md).

ADA (Karras et al., "Training Generative Adversarial Networks with Limited Data", 2020): the overfitting signal
r_t = E[sign(D(real))] is gathered over ``interval`` steps, and p moves up when r_t is above the target (D is
too sure of the training images) and down when below, clamped to [0, 1]; the speed is set so that p could
cross [0, 1] in ``kimg`` thousand images. Everything stays on the device: no host synchronisation in the step.

With styles (a conditional model, ``gan_studio.data.styles``) each style has its own p, steered by its own r_t
(the real images of that style D saw in the interval) at the speed of its own images: a 200-image style that D
learns by heart sooner gets stronger augmentation than a 2,000-image one beside it, and a style D still finds
hard is not augmented for the others' sake. Each image (real or fake) is augmented with its style's p; a blend's
p is the blend of its styles'.
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


def translation_reflect(x: torch.Tensor, p: torch.Tensor, gen: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """ADA's integer translation: shift by up to ``ratio`` of the height and width, the uncovered border filled by
    reflecting the image (no grey band for D to read as "augmented")."""
    b, c, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    on = _coin(x, p, gen).view(b, 1).long()
    dy = torch.randint(-sy, sy + 1, (b, 1), generator=gen, device=x.device) * on
    dx = torch.randint(-sx, sx + 1, (b, 1), generator=gen, device=x.device) * on
    padded = torch.nn.functional.pad(x, (sx, sx, sy, sy), mode="reflect")
    rows = (sy - dy) + torch.arange(h, device=x.device)
    cols = (sx - dx) + torch.arange(w, device=x.device)
    out = padded.gather(2, rows.view(b, 1, h, 1).expand(b, c, h, w + 2 * sx))
    return out.gather(3, cols.view(b, 1, 1, w).expand(b, c, h, w))


def scale(x: torch.Tensor, p: torch.Tensor, gen: torch.Generator, std: float = 0.2) -> torch.Tensor:
    """ADA's isotropic scaling by 2^N(0, std) about the centre, bilinear, reflected at the borders."""
    b = x.shape[0]
    on = _coin(x, p, gen) > 0
    factor = torch.exp2(torch.randn(b, generator=gen, device=x.device) * std)
    theta = torch.zeros(b, 2, 3, device=x.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0 / factor  # the grid samples the input: zooming in reads a smaller area
    grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    # grid_sample wants input and grid of one dtype, and a bfloat16 grid is off by up to ~1/256 of the image:
    # sample in float32 (autocast does the same for grid_sample)
    scaled = torch.nn.functional.grid_sample(x.float(), grid, mode="bilinear", padding_mode="reflection",
                                             align_corners=False).to(x.dtype)
    return torch.where(on, scaled, x)


def flip(x: torch.Tensor, p: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A horizontal mirror."""
    return torch.where(_coin(x, p, gen) > 0, x.flip(3), x)


def hue(x: torch.Tensor, p: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """ADA's hue rotation: each pixel's colour turned about the grey axis by an angle uniform in [-pi, pi]
    (Rodrigues' rotation, one 3x3 matrix per image; greys stay grey). Grey images are left as they are."""
    b, c = x.shape[:2]
    on = _coin(x, p, gen)
    angle = (torch.rand(b, generator=gen, device=x.device) * 2.0 - 1.0) * torch.pi * on.view(b).float()
    if c != 3:  # a shape, not a value: no synchronisation, and the numbers above are drawn all the same
        return x
    eye = torch.eye(3, device=x.device)  # built on the device: no host tensor to copy over
    turn = eye.roll(1, 0)  # turn @ v = (v2, v0, v1)
    cross = (turn - turn.T) * 3.0 ** -0.5  # cross @ v = k x v for the grey axis k = (1, 1, 1) / sqrt(3)
    outer = torch.full((3, 3), 1.0 / 3.0, device=x.device)  # k k^T
    cos, sin = angle.cos().view(b, 1, 1), angle.sin().view(b, 1, 1)
    rot = cos * eye + sin * cross + (1.0 - cos) * outer  # (B, 3, 3); the identity where the coin is off
    turned = torch.einsum("bij,bjhw->bihw", rot.to(x.dtype), x)
    return torch.where(on > 0, turned, x)  # exact where off (the matmul by I may round)


# name -> the functions it applies in order; TrainConfig.augment_ops chooses among these names
AUGMENTS: dict[str, tuple[Augment, ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
    "translation_reflect": (translation_reflect,),
    "scale": (scale,),
    "flip": (flip,),
    "hue": (hue,),
}


def augment(x: torch.Tensor, ops: list[str] | tuple[str, ...], p: torch.Tensor | float,
            gen: torch.Generator) -> torch.Tensor:
    """Apply the named augmentations, each with probability ``p`` per image (a number, or one per image: (B,));
    keeps x's memory format."""
    channels_last = x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    p = torch.as_tensor(p, device=x.device, dtype=torch.float32)
    if p.dim() == 1:
        p = p.view(-1, 1, 1, 1)  # each image's own probability, against its coins of shape (B, 1, 1, 1)
    for name in ops:
        for fn in AUGMENTS[name]:
            x = fn(x, p, gen)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


class AdaptiveAugment:
    """The augmentation probability p and the ADA controller that adjusts it; all state lives on the device.

    ``fixed`` gives a constant p instead (``None``: adaptive, starting from ``start``). ``styles`` > 0: one p per
    style (the module docstring); ``p`` is then a vector (S,) and ``p_mean`` the figure a log shows."""

    def __init__(self, ops: list[str], device: torch.device, batch: int, target: float = 0.6, interval: int = 4,
                 kimg: float = 100.0, start: float = 0.0, fixed: float | None = None, styles: int = 0,
                 p_max: float = 1.0) -> None:
        unknown = [o for o in ops if o not in AUGMENTS]
        if unknown:
            raise ValueError(f"unknown augmentation(s) {unknown}; choose from {', '.join(AUGMENTS)}")
        self.ops, self.target, self.interval, self.kimg = list(ops), target, interval, kimg
        self.batch, self.adaptive, self.styles, self.p_max = batch, fixed is None, styles, p_max
        shape = (styles,) if styles else ()
        self.p = torch.full(shape, start if fixed is None else fixed, device=device)
        self.signs = torch.zeros(shape, device=device)  # sum over the interval of sign(D(real)) (per style)
        self.counts = torch.zeros(shape, device=device)  # real images behind ``signs`` (per style)
        self.seen = 0  # steps gathered in the current interval
        self.rt = torch.zeros((), device=device)  # the last interval's r_t over all styles, for the statistics
        self.rt_styles = torch.zeros(shape, device=device)  # and per style

    @property
    def p_mean(self) -> torch.Tensor:
        return self.p.mean() if self.styles else self.p

    def image_p(self, y: torch.Tensor | None) -> torch.Tensor:
        """Each image's probability: its style's p (a blend's: the blend of theirs); one p without styles."""
        if not self.styles or y is None:
            return self.p_mean
        return y.float() @ self.p

    def __call__(self, x: torch.Tensor, gen: torch.Generator, y: torch.Tensor | None = None) -> torch.Tensor:
        return augment(x, self.ops, self.image_p(y), gen)

    @torch.no_grad()
    def observe(self, real_logits: torch.Tensor, world_mean: Callable[[torch.Tensor], torch.Tensor] | None = None,
                images_per_step: int | None = None, y: torch.Tensor | None = None) -> None:
        """Gather r_t from one discriminator step (``y``: the real images' styles, one-hot); every ``interval``
        steps move p."""
        signs = torch.sign(real_logits.detach().float()).reshape(-1)
        if self.styles:
            weights = y.float() if y is not None else torch.full((len(signs), self.styles), 1.0 / self.styles,
                                                                 device=signs.device)
            self.signs += signs @ weights
            self.counts += weights.sum(0)
        else:
            self.signs += signs.mean()
            self.counts += 1.0
        self.seen += 1
        if self.seen < self.interval:
            return
        signs_sum, counts = self.signs, self.counts
        if world_mean is not None:  # under torchrun every rank must move p alike
            signs_sum, counts = world_mean(signs_sum), world_mean(counts)
        rt = signs_sum / counts.clamp(min=1e-9)
        images = (images_per_step or self.batch) * self.seen
        if self.styles:
            self.rt.copy_(signs_sum.sum() / counts.sum().clamp(min=1e-9))
            self.rt_styles.copy_(rt)
            images_each = images * counts / counts.sum().clamp(min=1e-9)  # each style's own images
            step = torch.sign(rt - self.target) * (counts > 0) * images_each
        else:
            self.rt.copy_(rt)
            step = torch.sign(rt - self.target) * images
        if self.adaptive:
            self.p.add_(step / (self.kimg * 1000.0)).clamp_(0.0, self.p_max)
        self.signs.zero_()
        self.counts.zero_()
        self.seen = 0

    def state_dict(self) -> dict[str, Any]:
        if self.styles:
            return {"p": self.p.tolist(), "signs": self.signs.tolist(), "counts": self.counts.tolist(),
                    "seen": self.seen, "rt": float(self.rt), "rt_styles": self.rt_styles.tolist()}
        return {"p": float(self.p), "signs": float(self.signs), "seen": self.seen, "rt": float(self.rt)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """A checkpoint's strength; a conditional run saved with one p for all styles (before per-style p) gives
        it to each."""
        def fill(target: torch.Tensor, value: Any, default: float) -> None:
            v = torch.as_tensor(default if value is None else value, dtype=target.dtype).reshape(-1)
            if v.numel() == 1:
                target.fill_(float(v[0]))
            elif v.numel() == target.numel():  # (a checkpoint of other styles keeps the fresh values)
                target.copy_(v.view_as(target))

        fill(self.p, state["p"], 0.0)
        fill(self.signs, state.get("signs"), 0.0)
        fill(self.counts, state.get("counts"), float(state.get("seen", 0)) if not self.styles else 0.0)
        self.seen = int(state.get("seen", 0))
        if self.styles and "counts" not in state:  # an interval gathered the old way: start it afresh
            self.signs.zero_()
            self.seen = 0
        self.rt.fill_(float(state.get("rt", 0.0)))
        fill(self.rt_styles, state.get("rt_styles"), 0.0)
