"""The app trains what the command line trains: open a folder, press Start with the form untouched, and the run's
config.json is the one `gan-studio train FOLDER` writes, because both call the one defaults policy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from gan_studio.cli import main as cli

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets"


def shared_dataset(name: str) -> Path:
    if not (SHARED / name).exists():
        pytest.skip(f"{SHARED / name} is not available (../shared is absent)")
    return SHARED / name


def painted_folder(folder: Path, n: int, side: int, gray: bool = False) -> Path:
    """``n`` small pictures of smooth noise (colour or grayscale), written by this test."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(n)
    for i in range(n):
        small = rng.integers(0, 256, (4, 4, 1 if gray else 3), dtype=np.uint8)
        image = Image.fromarray(small.squeeze(-1) if gray else small).resize((side, side), Image.BILINEAR)
        image.save(folder / f"picture_{i:05d}.png")
    return folder


def config_of(run: Path) -> dict:
    cfg = json.loads((Path(run) / "config.json").read_text())
    cfg["train"].pop("steps"), cfg["train"].pop("minutes")  # the CLI run is one step long; the app's 10 minutes
    return cfg


def start_with_ctrl_return(window, qtbot, source: Path) -> Path:
    """Open ``source`` as a user would and press Ctrl+Return with the form untouched; the new run's folder."""
    window.open_folder(source)
    qtbot.waitUntil(lambda: window.dataset.summary is not None and not window.dataset.is_busy(), timeout=120000)
    t = window.training
    window.activateWindow()
    qtbot.waitUntil(lambda: window.start_action.isEnabled(), timeout=10000)
    with qtbot.waitSignal(t.run_started, timeout=120000) as started:
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    with qtbot.waitSignal(t.run_ended, timeout=120000):
        t.stop()
    return Path(started.args[0])


@pytest.mark.slow
def test_start_with_the_form_untouched_trains_what_the_command_line_trains(window, qtbot, tmp_path, capsys):
    sources = {
        "monet300": shared_dataset("monet300"),
        "mnist csv": shared_dataset("mnist") / "train-5k.csv.gz",
        "2,500 pictures": painted_folder(tmp_path / "many", 2500, 24),
        "grayscale": painted_folder(tmp_path / "gray", 60, 48, gray=True),
    }
    expected_models = {"monet300": "fastgan", "mnist csv": "mlp", "2,500 pictures": "dcgan", "grayscale": "fastgan"}
    for name, source in sources.items():
        app_run = start_with_ctrl_return(window, qtbot, source)
        cli_run = tmp_path / f"cli-{len(list(tmp_path.iterdir()))}"
        assert cli(["train", str(source), "--steps", "1", "--out", str(cli_run)]) == 0, capsys.readouterr().err
        app, line = config_of(app_run), config_of(cli_run)
        picked = (app["model"]["name"], app["data"]["res"], app["model"]["width"], app["train"]["batch"],
                  app["train"]["lr_g"], app["train"]["lr_d"])
        assert picked == (line["model"]["name"], line["data"]["res"], line["model"]["width"], line["train"]["batch"],
                          line["train"]["lr_g"], line["train"]["lr_d"]), name
        assert app == line, name  # and every other setting too
        assert app["model"]["name"] == expected_models[name], name


def test_the_app_and_the_command_line_call_the_same_policy(window, qtbot, paintings, monkeypatch, tmp_path):
    from gan_studio import defaults
    from gan_studio.cli import build_parser, config_from_args
    from gan_studio.data.summary import summarize_source

    calls = []
    policy = defaults.defaults_for

    def spy(summary, *args, **kwargs):
        calls.append(summary.source)
        return policy(summary, *args, **kwargs)

    monkeypatch.setattr(defaults, "defaults_for", spy)
    window.open_folder(paintings)
    qtbot.waitUntil(lambda: window.dataset.summary is not None and not window.dataset.is_busy(), timeout=60000)
    app_config = window.training.form.to_config(window.dataset.summary, window.training.device_type)
    assert calls and set(calls) == {str(paintings.resolve())}
    calls.clear()
    args = build_parser().parse_args(["train", str(paintings)])
    cli_config = config_from_args(args, summarize_source(str(paintings.resolve())))
    assert calls == [str(paintings.resolve())]
    assert app_config.to_dict() == cli_config.to_dict()
