"""D on a real and a fake batch in one module call, the unit DistributedDataParallel wraps."""

from __future__ import annotations

from typing import Any

import torch


class DiscriminatorPair(torch.nn.Module):
    """D on a real and a fake batch in one forward call, as DistributedDataParallel needs; batch norm still sees
    the two batches separately, as in the single-process step. A self-supervised D also reconstructs the reals:
    the third output is that loss (None for other families)."""

    def __init__(self, d: torch.nn.Module) -> None:
        super().__init__()
        self.d: Any = d  # any family's D; a self-supervised one has reconstruction_loss
        self.self_supervised = hasattr(d, "reconstruction_loss")

    def forward(self, real: torch.Tensor, fake: torch.Tensor, real_y: torch.Tensor | None = None,
                fake_y: torch.Tensor | None = None):
        """``real_y``, ``fake_y``: each batch's styles for a conditional D (None without styles)."""
        if self.self_supervised:
            real_logits, recon = self.d.reconstruction_loss(real, real_y)
            return real_logits, self.d(fake, fake_y), recon
        return self.d(real, real_y), self.d(fake, fake_y), None


def apply_constraints(d: Any) -> None:
    """After a D step: a D with weight constraints (the MLP's max column norm) projects its weights back."""
    if hasattr(d, "apply_constraints"):
        d.apply_constraints()
