"""House rules checked automatically: the engine knows nothing of Qt; imports run one way, from the upper floors
(the drivers) down to the lower ones (errors, file I/O, the family records, the config), with no cycle anywhere."""

from __future__ import annotations

import ast
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


# The floors, lowest first: a module may import from its own floor and the ones below, never from above.
FLOORS = [
    {"gan_studio", "errors", "cpuinfo", "fileio", "progress"},  # no project imports at all
    {"families"},  # the model-family records (torch-free)
    {"config"},  # typed settings, validated against the records
    {"data", "presets"},  # reading images; named configurations
    {"defaults"},  # the one defaults policy: a data summary -> a RunConfig
    {"models"},  # the networks (torch)
    {"engine"},  # training, checkpoints, the run folder, sampling, metrics
    {"export", "model_export", "style_sheets"},  # galleries, style grids and walks; the generator as a file
    {"gui"},  # the desktop app (the only Qt)
    {"cli", "__main__"},  # the command line, which also launches the app
]


def module_graph() -> dict[str, set[str]]:
    """Every gan_studio module -> the gan_studio modules it imports anywhere in its text (function-level and
    TYPE_CHECKING imports included: a cycle there is still a cycle in the design)."""
    root = ROOT / "gan_studio"
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.with_suffix("").relative_to(ROOT).parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def floor(module: str) -> int:
    unit = module.split(".")[1] if "." in module else module
    return next(i for i, names in enumerate(FLOORS) if unit in names)


def test_every_module_has_a_floor_and_imports_only_from_its_own_or_lower_ones():
    upward = sorted(f"{m} -> {d}" for m, deps in module_graph().items() for d in deps if floor(d) > floor(m))
    assert upward == []


def test_no_import_cycle_anywhere():
    graph = module_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_family_records_and_the_defaults_policy_load_without_torch():
    code = ("import sys, gan_studio.defaults, gan_studio.families, gan_studio.config, gan_studio.data.summary; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
