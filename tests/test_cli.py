"""The command line: errors are one clear line and a non-zero exit; train, resume, sample and scan work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from gan_studio.cli import main
from gan_studio.engine import RunDir

SMALL = ["--res", "32", "--width", "8", "--batch", "8", "--sample-every", "5"]


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv,message", [
    (["train"], "give a folder"),
    (["train", "/no/such/folder"], "/no/such/folder"),
    (["train", "--demo", "--res", "3"], "resolution"),
    (["train", "--demo", "--res", "48"], "power of two"),
    (["train", "--demo", "--aspect", "wide"], "aspect"),
    (["train", "--resume", "/no/such/run"], "not a GAN Studio run"),
    (["sample", "/no/such/run", "--out", "x"], "not a GAN Studio run"),
    (["scan", "/no/such/folder"], "/no/such/folder"),
])
def test_bad_input_is_one_clear_line_and_exit_1(capsys, argv, message):
    code, _, err = run_cli(capsys, *argv)
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("gan-studio: error:")]
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err


def test_a_folder_without_images_is_a_clear_error(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.png").write_text("not a png")
    code, _, err = run_cli(capsys, "train", tmp_path, *SMALL, "--steps", "2")
    assert code == 1 and "no usable image" in err and "broken.png" in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--model", "nope"])
    assert e.value.code == 2


def test_train_resume_and_sample(capsys, landscapes32, tmp_path):
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", landscapes32, *SMALL, "--steps", "4", "--out", run)
    assert code == 0, err
    assert "finished at step 4" in err and "gan-studio train --resume" in err
    code, _, err = run_cli(capsys, "train", "--resume", run, "--steps", "7")
    assert code == 0, err
    assert "from step 4" in err and "finished at step 7" in err
    assert RunDir(run).checkpoint_list()[-1][0] == 7

    out = tmp_path / "samples"
    code, _, err = run_cli(capsys, "sample", run, "--n", "5", "--seed", "10", "--out", out, "--grid")
    assert code == 0, err
    files = sorted(out.glob("seed_*.png"))
    assert [f.name for f in files] == [f"seed_{s:06d}.png" for s in range(10, 15)]
    with Image.open(files[0]) as im:
        assert im.size == (32, 32)
        assert im.text["seed"] == "10" and im.text["step"] == "7" and im.text["run"] == "run"
    assert (out / "grid.png").exists()
    # never overwrite silently
    code, _, err = run_cli(capsys, "sample", run, "--n", "5", "--seed", "10", "--out", out)
    assert code == 1 and "already exist" in err


def test_train_refuses_an_existing_run_as_out(capsys, landscapes32, tmp_path):
    run = tmp_path / "run"
    assert run_cli(capsys, "train", landscapes32, *SMALL, "--steps", "1", "--out", run)[0] == 0
    code, _, err = run_cli(capsys, "train", landscapes32, *SMALL, "--steps", "1", "--out", run)
    assert code == 1 and "--resume" in err


def test_scan_lists_usable_and_rejected(capsys, landscapes32, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for p in list(landscapes32.iterdir())[:3]:
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "empty.jpg").write_bytes(b"")
    code, out, _ = run_cli(capsys, "scan", folder)
    assert code == 0
    assert "usable images: 3" in out and "rejected: 1" in out and "empty.jpg" in out


def test_entry_point_and_module_run(tmp_path):
    for cmd in (["gan-studio", "--version"], [sys.executable, "-m", "gan_studio", "--version"]):
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).parents[1])
        assert result.returncode == 0 and "gan-studio" in result.stdout, result.stderr


def test_a_messy_folder_trains_and_scan_lists_exactly_the_bad_files(capsys, tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    from data_corpus import make_bad_input_corpus

    folder = tmp_path / "messy"
    expected = make_bad_input_corpus(folder)
    bad = sorted(p for p, outcome in expected.items() if outcome == "rejected")
    code, out, _ = run_cli(capsys, "scan", folder)
    assert code == 0
    listed = sorted(line.strip().split(": ", 1)[0] for line in out.splitlines()
                    if line.startswith("    ") and ": " in line)
    assert listed == bad
    code, _, err = run_cli(capsys, "train", folder, *SMALL, "--steps", "2", "--out", tmp_path / "run")
    assert code == 0, err
    assert "finished at step 2" in err
    assert f"skipped {len(bad)} file(s)" in err and all(name in err for name in bad)
