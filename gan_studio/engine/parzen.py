"""The Gaussian Parzen-window log-likelihood estimate of Goodfellow et al. (2014), as their code computes it.

goodfeli/adversarial parzen_ll.py (credited there to Yann Dauphin): an isotropic Gaussian of width sigma on
each of M generated samples (the centres); a test point x has

    log p(x) = log (1/M) sum_j exp(-|x - mu_j|^2 / (2 sigma^2))  -  d log(sigma sqrt(2 pi)),

sigma is the value of ``numpy.logspace(-1, 0, 10)`` with the highest mean log-likelihood on a validation set
(1,000 digits in the paper's code), and the estimate is the test set's mean log-likelihood with the standard
error ``ll.std() / sqrt(n)`` (numpy's population standard deviation, as there). Pixels are in [0, 1].

Squared distances are computed once per batch of points (|x|^2 + |mu|^2 - 2 x.mu, in float64: the expansion
cancels badly in float32) and reused for every sigma, so choosing among ten sigmas costs one pass. A batch of
``batch`` points holds a (batch, M) float64 block: 500 x 10,000 is 40 MB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

PAPER_SIGMAS: np.ndarray = np.logspace(-1, 0, 10)  # parzen_ll.py: sigma_start -1, sigma_end 0, cross_val 10


@dataclass
class ParzenResult:
    sigma: float  # the width chosen on the validation set
    test_ll: float  # mean log-likelihood of the test points (nats)
    test_ll_se: float  # its standard error
    valid_lls: dict[float, float] = field(default_factory=dict)  # sigma -> mean validation log-likelihood
    n_centres: int = 0
    n_test: int = 0
    n_valid: int = 0


def _as_float64(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(x) if not isinstance(x, torch.Tensor) else x.detach()
    return t.reshape(t.shape[0], -1).to("cpu", torch.float64)


def parzen_log_likelihoods(centres: np.ndarray | torch.Tensor, points: np.ndarray | torch.Tensor,
                           sigmas: float | Sequence[float], batch: int = 500) -> np.ndarray:
    """Per-point log-likelihoods under the Parzen window of ``centres``, for one sigma (shape (N,)) or several
    (shape (len(sigmas), N)). ``centres`` (M, ...) and ``points`` (N, ...) are flattened to vectors."""
    single = np.isscalar(sigmas)
    sig = np.atleast_1d(np.asarray(sigmas, dtype=np.float64))
    if (sig <= 0).any():
        raise ValueError(f"sigma must be positive, got {sigmas}")
    mu = _as_float64(centres)
    x = _as_float64(points)
    if mu.shape[1] != x.shape[1]:
        raise ValueError(f"centres have {mu.shape[1]} dimensions, points {x.shape[1]}")
    m, d = mu.shape
    mu_sq = (mu * mu).sum(1)  # (M,)
    inv_two_var = torch.as_tensor(1.0 / (2.0 * sig * sig), dtype=torch.float64).view(-1, 1, 1)  # (S, 1, 1)
    # log of the mean over centres, and the Gaussian's normalisation in d dimensions
    norm = torch.as_tensor(math.log(m) + d * np.log(sig * math.sqrt(2.0 * math.pi)), dtype=torch.float64)
    out = torch.empty(len(sig), x.shape[0], dtype=torch.float64)
    for start in range(0, x.shape[0], batch):
        xb = x[start:start + batch]  # (B, d)
        d2 = (xb * xb).sum(1, keepdim=True) + mu_sq - 2.0 * (xb @ mu.T)  # (B, M)
        d2.clamp_(min=0.0)  # rounding can leave a tiny negative for a point on a centre
        out[:, start:start + batch] = torch.logsumexp(-d2 * inv_two_var, dim=2) - norm.view(-1, 1)  # (S, B)
    result = out.numpy()
    return result[0] if single else result


def select_sigma(centres: np.ndarray | torch.Tensor, valid: np.ndarray | torch.Tensor,
                 sigmas: Sequence[float] | np.ndarray = PAPER_SIGMAS,
                 batch: int = 500) -> tuple[float, dict[float, float]]:
    """The sigma with the highest mean validation log-likelihood (parzen_ll.cross_validate_sigma), and every
    candidate's mean."""
    lls = parzen_log_likelihoods(centres, valid, list(sigmas), batch).mean(axis=1)
    best = int(np.argmax(lls))  # first maximum on ties, as numpy.argmax there
    return float(sigmas[best]), {float(s): float(v) for s, v in zip(sigmas, lls)}


def parzen_evaluate(centres: np.ndarray | torch.Tensor, valid: np.ndarray | torch.Tensor,
                    test: np.ndarray | torch.Tensor, sigmas: Sequence[float] | np.ndarray = PAPER_SIGMAS,
                    batch: int = 500) -> ParzenResult:
    """The paper's protocol: sigma chosen on ``valid``, then the mean test log-likelihood and its standard error."""
    sigma, valid_lls = select_sigma(centres, valid, sigmas, batch)
    ll = parzen_log_likelihoods(centres, test, sigma, batch)
    return ParzenResult(sigma=sigma, test_ll=float(ll.mean()), test_ll_se=float(ll.std() / math.sqrt(len(ll))),
                        valid_lls=valid_lls, n_centres=len(centres), n_test=len(ll), n_valid=len(valid))
