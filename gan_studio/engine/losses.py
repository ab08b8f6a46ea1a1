"""The value function of Goodfellow et al. (2014), written on D's logits for numerical stability.

V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))], with D(x) = sigmoid(l) so that
log D = -softplus(-l) and log(1 - D) = -softplus(l).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """D ascends V, so it minimises -V = softplus(-l_real) + softplus(l_fake)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """minimax: G descends E[log(1 - D(G(z)))] as in the game itself; its gradient vanishes while D rejects
    the fakes confidently, early in training. non_saturating: G ascends E[log D(G(z))] instead (the paper's
    recommendation), same fixed point, strong gradients early."""
    if kind == "minimax":
        return -F.softplus(fake_logits).mean()
    return F.softplus(-fake_logits).mean()
