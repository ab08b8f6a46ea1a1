"""Offline quality metrics on cases with known answers, and agreement with the referee's yardstick."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_studio.engine import metrics as M

REFEREE = Path(__file__).resolve().parents[2] / "shared" / "referee" / "swd.py"
MONET = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "monet300"


@pytest.fixture(scope="module")
def landscapes() -> np.ndarray:
    """96 procedural landscapes, uint8 (N, 3, 64, 64)."""
    from gan_studio.data.demo import make_landscape

    return np.stack([np.asarray(make_landscape(i, (64, 64)).convert("RGB")).transpose(2, 0, 1) for i in range(96)])


def noise_like(x: np.ndarray, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, x.shape, dtype=np.uint8)


# ---------------------------------------------------------------------------------------------------- SWD
def test_swd_of_identical_sets_is_zero_with_the_same_patches_and_at_the_noise_floor_without(landscapes):
    a, b = landscapes[:48], landscapes[48:]
    assert M.swd(a, a, shared_positions=True).mean == 0.0
    same = M.swd(a, a).mean  # independent patch draws, as the referee: only sampling noise remains
    other = M.swd(a, b).mean
    assert same < 0.6 * other, (same, other)
    assert M.swd(a, b, seed=5).levels == M.swd(a, b, seed=5).levels  # a function of its seed


def test_swd_of_a_set_against_its_augmented_copy_is_small_and_noise_is_large(landscapes):
    a = landscapes[:48]
    flipped = a[..., ::-1].copy()  # mirrored, and a little brighter
    augmented = np.clip(flipped.astype(np.int16) + 3, 0, 255).astype(np.uint8)
    small = M.swd(a, augmented).mean
    different = M.swd(a, landscapes[48:]).mean
    noise = M.swd(a, noise_like(a)).mean
    assert small < different < noise
    assert noise > 100 and small < 0.5 * noise


def test_swd_reads_the_same_whatever_the_number_of_threads_that_sort_its_projections(landscapes):
    a, b = landscapes[:40], landscapes[40:80]
    one = M.swd(a, b, seed=7, threads=1).levels
    assert M.swd(a, b, seed=7, threads=2).levels == one and M.swd(a, b, seed=7, threads=5).levels == one
    rows = np.random.default_rng(0).standard_normal((9, 500)).astype(np.float32)
    blocks = [rows.copy(), rows[:4].copy()]
    M.sort_rows(blocks, threads=4)  # more threads than some blocks have rows: each row still sorted once
    assert (blocks[0] == np.sort(rows, axis=1)).all() and (blocks[1] == np.sort(rows[:4], axis=1)).all()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_swd_sorts_in_a_forked_child_after_its_parent_has(landscapes):
    a, b = landscapes[:20], landscapes[20:40]
    expected = M.swd(a, b, seed=2, threads=2).levels  # the parent's pool now exists, with its threads
    pid = os.fork()
    if pid == 0:  # the child inherits the pool object but none of its threads: it must make its own
        torch.set_num_threads(1)  # torch's own OpenMP pool is not fork-safe either (that is torch's to mind)
        os._exit(0 if M.swd(a, b, seed=2, threads=2).levels == expected else 1)
    deadline = time.monotonic() + 30
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    if done[0] == 0:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    assert done[0] == pid and os.waitstatus_to_exitcode(done[1]) == 0, "the forked child hung or read differently"


def test_swd_has_one_level_per_octave_down_to_16_pixels_and_takes_either_layout(landscapes):
    a, b = landscapes[:20], landscapes[20:40]
    r = M.swd(a, b, seed=3)
    assert len(r.levels) == 3 and r.n == 20  # 64, 32 (band-pass) and 16 (low-pass)
    assert r.mean == pytest.approx(np.mean(r.levels))
    nhwc = M.swd(a.transpose(0, 2, 3, 1), torch.from_numpy(b.transpose(0, 2, 3, 1)), seed=3)
    assert nhwc.levels == r.levels
    assert M.swd(a, landscapes[20:80], seed=3).n == 20  # compared at the smaller count


def test_laplacian_pyramid_reconstructs_the_image():
    x = torch.rand(2, 3, 64, 48) * 255
    levels = M.laplacian_pyramid(x)
    assert [tuple(t.shape[-2:]) for t in levels] == [(64, 48), (32, 24), (16, 12)]
    rebuilt = levels[-1]
    for band in reversed(levels[:-1]):
        rebuilt = band + M._upsample(rebuilt, tuple(band.shape[-2:]))
    assert torch.allclose(rebuilt, x, atol=1e-3)


# ------------------------------------------------------------------------------------------------ MS-SSIM
@pytest.mark.slow
def test_ms_ssim_is_one_for_identical_images_and_low_for_noise(landscapes):
    a = landscapes[:8]
    assert torch.allclose(M.ms_ssim(a, a), torch.ones(8), atol=1e-5)
    assert M.ms_ssim(a, noise_like(a)).max() < 0.1
    assert M.diversity(np.repeat(a[:1], 10, axis=0)) == pytest.approx(1.0, abs=1e-5)  # total collapse
    varied = M.diversity(landscapes)
    assert 0.0 < varied < 0.9
    assert M.diversity(noise_like(landscapes)) < varied


# ----------------------------------------------------------------------------------------- memorisation
def test_a_generator_that_copies_its_training_images_is_flagged(landscapes):
    train = landscapes
    rng = np.random.default_rng(1)
    copies = train[rng.integers(0, len(train), 60)].astype(np.int16)
    copies = np.clip(copies + rng.integers(-4, 5, copies.shape), 0, 255).astype(np.uint8)  # slightly noisy copies
    mem = M.memorisation(copies, train)
    assert mem.copy_share >= 0.95
    fresh = M.memorisation(landscapes[:30], landscapes[30:])  # other landscapes of the same kind: not copies
    assert fresh.copy_share <= 0.05


def test_blurry_samples_near_many_images_are_not_copies(landscapes):
    # the mean of a few training images sits close to many of them without being a copy of any
    train = landscapes.astype(np.float32)
    blurs = np.stack([train[i:i + 4].mean(0) for i in range(0, 80, 4)]).astype(np.uint8)
    assert M.memorisation(blurs, landscapes).copy_share == 0.0


def test_closest_pairs_image_shows_each_sample_beside_its_nearest(landscapes):
    samples = landscapes[:6]
    mem = M.memorisation(samples, landscapes)
    sheet = M.closest_pairs_image(samples, landscapes, mem, k=6, columns=3)
    assert sheet.dtype == np.uint8 and sheet.shape[2] == 3
    assert sheet.shape[1] == 2 + 6 * (64 + 2) and sheet.shape[0] == 2 + 2 * (64 + 2)
    assert (mem.nearest == torch.arange(6)).all() and mem.copy_share == 1.0  # each is its own nearest


@pytest.mark.slow
def test_evaluate_gives_every_figure_with_the_parzen_estimate(landscapes):
    figures = M.evaluate(landscapes[:40], landscapes[40:])
    for key in ("swd", "swd_levels", "swd_n", "ms_ssim_samples", "ms_ssim_train", "copy_share", "parzen"):
        assert key in figures, key
    assert np.isfinite(figures["parzen"]["test_ll"]) and figures["parzen"]["sigma"] > 0
    json.dumps(figures)  # JSON-ready


# ----------------------------------------------------------------------------------------------- referee
def _referee(real: Path, fake: Path, seed: int) -> dict:
    out = subprocess.run([sys.executable, str(REFEREE), str(real), str(fake), "--seed", str(seed)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_agrees_with_the_referee_on_the_same_folders(tmp_path):
    """The referee draws its own patches and directions (and shuffles the images), so the halves are averaged
    over three seeds; measured here, Monet halves: referee 24.8, ours 24.2 (our Lanczos decoding; 24.0 on the
    referee's bicubic decoding); against noise about 194-197 for both."""
    if not REFEREE.exists() or not MONET.is_dir():
        pytest.skip("../shared/referee or the Monet folder is absent")
    from PIL import Image

    from gan_studio.data import load_dataset

    files = sorted(MONET.iterdir())
    halves = {name: tmp_path / name for name in ("a", "b", "noise")}
    for folder in halves.values():
        folder.mkdir()
    for i, f in enumerate(files):
        (halves["a" if i % 2 == 0 else "b"] / f.name).symlink_to(f)
    rng = np.random.default_rng(0)
    for i in range(150):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(halves["noise"] / f"n{i:03d}.png")
    images = {k: load_dataset(v, res=64, cache_dir=tmp_path / "cache").images for k, v in halves.items()}
    for pair, seeds in ((("a", "b"), range(3)), (("a", "noise"), range(1))):
        theirs = np.mean([_referee(halves[pair[0]], halves[pair[1]], s)["swd_mean"] for s in seeds])
        ours = np.mean([M.swd(images[pair[0]], images[pair[1]], seed=s).mean for s in seeds])
        assert abs(ours - theirs) <= 0.05 * theirs, (pair, ours, theirs)
    copies = _referee(halves["a"], halves["a"], 0)["copied_share"]
    assert copies == 1.0 == M.memorisation(images["a"], images["a"]).copy_share
