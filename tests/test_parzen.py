"""The Parzen-window log-likelihood of Goodfellow et al. (2014), on cases with closed-form answers."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_studio.engine.parzen import PAPER_SIGMAS, parzen_evaluate, parzen_log_likelihoods, select_sigma


def gaussian_logpdf(x: np.ndarray, mean: np.ndarray, var: float) -> np.ndarray:
    d = x.shape[1]
    return -((x - mean) ** 2).sum(1) / (2 * var) - 0.5 * d * math.log(2 * math.pi * var)


def reference_parzen(centres: np.ndarray, x: np.ndarray, sigma: float) -> np.ndarray:
    """parzen_ll.theano_parzen written out directly: log_mean_exp(-0.5 |(x - mu)/sigma|^2) - d log(sigma sqrt 2pi)."""
    a = (x[:, None, :] - centres[None, :, :]) / sigma
    e = -0.5 * (a ** 2).sum(2)
    m = e.max(1)
    lme = m + np.log(np.exp(e - m[:, None]).mean(1))
    return lme - centres.shape[1] * math.log(sigma * math.sqrt(2 * math.pi))


def test_one_centre_gives_the_gaussian_log_density():
    rng = np.random.default_rng(0)
    mu, x = rng.random((1, 784)), rng.random((50, 784))
    for sigma in (0.1, 0.3, 1.0):
        assert np.allclose(parzen_log_likelihoods(mu, x, sigma), gaussian_logpdf(x, mu, sigma ** 2), rtol=1e-10)


def test_matches_the_papers_formula_and_does_not_depend_on_the_batch():
    rng = np.random.default_rng(1)
    centres, x = rng.random((300, 20)), rng.random((77, 20))
    want = reference_parzen(centres, x, 0.2)
    assert np.allclose(parzen_log_likelihoods(centres, x, 0.2, batch=500), want, rtol=1e-10)
    assert np.allclose(parzen_log_likelihoods(centres, x, 0.2, batch=7), want, rtol=1e-10)
    many = parzen_log_likelihoods(torch.as_tensor(centres), x, [0.2, 0.5])  # tensors work as arrays do
    assert many.shape == (2, 77) and np.allclose(many[0], want, rtol=1e-10)
    assert np.allclose(many[1], reference_parzen(centres, x, 0.5), rtol=1e-10)


def test_images_are_flattened_and_a_far_point_stays_finite():
    centres = np.zeros((3, 1, 4, 4))
    far = np.full((1, 1, 4, 4), 100.0)  # every kernel underflows to 0 in exp: log-mean-exp must not give -inf
    ll = parzen_log_likelihoods(centres, far, 0.1)
    assert np.isfinite(ll).all()
    assert ll[0] == pytest.approx(gaussian_logpdf(far.reshape(1, -1), np.zeros(16), 0.01)[0], rel=1e-12)


def test_many_samples_of_a_gaussian_approach_the_smoothed_gaussian():
    # Centres from N(0, s^2 I): the Parzen density tends to N(0, (s^2 + sigma^2) I) as the centres grow.
    rng = np.random.default_rng(2)
    d, s, sigma = 2, 1.0, 0.5
    centres = rng.normal(0, s, (10_000, d))
    test = rng.normal(0, s, (1_000, d))
    ll = parzen_log_likelihoods(centres, test, sigma)
    exact = gaussian_logpdf(test, np.zeros(d), s ** 2 + sigma ** 2)
    assert abs(ll.mean() - exact.mean()) < 0.02
    assert np.abs(ll - exact).mean() < 0.05


def test_sigma_selection_picks_the_maximiser_on_a_constructed_case():
    # One centre at 0 and validation points at distance r: mean LL = -r^2/(2 s^2) - d log(s sqrt(2 pi)),
    # maximal at s^2 = r^2 / d. Put that maximiser on the fourth value of the paper's grid.
    d, target = 64, PAPER_SIGMAS[3]
    rng = np.random.default_rng(3)
    v = rng.normal(size=(40, d))
    v *= target * math.sqrt(d) / np.linalg.norm(v, axis=1, keepdims=True)
    sigma, lls = select_sigma(np.zeros((1, d)), v)
    assert sigma == pytest.approx(target)
    assert len(lls) == 10 and max(lls, key=lls.get) == pytest.approx(target)


def test_evaluate_reports_the_mean_and_the_papers_standard_error():
    rng = np.random.default_rng(4)
    centres, valid, test = rng.random((200, 10)), rng.random((50, 10)), rng.random((120, 10))
    r = parzen_evaluate(centres, valid, test)
    ll = reference_parzen(centres, test, r.sigma)
    assert r.sigma in [pytest.approx(s) for s in PAPER_SIGMAS]
    assert r.test_ll == pytest.approx(ll.mean(), rel=1e-10)
    assert r.test_ll_se == pytest.approx(ll.std() / math.sqrt(len(ll)), rel=1e-10)  # numpy's ddof=0, as there
    assert (r.n_centres, r.n_valid, r.n_test) == (200, 50, 120)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        parzen_log_likelihoods(np.zeros((2, 3)), np.zeros((2, 4)), 0.1)
    with pytest.raises(ValueError):
        parzen_log_likelihoods(np.zeros((2, 3)), np.zeros((2, 3)), 0.0)


def test_the_blur_reference_keeps_sharp_digits_and_blurs_without_losing_ink():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import parzen_blur

    digits = np.zeros((2, 28, 28), np.uint8)
    digits[0, 10:18, 13:15] = 255  # a stroke well inside the frame
    digits[1, 5, 5] = 128
    sharp = parzen_blur.blurred(digits, 0.0)
    assert sharp.shape == (2, 784) and np.allclose(sharp, digits.reshape(2, -1) / 255.0)
    soft = parzen_blur.blurred(digits, 0.7)
    assert soft.sum(1) == pytest.approx(sharp.sum(1), rel=1e-4)  # a Gaussian blur moves ink, never loses it
    assert soft.max() < sharp.max() and (soft > 0).sum() > (sharp > 0).sum()


def test_the_real_centres_reference_holds_each_test_half_out_and_rewards_more_centres():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import parzen_blur

    rng = np.random.default_rng(0)
    train, valid, test = (0.5 + 0.1 * rng.normal(size=(n, 6)) for n in (200, 100, 400))
    rows = parzen_blur.real_centres(train, valid, test, [20, 300])
    assert [r["centres"] for r in rows] == [20, 300]
    for r in rows:  # the two halves, then their mean
        assert len(r["per_half"]) == 2 and r["test_ll"] == pytest.approx(np.mean(r["per_half"]))
    assert rows[1]["test_ll"] > rows[0]["test_ll"]  # more samples of the true density: a better estimate
    with pytest.raises(SystemExit):  # the pool is 200 training + 200 test points
        parzen_blur.real_centres(train, valid, test, [401])
