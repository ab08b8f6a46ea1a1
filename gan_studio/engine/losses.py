"""GAN losses on D's logits. The value function of Goodfellow et al. (2014), written for numerical stability:

V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))], with D(x) = sigmoid(l) so that
log D = -softplus(-l) and log(1 - D) = -softplus(l).

And the hinge loss, which the data-efficient model uses. Each model family names its loss in
``gan_studio.models.LOSSES``.
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


# ------------------------------------------------------------------------------------------------ hinge
def d_hinge_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The hinge loss (Lim and Ye 2017; Miyato et al. 2018): D is pushed only while a real logit is below 1 or a
    fake one above -1, so it stops sharpening on images it already tells apart (less overfitting)."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def g_hinge_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """G raises D's logit on its samples (the hinge loss's generator side; ``kind`` does not apply)."""
    return -fake_logits.mean()


# A model family declares its loss by name (gan_studio.models.LOSSES): name -> (D loss, G loss).
LOSSES = {
    "gan": (d_loss, g_loss),  # the paper's value function; the G loss is TrainConfig.g_loss
    "hinge": (d_hinge_loss, g_hinge_loss),
}


@torch.no_grad()
def step_stats(loss_d: torch.Tensor, loss_g: torch.Tensor, real_logits: torch.Tensor,
               fake_logits: torch.Tensor) -> torch.Tensor:
    """(loss_d, loss_g, D(x), D(G(z))) of a step, on the device: the trainer reads them every log_every steps,
    never inside the step."""
    return torch.stack([loss_d.detach(), loss_g.detach(),
                        torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()])
