"""The value function and the two generator losses of Goodfellow et al. (2014)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gan_studio.engine.losses import d_loss, g_loss


def test_d_loss_is_minus_the_value_function():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    dx, dgz = torch.sigmoid(real), torch.sigmoid(fake)
    v = torch.log(dx).mean() + torch.log(1 - dgz).mean()
    assert torch.allclose(d_loss(real, fake), -v, atol=1e-6)
    bce = F.binary_cross_entropy_with_logits(real, torch.ones(2)) + \
        F.binary_cross_entropy_with_logits(fake, torch.zeros(2))
    assert torch.allclose(d_loss(real, fake), bce, atol=1e-6)


def test_at_the_equilibrium_d_is_one_half_and_the_loss_is_log4():
    zero = torch.zeros(4)
    assert math.isclose(d_loss(zero, zero).item(), math.log(4), rel_tol=1e-6)


def test_minimax_loss_saturates_when_d_rejects_fakes_and_non_saturating_does_not():
    # Early in training D(G(z)) is near 0: the minimax gradient vanishes, the non-saturating one does not.
    logits = torch.tensor([-8.0], requires_grad=True)
    g_loss(logits, "minimax").backward()
    minimax_grad = logits.grad.abs().item()
    logits.grad = None
    g_loss(logits, "non_saturating").backward()
    ns_grad = logits.grad.abs().item()
    assert minimax_grad < 1e-3 < 0.9 < ns_grad
    # Both push D(G(z)) up: the gradient of the loss w.r.t. the logit is negative.
    assert logits.grad.item() < 0


def test_minimax_generator_loss_is_log_one_minus_d():
    logits = torch.tensor([0.3, -0.7])
    assert torch.allclose(g_loss(logits, "minimax"), torch.log(1 - torch.sigmoid(logits)).mean(), atol=1e-6)
