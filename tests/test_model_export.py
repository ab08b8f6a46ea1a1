"""Exporting the generator as ONNX and TorchScript: the files draw what the run's generator draws (the pixels of
`gan-studio sample` included) at any batch size, load without GAN Studio, carry a model card, and are written
atomically and never over an existing file without --force. The runner example draws from an exported file."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_studio import __version__
from gan_studio.cli import main as cli
from gan_studio.config import RunConfig
from gan_studio.engine.rundir import RunDir
from gan_studio.errors import GanStudioError
from gan_studio.model_export import ONNX_OPSET, card_paths, export_model

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "examples" / "onnx_runner.py"
FAMILIES = ("mlp", "dcgan", "fastgan")
BATCHES = (1, 7)
TOLERANCE = 1e-3  # max abs difference of the [0, 1] images, float32

pytestmark = pytest.mark.slow  # exports and runs three models: the full suite (CI) runs these


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny models: one thread is as fast, and it does not spin against other work on a busy 2-core machine."""
    import torch

    from gan_studio.engine import trainer

    threads, configure = torch.get_num_threads(), trainer.configure_threads
    trainer.configure_threads = lambda **_: torch.set_num_threads(1)
    torch.set_num_threads(1)
    yield
    trainer.configure_threads = configure
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def runs(landscapes32, tmp_path_factory) -> dict[str, Path]:
    """One tiny finished run per family (4 steps, a quality check at the end, so a best snapshot with figures);
    the MLP draws uniform noise, the convolutional families normal noise."""
    from gan_studio.engine import Trainer

    out = {}
    for name in FAMILIES:
        cfg = RunConfig()
        cfg.data.source, cfg.model.name, cfg.model.z_dim = str(landscapes32), name, 16
        cfg.data.res, cfg.model.width = (16 if name == "mlp" else 32), 8
        if name == "mlp":
            cfg.model.g_hidden, cfg.model.d_hidden, cfg.model.noise = [32], [16], "uniform"
        t = cfg.train
        t.batch, t.steps, t.log_every, t.sample_every, t.preview_n = 8, 4, 2, 4, 4
        t.quality_every, t.quality_n = 4, 8
        path = tmp_path_factory.mktemp(f"model-export-{name}") / f"run-{name}"
        events = list(Trainer.new(cfg.validate(), out=path).run())
        assert type(events[-1]).__name__ == "Finished"
        out[name] = path
    return out


@pytest.fixture(scope="module")
def exported(runs, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Each run's generator as ONNX (through the command line) and TorchScript, exported while small_grid's
    matrix-product route is forced on: the files must still hold plain convolutions."""
    from gan_studio.models import small_grid

    folder = tmp_path_factory.mktemp("models")
    files = {}
    before = small_grid._policy
    small_grid.set_policy("on")
    try:
        for name, run in runs.items():
            files[name, "onnx"] = folder / f"{name}.onnx"
            assert cli(["export-model", str(run), "--format", "onnx", "--out", str(files[name, "onnx"])]) == 0
            files[name, "torchscript"] = folder / f"{name}.pt"
            export_model(run, files[name, "torchscript"], "torchscript")
    finally:
        small_grid.set_policy(before)
    return files


def reference(run: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(z, images in [0, 1]) of the run's loaded generator for seeds 0..n-1, as sampling maps them."""
    import torch

    from gan_studio.engine import load_generator

    gen = load_generator(run, device="cpu")
    z = gen.noise(range(n))
    with torch.no_grad():
        images = (gen.generator(z).clamp(-1, 1) + 1) * 0.5
    return z.numpy(), images.numpy()


def run_onnx(path: Path, z: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"z": z.astype(np.float32)})[0]


@pytest.mark.parametrize("name", FAMILIES)
def test_onnx_draws_what_the_generator_draws_at_any_batch(name, runs, exported):
    for n in BATCHES:
        z, expected = reference(runs[name], n)
        got = run_onnx(exported[name, "onnx"], z)
        assert got.dtype == np.float32 and got.shape == expected.shape
        diff = float(np.abs(got - expected).max())
        print(f"{name} ONNX batch {n}: max abs {diff:.2e}")
        assert diff <= TOLERANCE
        assert got.min() >= 0.0 and got.max() <= 1.0


@pytest.mark.parametrize("name", FAMILIES)
def test_onnx_is_a_plain_graph_with_a_free_batch_and_the_card_inside(name, exported):
    model = onnx.load(str(exported[name, "onnx"]))
    onnx.checker.check_model(model)
    assert [(o.domain or "ai.onnx", o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")] == \
        [("ai.onnx", ONNX_OPSET)]
    ops = {(node.domain, node.op_type) for node in model.graph.node}
    assert {domain for domain, _ in ops} <= {"", "ai.onnx"}, ops  # no custom operators, nothing of ours to load
    assert not model.functions
    if name != "mlp":  # the route small_grid forced on during export left no matrix products behind
        assert {op for _, op in ops} & {"Conv", "ConvTranspose"} and not {op for _, op in ops} & {"MatMul", "Gemm"}
    (z,) = model.graph.input
    assert z.name == "z" and not z.type.tensor_type.shape.dim[0].HasField("dim_value")  # N is symbolic
    assert z.type.tensor_type.shape.dim[1].dim_value == 16
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["gan_studio.model_card"])["family"] == name
    assert meta["z_distribution"] == ("uniform" if name == "mlp" else "normal")


@pytest.mark.parametrize("name", FAMILIES)
def test_sample_pngs_are_the_onnx_images_rounded(name, runs, exported, tmp_path):
    n = 7
    assert cli(["sample", str(runs[name]), "--n", str(n), "--seed", "0", "--out", str(tmp_path),
                "--device", "cpu"]) == 0
    z, _ = reference(runs[name], n)
    pixels = np.round(run_onnx(exported[name, "onnx"], z) * 255).transpose(0, 2, 3, 1)
    for i in range(n):
        with Image.open(tmp_path / f"seed_{i:06d}.png") as im:
            png = np.asarray(im).reshape(pixels[i].shape).astype(np.float32)
        assert np.abs(png - pixels[i]).max() <= 1


FRESH = """
import json, sys
import numpy as np
import torch
for name in sys.argv[2:]:
    extra = {"gan_studio.model_card": ""}
    model = torch.jit.load(sys.argv[1] + f"/{name}.pt", _extra_files=extra)
    assert json.loads(extra["gan_studio.model_card"])["family"] == name
    for n in (1, 7):
        z = torch.from_numpy(np.load(sys.argv[1] + f"/{name}-z{n}.npy"))
        with torch.no_grad():
            np.save(sys.argv[1] + f"/{name}-out{n}.npy", model(z).numpy())
bad = sorted(m for m in sys.modules if m.split(".")[0] == "gan_studio")
print("imported:", bad)
sys.exit(1 if bad else 0)
"""


def test_torchscript_draws_the_same_in_a_fresh_interpreter_without_gan_studio(runs, exported, tmp_path):
    expected = {}
    for name in FAMILIES:
        for n in BATCHES:
            z, expected[name, n] = reference(runs[name], n)
            np.save(tmp_path / f"{name}-z{n}.npy", z)
        (tmp_path / f"{name}.pt").write_bytes(exported[name, "torchscript"].read_bytes())
    result = subprocess.run([sys.executable, "-c", FRESH, str(tmp_path), *FAMILIES], capture_output=True,
                            text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    for (name, n), images in expected.items():
        got = np.load(tmp_path / f"{name}-out{n}.npy")
        diff = float(np.abs(got - images).max())
        print(f"{name} TorchScript batch {n}: max abs {diff:.2e}")
        assert got.shape == images.shape and diff <= TOLERANCE


def test_model_card_beside_the_file(runs, exported):
    for name in FAMILIES:
        path = exported[name, "onnx"]
        card_json, card_md = card_paths(path)
        assert (card_json.name, card_md.name) == (f"{name}.onnx.json", f"{name}.onnx.md")
        card = json.loads(card_json.read_text())
        best = RunDir(runs[name]).best_info()
        c, h, w = (3, 16, 16) if name == "mlp" else (3, 32, 32)
        assert card["family"] == name and card["format"] == "onnx" and card["onnx_opset"] == ONNX_OPSET
        assert card["image"] == {"channels": c, "height": h, "width": w}
        assert card["output"]["shape"] == ["N", c, h, w] and card["output"]["range"] == [0.0, 1.0]
        z = card["input"]
        assert z["name"] == "z" and z["z_dim"] == 16 and z["shape"] == ["N", 16]
        if name == "mlp":
            assert z["distribution"] == "uniform" and z["high"] == pytest.approx(3 ** 0.5) == -z["low"]
        else:
            assert z["distribution"] == "normal"
        assert card["training_data"]["name"] == Path(RunDir(runs[name]).config().data.source).name
        assert card["training_data"]["images"] == 24
        assert card["training"]["step"] == 4 and card["training"]["snapshot"] == "best"
        assert card["quality"]["swd"] == best["swd"] and card["quality"]["copy_share"] == best["copy_share"]
        assert card["software"]["gan_studio"] == __version__ and card["software"]["torch"]
        assert card["licence"] and f"{name}.onnx" in card["how_to_call"] and card["runner"]
        text = card_md.read_text()
        assert card["family_title"] in text and "z" in text and "Licence" in text
        assert str(RunDir(runs[name]).config().data.source) not in json.dumps(card)  # the folder's name only
    ts = json.loads(card_paths(exported["dcgan", "torchscript"])[0].read_text())
    assert ts["format"] == "torchscript" and "onnx_opset" not in ts and "torch.jit.load" in ts["how_to_call"]


def test_the_runner_example_draws_images_with_onnxruntime_alone(exported, tmp_path):
    tree = ast.parse(RUNNER.read_text())
    imported = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"argparse", "pathlib", "numpy", "onnxruntime", "PIL"}, imported
    code_lines = [line for line in RUNNER.read_text().split('"""', 2)[2].splitlines()
                  if line.strip() and not line.startswith(("import", "from"))]
    assert len(code_lines) <= 20
    out = tmp_path / "drawn"
    result = subprocess.run([sys.executable, str(RUNNER), str(exported["mlp", "onnx"]), "--n", "4", "--out", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) == 4
    with Image.open(pngs[0]) as im:
        assert im.size == (16, 16) and im.mode == "RGB"


def test_the_readme_shows_the_runner_and_the_card_fields():
    readme = (ROOT / "README.md").read_text()
    assert "## Take your model anywhere" in readme
    body = RUNNER.read_text().split('"""', 2)[2].strip()
    assert body in readme
    for field in ("family", "input", "output", "training_data", "training", "quality", "software", "licence"):
        assert f"`{field}`" in readme


def test_export_refuses_to_overwrite_without_force_and_writes_atomically(runs, tmp_path, capsys):
    run, out = runs["dcgan"], tmp_path / "g.pt"
    assert cli(["export-model", str(run), "--format", "torchscript", "--out", str(out)]) == 0
    files = [out, *card_paths(out)]
    before = {p: p.read_bytes() for p in files}
    capsys.readouterr()
    assert cli(["export-model", str(run), "--format", "torchscript", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "already exists" in err and "--force" in err
    assert {p: p.read_bytes() for p in files} == before
    out.unlink()
    with pytest.raises(GanStudioError, match="already exists"):  # the engine refuses too: the card is there
        export_model(run, out, "torchscript")
    assert not out.exists()
    assert cli(["export-model", str(run), "--format", "torchscript", "--out", str(out), "--force"]) == 0
    assert out.is_file() and json.loads(card_paths(out)[0].read_text())["training"]["step"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in files)  # no temporary left


def test_a_failed_write_leaves_the_old_file_whole_and_no_partial_set(runs, tmp_path, monkeypatch):
    from gan_studio import fileio, model_export

    def disk_full(path, data):
        with fileio.atomic_writer(path) as f:
            f.write(data[:100])
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(model_export, "atomic_write_bytes", disk_full)
    new = tmp_path / "new.onnx"
    with pytest.raises(GanStudioError, match="No space left"):
        export_model(runs["mlp"], new, "torchscript")
    assert list(tmp_path.iterdir()) == []  # no model, no card, no temporary
    old = tmp_path / "old.pt"
    old.write_bytes(b"the previous model")
    with pytest.raises(GanStudioError, match="No space left"):
        export_model(runs["mlp"], old, "torchscript", overwrite=True)
    assert old.read_bytes() == b"the previous model"
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_checkpoint_by_step_and_a_missing_step(runs, tmp_path, capsys):
    run, out = runs["fastgan"], tmp_path / "step.pt"
    assert cli(["export-model", str(run), "--checkpoint", "4", "--out", str(out)]) == 0  # .pt: TorchScript
    card = json.loads(card_paths(out)[0].read_text())
    assert card["format"] == "torchscript" and card["training"]["snapshot"] == "step 4"
    capsys.readouterr()
    assert cli(["export-model", str(run), "--checkpoint", "3", "--out", str(tmp_path / "x.pt")]) == 1
    assert re.search(r"no checkpoint at step 3 \(kept: 4\)", capsys.readouterr().err)
    assert cli(["export-model", str(run), "--checkpoint", "newest", "--out", str(tmp_path / "x.pt")]) == 1
    assert "best, latest or a step" in capsys.readouterr().err
