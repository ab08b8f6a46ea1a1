"""The built-in demo landscapes: deterministic, sized as asked, varied, and cached atomically on disk."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_studio.data import demo
from gan_studio.data.demo import DEMO_COUNT, DEMO_SIZE, demo_folder, ensure_demo_folder, make_landscape
from gan_studio.errors import DataError


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(cache))
    return cache


def _arr(seed: int, size=64) -> np.ndarray:
    return np.asarray(make_landscape(seed, size), dtype=np.float64)


def test_constants() -> None:
    assert (DEMO_COUNT, DEMO_SIZE) == (300, 128)


def test_same_seed_same_pixels() -> None:
    # Pixels, not PNG bytes: the PNG encoder (zlib) may differ between machines, the pixels must not.
    for seed in (0, 7, 123):
        assert make_landscape(seed).tobytes() == make_landscape(seed).tobytes()


def test_no_global_random_state() -> None:
    np.random.seed(1)
    a = make_landscape(5, 32).tobytes()
    np.random.seed(2)
    assert make_landscape(5, 32).tobytes() == a


def test_different_seeds_differ() -> None:
    images = {make_landscape(seed, 32).tobytes() for seed in range(10)}
    assert len(images) == 10


@pytest.mark.parametrize(
    "size, expected", [(128, (128, 128)), (64, (64, 64)), ((128, 64), (128, 64)), ((48, 96), (48, 96))]
)
def test_sizes(size, expected) -> None:
    img = make_landscape(3, size)
    assert isinstance(img, Image.Image)
    assert img.mode == "RGB" and img.size == expected


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_landscape(-1)
    with pytest.raises(ValueError):
        make_landscape(0, 4)


def test_same_scene_at_two_sizes() -> None:
    # The composition depends on the seed only, so a downscaled big picture resembles the small one.
    big = np.asarray(make_landscape(11, 128).resize((32, 32), Image.BILINEAR), dtype=np.float64)
    assert np.abs(big - _arr(11, 32)).mean() < 12
    assert np.abs(big - _arr(12, 32)).mean() > np.abs(big - _arr(11, 32)).mean()


def test_variety_of_palettes() -> None:
    means = np.array([_arr(seed).mean(axis=(0, 1)) for seed in range(20)])
    assert means.std(axis=0).min() > 10  # day, dusk and night, not one palette
    brightness = means.mean(axis=1)
    assert brightness.max() - brightness.min() > 60


def test_sky_differs_from_land_and_water() -> None:
    diffs = []
    for seed in range(20):
        a = _arr(seed)
        diffs.append(np.abs(a[:16].mean(axis=(0, 1)) - a[-16:].mean(axis=(0, 1))).sum())
    assert np.median(diffs) > 30
    assert min(diffs) > 5


def test_pictures_have_structure_not_noise() -> None:
    # Neighbouring pixels are close (smooth painting), yet the picture as a whole has contrast.
    for seed in range(5):
        a = _arr(seed)
        assert np.abs(np.diff(a, axis=1)).mean() < 6
        assert a.std() > 12


def test_demo_folder_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _cache: Path) -> None:
    assert demo_folder() == _cache / "demo-landscapes-v1"
    assert demo_folder(tmp_path / "x") == tmp_path / "x" / "demo-landscapes-v1"
    monkeypatch.delenv("GAN_STUDIO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert demo_folder() == tmp_path / "xdg" / "gan_studio" / "demo-landscapes-v1"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert demo_folder() == tmp_path / "home" / ".cache" / "gan_studio" / "demo-landscapes-v1"


def test_ensure_demo_folder_writes_once(_cache: Path) -> None:
    calls: list[tuple[int, int]] = []
    folder = ensure_demo_folder(n=12, size=32, progress=lambda done, total: calls.append((done, total)))
    assert folder == _cache / "demo-landscapes-v1"
    names = sorted(p.name for p in folder.glob("*.png"))
    assert names == [f"landscape_{i:04d}.png" for i in range(12)]
    assert calls[-1] == (12, 12) and len(calls) == 12
    with Image.open(folder / "landscape_0005.png") as img:
        assert img.convert("RGB").tobytes() == make_landscape(5, 32).tobytes()
    assert json.loads((folder / demo.MARKER).read_text())["n"] == 12
    assert [p.name for p in _cache.iterdir()] == ["demo-landscapes-v1"]  # no temporary directory left

    mtime = (folder / "landscape_0000.png").stat().st_mtime_ns
    start = time.perf_counter()
    assert ensure_demo_folder(n=12, size=32) == folder
    assert time.perf_counter() - start < 0.05
    assert (folder / "landscape_0000.png").stat().st_mtime_ns == mtime


def test_ensure_demo_folder_replaces_other_parameters(tmp_path: Path) -> None:
    folder = ensure_demo_folder(tmp_path / "demo", n=5, size=16)
    ensure_demo_folder(folder, n=3, size=24)
    assert len(list(folder.glob("*.png"))) == 3
    with Image.open(folder / "landscape_0000.png") as img:
        assert img.size == (24, 24)
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def test_ensure_demo_folder_fills_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    ensure_demo_folder(tmp_path / "demo", n=2, size=16)
    assert len(list((tmp_path / "demo").glob("*.png"))) == 2


def test_ensure_demo_folder_never_deletes_user_files(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "cat.jpg").write_bytes(b"not a demo picture")
    with pytest.raises(DataError):
        ensure_demo_folder(tmp_path / "mine", n=2, size=16)
    assert (tmp_path / "mine" / "cat.jpg").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]


def test_ensure_demo_folder_keeps_the_winner_of_a_race(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Another process completes the folder while this one paints: its folder stays, ours is discarded.
    target = tmp_path / "demo"
    real = demo.make_landscape

    def racing(seed, size=DEMO_SIZE):
        if seed == 0 and not target.exists():
            monkeypatch.setattr(demo, "make_landscape", real)
            ensure_demo_folder(target, n=3, size=16)
            (target / "winner").write_text("")  # (a file only the winner's folder has)
        return real(seed, size)

    monkeypatch.setattr(demo, "make_landscape", racing)
    assert ensure_demo_folder(target, n=3, size=16) == target
    assert (target / "winner").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_three_hundred_pictures_are_quick() -> None:
    start = time.perf_counter()
    for seed in range(60):
        make_landscape(seed)
    assert time.perf_counter() - start < 10  # ~0.3 s here; 300 take a second or two
