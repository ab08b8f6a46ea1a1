"""The 2D mode-coverage benchmark: its metric on constructed cases, and a few training steps of its loop."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import mixture2d  # noqa: E402


def test_the_benchmarks_have_the_published_layout():
    g, r = mixture2d.grid(), mixture2d.ring()
    assert g.means.shape == (25, 2) and set(np.unique(g.means)) == {-4, -2, 0, 2, 4} and g.std == 0.05
    assert r.means.shape == (8, 2) and np.allclose(np.linalg.norm(r.means, axis=1), 1.0) and r.std == 0.01
    for mix in (g, r):  # the model sees the data inside tanh's range
        pts = mix.sample(5000, torch.Generator().manual_seed(0))
        assert pts.abs().max() < 1


def test_points_on_every_mode_capture_all_modes_at_full_quality():
    g = mixture2d.grid()
    m = mixture2d.mode_metrics(np.repeat(g.means, 100, axis=0), g.means, g.std)
    assert m["modes"] == 25 and m["hq_share"] == 1.0 and m["counts"] == [100] * 25


def test_real_samples_are_high_quality_at_the_gaussian_rate():
    g = mixture2d.grid()
    pts = g.sample(2500, torch.Generator().manual_seed(1)).double().numpy() * g.scale
    m = mixture2d.mode_metrics(pts, g.means, g.std)
    # within 3 sigma in 2D: 1 - exp(-9/2) = 98.9 %
    assert m["modes"] == 25 and m["hq_share"] == pytest.approx(1 - np.exp(-4.5), abs=0.01)


def test_all_points_at_one_mode_capture_one_mode():
    r = mixture2d.ring()
    pts = r.means[3] + 0.01 * np.random.default_rng(0).normal(size=(2500, 2)) * 0.5
    m = mixture2d.mode_metrics(pts, r.means, r.std)
    assert m["modes"] == 1 and m["hq_share"] == 1.0 and m["counts"][3] == 2500


def test_far_points_are_not_high_quality_and_capture_nothing():
    g = mixture2d.grid()
    between = np.array([[1.0, 1.0], [-3.0, 3.0], [10.0, 10.0]])  # between modes, and far outside
    m = mixture2d.mode_metrics(np.repeat(between, 10, axis=0), g.means, g.std)
    assert m["modes"] == 0 and m["hq_share"] == 0.0
    edge = g.means[:1] + np.array([[3.01 * g.std, 0.0], [2.99 * g.std, 0.0]])  # the threshold is 3 sigma
    assert mixture2d.mode_metrics(edge, g.means, g.std)["counts"][0] == 1


def test_packing_puts_consecutive_points_in_one_discriminator_input():
    pts = torch.arange(16, dtype=torch.float32).view(8, 2)
    x = mixture2d.packed(pts, 4, gain=2.0)
    assert x.shape == (2, 8, 1, 1)
    assert torch.equal(x[1].view(-1), 2.0 * torch.arange(8, 16, dtype=torch.float32))


@pytest.mark.parametrize("pack", [1, 2])
def test_a_few_training_steps_run_and_yield_points(pack):
    s = mixture2d.Settings(steps=3, batch=16, pack=pack, g_hidden=[16, 16], d_hidden=[8], d_pieces=2)
    mix = mixture2d.grid()
    G, _ = mixture2d.train(mix, s, seed=0)
    pts = mixture2d.generate(G, mix, s, 50, seed=1)
    assert pts.shape == (50, 2) and np.isfinite(pts).all() and np.abs(pts).max() <= mix.scale
    m = mixture2d.mode_metrics(pts, mix.means, mix.std)
    assert 0 <= m["modes"] <= 25 and 0.0 <= m["hq_share"] <= 1.0


def test_the_r1_penalty_is_the_squared_input_gradient_and_trains_d():
    D = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1, bias=False))
    with torch.no_grad():
        D[1].weight.copy_(torch.tensor([[1.0, -2.0, 0.5, 2.0]]))
    real = torch.randn(8, 4, 1, 1)
    logits, penalty = mixture2d.r1_penalty(D, real)
    assert torch.allclose(logits, D(real))
    assert penalty.item() == pytest.approx(1 + 4 + 0.25 + 4)  # |w|^2 for every point of a linear D
    penalty.backward()  # it reaches D's weights: d|w|^2/dw = 2w
    assert torch.allclose(D[1].weight.grad, 2 * D[1].weight.detach())


def test_a_run_split_across_processes_merges_into_one_results_file(tmp_path):
    out = tmp_path / "m.json"
    threads = torch.get_num_threads()  # main() sets its own; the rest of the suite keeps the machine's
    try:
        for data, seeds in (("grid", "0"), ("ring", "0"), ("grid", "1,2")):  # grid seeds in two processes
            assert mixture2d.main(["--data", data, "--seeds", seeds, "--steps", "3", "--merge", "--json", str(out),
                                   "--png", str(tmp_path / f"{data}.png")]) == 0
    finally:
        torch.set_num_threads(threads)
    import json

    result = json.loads(out.read_text())
    for key in ("grid_modes_mean", "grid_hq_share_mean", "ring_modes_mean", "ring_hq_share_mean"):
        assert key in result
    assert result["settings"]["pack"] == 2 and result["settings"]["z_dim"] == 16  # the defaults of the table
    assert result["grid"]["minutes"] >= 0 and (tmp_path / "grid.png").is_file()
    grid = result["grid"]
    assert [m["seed"] for m in grid["per_seed"]] == [0, 1, 2] and len(result["ring"]["per_seed"]) == 1
    assert result["grid_hq_share_mean"] == pytest.approx(np.mean([m["hq_share"] for m in grid["per_seed"]]))
