"""What an installed GAN Studio carries: every package, and the icon in assets/ as package data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def _setuptools_table() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_the_package_list_names_every_package_and_maps_assets():
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "gan_studio").rglob("__init__.py")}
    table = _setuptools_table()
    assert set(table["packages"]) == found | {"gan_studio.assets"}
    assert table["package-dir"]["gan_studio.assets"] == "assets"
    assert (ROOT / "assets" / "gan_studio.svg").is_file()


@pytest.mark.slow
def test_an_installed_wheel_draws_its_icon_from_package_data(tmp_path):
    pytest.importorskip("setuptools")
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)],
                   check=True, cwd=tmp_path, timeout=300)
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), *map(str, wheels.glob("*.whl"))],
                   check=True, cwd=tmp_path, timeout=300)
    probe = ("from importlib.resources import files\n"
             "import gan_studio.gui.icon as icon\n"
             "assert icon.__file__.startswith(%r), icon.__file__\n"
             "data = files('gan_studio.assets').joinpath('gan_studio.svg').read_bytes()\n"
             "assert data == icon.asset_bytes() and data.lstrip().startswith(b'<')\n"
             "print('ok')\n") % str(target)
    env = {**os.environ, "PYTHONPATH": str(target), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
