"""House rules checked automatically: the engine knows nothing of Qt; modules stay small."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_engine_data_models_and_cli_import_no_qt():
    code = ("import sys, gan_studio.engine, gan_studio.data, gan_studio.models, gan_studio.export, gan_studio.cli, "
            "gan_studio.data.demo; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'PyQt5', 'PyQt6') "
            "or m.startswith('gan_studio.gui')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_qt_is_imported_only_inside_the_gui_package():
    offenders = []
    for path in (ROOT / "gan_studio").rglob("*.py"):
        if "gui" in path.relative_to(ROOT / "gan_studio").parts[:1]:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith(("import PySide6", "from PySide6", "import shiboken6")):
                offenders.append(str(path))
    assert offenders == []


def test_no_module_is_longer_than_600_lines():
    long = {str(p): n for p in (ROOT / "gan_studio").rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {}
