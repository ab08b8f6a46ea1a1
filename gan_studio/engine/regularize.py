"""Discriminator regularisers beside the adversarial loss, and how strongly one acts.

Lazy R1 (Mescheder et al., "Which Training Methods for GANs do actually Converge?", 2018; lazy as in StyleGAN2):
gamma/2 * E|grad_x D(x)|^2 on real images, every ``every`` D steps and weighted by ``every`` so its strength
per image is that of an every-step penalty at a sixteenth of the cost. Computed in float32 outside autocast: a
gradient of a gradient in bfloat16 is too coarse to penalise.

``reconstruction_share`` measures a self-supervised D's reconstruction loss (FastGAN) against the adversarial one
where both train it: the norm of each one's gradient over D's trunk (the layers below the features the decoders
read), the figure Liu et al.'s decoder must not be too weak in.
"""

from __future__ import annotations

from typing import Any, Callable

import torch


def r1_penalty(d: Any, real: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """E|grad_x D(x)|^2 over the batch, in float32, differentiable in D's weights."""
    x = real.detach().float().requires_grad_(True)
    with torch.autocast(device_type=x.device.type, enabled=False):
        logits = d(x, y).float()
        (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return grad.square().sum(dim=tuple(range(1, grad.dim()))).mean()


def lazy_r1(d: Any, real: torch.Tensor, y: torch.Tensor | None, step: int, gamma: float,
            every: int) -> torch.Tensor | None:
    """The R1 term to add to D's loss at ``step`` (None on the steps between, or when gamma is 0)."""
    if gamma <= 0 or step % every:
        return None
    return r1_penalty(d, real, y) * (gamma / 2.0 * every)


def reconstruction_share(d: Any, d_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], real: torch.Tensor,
                         fake: torch.Tensor, weight: float) -> float:
    """The reconstruction's share of D's trunk gradient on one real and one fake batch: |r| / (|r| + |a|) for
    r = grad_trunk(weight x recon), a = grad_trunk(adversarial), in float32 (norms over every trunk parameter both
    losses reach). Bounded in [0, 1]: a batch past the hinge's margin has no adversarial gradient (share 1), where
    |r| / |a| would be unbounded. D's gradients and buffers (spectral norm's vectors, batch norm's statistics,
    which a forward pass in training mode moves) are left as they were."""
    was = [p.requires_grad for p in d.parameters()]
    buffers = [b.clone() for b in d.buffers()]
    d.requires_grad_(True)
    try:
        trunk = [p for name, p in d.named_parameters() if name.startswith(("stem", "downs"))]
        real_logits, recon = d.reconstruction_loss(real)
        adversarial = d_loss(real_logits.float(), d(fake).float())
        g_adv = torch.autograd.grad(adversarial, trunk, retain_graph=True)
        g_rec = torch.autograd.grad(weight * recon, trunk, allow_unused=True)
    finally:
        for p, w in zip(d.parameters(), was):
            p.requires_grad_(w)
        with torch.no_grad():
            for b, saved in zip(d.buffers(), buffers):
                b.copy_(saved)
    shared = [(a, r) for a, r in zip(g_adv, g_rec) if r is not None]
    rec = torch.stack([r.float().square().sum() for _, r in shared]).sum().sqrt()
    adv = torch.stack([a.float().square().sum() for a, _ in shared]).sum().sqrt()
    return float(rec / (rec + adv).clamp(min=1e-12))


def trainer_reconstruction_share(trainer: Any) -> float | None:
    """``reconstruction_share`` of a Trainer's D now (None unless it is an unconditional self-supervised one), on
    batches drawn from a seeded stream of its own, so the training's random stream is untouched. Both batches go
    through the augmentation at its current p, as D's batches do in training: on clean reals a D past the hinge's
    margin has no adversarial gradient at all, and the ratio would say nothing about training."""
    d, t = trainer.D, trainer.config.train
    if not hasattr(d, "reconstruction_loss") or trainer.n_styles:
        return None
    gen = torch.Generator(device=trainer.device).manual_seed(t.seed + trainer.step)
    with torch.no_grad():
        fake = trainer.G_ema(trainer.batches.check_noise(t.batch, t.seed + trainer.step))  # (G's batch norm
        # statistics would move in training mode; the EMA generator was just calibrated for the quality check)
        real = trainer.data.sample(t.batch, gen)
        if trainer.augment_on:
            real, fake = trainer.augment(real, gen), trainer.augment(fake, gen)
    return round(reconstruction_share(d, trainer.d_loss, real, fake, t.recon_weight), 4)
