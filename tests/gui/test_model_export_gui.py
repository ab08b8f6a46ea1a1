"""The Export dialog's model file: the generator as ONNX or TorchScript with its model card, off the GUI thread,
and never over an existing file without asking."""

from __future__ import annotations

import json

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

pytestmark = pytest.mark.slow  # exports and runs three models: the full suite (CI) runs these


def test_export_dialog_writes_a_model_file_and_asks_before_replacing_it(window, qtbot, trained_run, tmp_path):
    window.browse_run(str(trained_run))
    qtbot.waitUntil(lambda: window.gallery.host.generator is not None, timeout=60000)
    window.export()
    d = window.export_dialog
    assert d.model_format.currentData() == "onnx" and d.model_path.text().endswith(f"{trained_run.name}.onnx")
    out = tmp_path / "models" / "landscapes.onnx"
    d.model_path.setText(str(out))
    with qtbot.waitSignal(d.model_exported, timeout=60000) as done:
        d.model_button.click()
    assert not d.is_running() and d.model_button.isEnabled() and d.export_button.isEnabled()
    result = done.args[0]
    assert result.model == out and result.format == "onnx" and result.step == 40
    card = json.loads(out.with_name("landscapes.onnx.json").read_text())
    assert card["family"] == "dcgan" and card["image"] == {"channels": 3, "height": 32, "width": 32}
    assert out.with_name("landscapes.onnx.md").is_file() and "Exported the generator" in d.message.text()
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    images = session.run(None, {"z": np.zeros((3, card["input"]["z_dim"]), np.float32)})[0]
    assert images.shape == (3, 3, 32, 32) and 0 <= images.min() and images.max() <= 1

    # again to the same file: asked, refused, nothing touched
    before = {p: p.stat().st_mtime_ns for p in out.parent.iterdir()}
    asked = []
    d.confirm_overwrite = lambda existing, folder: asked.append(sorted(p.name for p in existing)) or False
    d.model_button.click()
    assert asked == [["landscapes.onnx", "landscapes.onnx.json", "landscapes.onnx.md"]]
    assert d.task is None and "Nothing was exported" in d.message.text()
    assert {p: p.stat().st_mtime_ns for p in out.parent.iterdir()} == before

    # TorchScript: the suffix follows the format; allowed to replace, it does
    d.model_format.setCurrentIndex(d.model_format.findData("torchscript"))
    assert d.model_path.text() == str(out.with_suffix(".pt"))
    asked.clear()
    d.confirm_overwrite = lambda existing, folder: asked.append(sorted(p.name for p in existing)) or True
    for _ in range(2):  # a new file, then the same file again
        with qtbot.waitSignal(d.model_exported, timeout=60000) as done:
            d.model_button.click()
    assert asked == [["landscapes.pt", "landscapes.pt.json", "landscapes.pt.md"]]
    assert done.args[0].model == out.with_suffix(".pt") and done.args[0].format == "torchscript"
    assert json.loads(out.with_name("landscapes.pt.json").read_text())["format"] == "torchscript"
    d.close()
