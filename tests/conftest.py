"""Shared fixtures: every test gets its own cache, runs folder and settings; Qt runs offscreen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch):
    """Nothing a test does lands in the user's home: cache and runs go to temporary folders."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(base / "cache"))
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(base / "runs"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    yield base


@pytest.fixture(scope="session")
def landscapes32(tmp_path_factory) -> Path:
    """A small real folder: 24 procedural landscapes of 48x40 pixels (decoded and cropped to 32x32 by tests)."""
    from gan_studio.data.demo import make_landscape

    folder = tmp_path_factory.mktemp("landscapes")
    for i in range(24):
        make_landscape(i, (48, 40)).save(folder / f"l{i:02d}.png")
    return folder


def shared_dataset(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared is absent)")
    return path
