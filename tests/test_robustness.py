"""Nothing lost, nothing crashes (issue 4, bad input): a messy folder through `scan` and `train`.

The corpus (tests/data_corpus.py: make_bad_input_corpus + make_more_bad_inputs, and two simulated unreadable
entries added here) holds good files in unusual modes and names, and broken, hostile and special ones. Every
image-named entry must come out exactly once: used, or rejected with a reason that says why, through
scan_folder, `gan-studio scan`, load_dataset and `gan-studio train`. Nothing may raise, block or hang: each test
has a timeout, and the ones that meet a FIFO use pytest-timeout's thread method, which also ends a process
stuck inside a system call.

The decision on tiny images: a side under MIN_SIDE (4) pixels is rejected ("too small: 1x1 pixels (at least 4
on each side)"). A 1x1 file is a spacer or tracking pixel, never a picture; upscaled it would put one flat colour
into the training set without the user knowing. 4x4 and larger are used (upscaled), since icons and pixel art are
real data sets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from data_corpus import CORPUS_IGNORED, make_bad_input_corpus, make_more_bad_inputs  # noqa: E402

from gan_studio.cli import main  # noqa: E402
from gan_studio.data import NoUsableImagesError, load_dataset, scan_folder  # noqa: E402
from gan_studio.data.decode import MIN_SIDE, decode_image  # noqa: E402
from gan_studio.errors import DataError, ImageDecodeError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TRAIN = ["--res", "32", "--width", "8", "--batch", "8", "--steps", "2"]
# make_bad_input_corpus only says 'rejected'; these are the words each reason must contain
CORPUS_REASONS = {
    "truncated.jpg": "truncated",
    "truncated.png": "truncated",
    "empty.jpg": "empty file (0 bytes)",
    "text.png": "not an image",
    "page.jpg": "not an image",
    "bomb.png": "too large",
}
LOCKED, CLOSED = "locked.png", "closed"  # unreadable file and folder, simulated (the tests run as root)


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> tuple[Path, dict[str, tuple[str, str]]]:
    """The whole corpus in one folder, and {path: (outcome, words of the reason)} for every entry."""
    root = tmp_path_factory.mktemp("messy")
    expected = {p: (o, CORPUS_REASONS.get(p, "")) for p, o in make_bad_input_corpus(root).items()}
    expected.update(make_more_bad_inputs(root))
    Image.new("RGB", (16, 16), (5, 6, 7)).save(root / LOCKED)
    expected[LOCKED] = ("rejected", "permission denied")
    (root / CLOSED).mkdir()
    Image.new("RGB", (16, 16), (5, 6, 7)).save(root / CLOSED / "inside.png")
    expected[CLOSED] = ("rejected", "cannot read folder")
    return root, expected


def simulate_unreadable(monkeypatch) -> None:
    """What a user without read permission gets: open() of locked.png and listing of closed/ fail with EACCES.

    (chmod 000 does not stop root, who runs these tests.)"""
    real_open, real_scandir = Image.open, os.scandir

    def guarded_open(fp, *args, **kwargs):
        if str(fp).endswith(LOCKED):
            raise PermissionError(13, "Permission denied", str(fp))
        return real_open(fp, *args, **kwargs)

    def guarded_scandir(path="."):
        if isinstance(path, (str, os.PathLike)) and os.path.basename(os.fspath(path)) == CLOSED:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(Image, "open", guarded_open)
    monkeypatch.setattr(os, "scandir", guarded_scandir)


def expected_ignored(expected: dict[str, tuple[str, str]]) -> list[str]:
    loops = ["Ünïcödé/up/"] if "loop_a.jpg" in expected else []  # the folder link loop, when links exist
    return sorted(CORPUS_IGNORED + loops)


def assert_outcomes(got: dict[str, tuple[str, str]], expected: dict[str, tuple[str, str]]) -> None:
    """Every input exactly once, with its outcome; every reason one non-empty line holding the expected words."""
    assert sorted(got) == sorted(expected), "an input was lost or invented"
    wrong = {p: (got[p], expected[p]) for p in expected
             if got[p][0] != expected[p][0] or expected[p][1] not in got[p][1]}
    assert not wrong, wrong
    for path, (outcome, reason) in got.items():
        if outcome == "rejected":
            assert reason.strip() and "\n" not in reason and len(reason) < 200, (path, reason)


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("gan-studio: error:")]


# --- the messy folder through scan and train ------------------------------------------------------------------


@pytest.mark.timeout(120, method="thread")
def test_scan_gives_every_input_its_outcome(messy, monkeypatch):
    root, expected = messy
    simulate_unreadable(monkeypatch)
    t = time.perf_counter()
    result = scan_folder(root)
    assert time.perf_counter() - t < 60
    got = {i.path: ("ok", "") for i in result.images}
    got.update({r.path: ("rejected", r.reason) for r in result.rejected})
    assert_outcomes(got, expected)
    assert result.ignored == expected_ignored(expected)
    sizes = {i.path: (i.width, i.height) for i in result.images}
    assert sizes["four.png"] == (4, 4) and sizes["exif_rotated.jpg"] == (20, 40) and sizes["rgb16.png"] == (16, 12)


@pytest.mark.timeout(120, method="thread")
def test_cli_scan_lists_every_rejected_file_with_its_reason(messy, monkeypatch, capsys):
    root, expected = messy
    simulate_unreadable(monkeypatch)
    code, out, _ = cli(capsys, "scan", root)
    assert code == 0
    n_ok = sum(o == "ok" for o, _ in expected.values())
    assert f"usable images: {n_ok}\n" in out and f"rejected: {len(expected) - n_ok}\n" in out
    listed = dict(line.strip().split(": ", 1) for line in out.splitlines() if line.startswith("    "))
    assert_outcomes({**{p: ("ok", "") for p, (o, _) in expected.items() if o == "ok"},
                     **{p: ("rejected", r) for p, r in listed.items()}}, expected)


@pytest.mark.timeout(300, method="thread")
def test_train_uses_the_good_files_and_skips_the_bad(messy, monkeypatch, capsys, tmp_path):
    root, expected = messy
    simulate_unreadable(monkeypatch)
    good = sorted(p for p, (o, _) in expected.items() if o == "ok")
    code, _, err = cli(capsys, "train", root, *TRAIN, "--out", tmp_path / "run")
    assert code == 0, err
    assert f"{len(good)} images of 32x32x3" in err and "finished at step 2" in err
    info = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert info["n_images"] == len(good) and info["rejected"] == len(expected) - len(good)
    # what train decoded is in the cache: the same files, the same reasons, read back without decoding
    used = load_dataset(root, res=32)
    assert used.from_cache and used.files == good and used.images.shape == (len(good), 3, 32, 32)
    got = {p: ("ok", "") for p in used.files}
    got.update({r.path: ("rejected", r.reason) for r in used.rejected})
    assert_outcomes(got, expected)


# --- special files: never opened, never blocking ------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.timeout(60)
def test_decoding_a_fifo_returns_at_once(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def decode() -> None:
        try:
            decode_image(fifo, 16, 16)
        except BaseException as e:  # noqa: BLE001 - looked at below
            outcome.append(e)

    t = threading.Thread(target=decode, daemon=True)
    t.start()
    t.join(10)
    if t.is_alive():  # let the blocked open() return, so the thread ends
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("decode_image blocked on a FIFO")
    assert len(outcome) == 1 and isinstance(outcome[0], ImageDecodeError)
    assert str(outcome[0]) == "not a regular file"
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(ImageDecodeError, match="not a regular file"):
        decode_image(tmp_path / "folder.png", 16, 16)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.timeout(180)
def test_the_scan_command_never_blocks_on_special_files(tmp_path):
    """A real `python -m gan_studio scan` process, thread pool included (more than POOL_MIN_FILES files)."""
    folder = tmp_path / "special"
    folder.mkdir()
    for i in range(40):
        Image.new("RGB", (8, 8), (i, 0, 0)).save(folder / f"img{i:02d}.png")
    os.mkfifo(folder / "pipe.jpg")
    os.symlink("/dev/zero", folder / "endless.jpg")
    os.symlink("/dev/urandom", folder / "noise.png")
    result = subprocess.run([sys.executable, "-m", "gan_studio", "scan", str(folder)], capture_output=True,
                            text=True, timeout=150, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "usable images: 40" in result.stdout and "rejected: 3" in result.stdout
    for name in ("endless.jpg", "noise.png", "pipe.jpg"):
        assert f"    {name}: not a regular file" in result.stdout


# --- nothing usable: one clear line, exit 1 -----------------------------------------------------------------


@pytest.mark.timeout(120, method="thread")
def test_a_folder_with_no_usable_image_is_one_clear_error(tmp_path, capsys):
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.png").write_text("not a picture\n", encoding="utf-8")
    (folder / "page.jpg").write_text("<html><body>404</body></html>\n", encoding="utf-8")
    Image.new("RGB", (1, 1)).save(folder / "pixel.gif")
    (folder / "notes.txt").write_text("ignored\n", encoding="utf-8")
    os.mkfifo(folder / "pipe.png")

    result = scan_folder(folder)
    assert result.images == [] and len(result.rejected) == 5 and result.ignored == ["notes.txt"]
    with pytest.raises(NoUsableImagesError) as info:
        load_dataset(folder, res=32)
    message = str(info.value)
    assert isinstance(info.value, DataError) and "\n" not in message
    assert message.startswith(f"no usable image in {folder.resolve()}: 5 file(s) rejected")

    code, _, err = cli(capsys, "scan", folder)
    assert code == 1 and error_lines(err) == [f"gan-studio: error: no usable image in {folder}"]
    code, _, err = cli(capsys, "train", folder, *TRAIN, "--out", tmp_path / "run")
    (line,) = error_lines(err)
    assert code == 1 and line == f"gan-studio: error: {message}"
    assert "  rejected pixel.gif: too small: 1x1 pixels" in err  # then the files, one per line
    assert not (tmp_path / "run").exists()  # nothing half-made


@pytest.mark.timeout(120)
def test_a_folder_without_image_files_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.md").write_text("x", encoding="utf-8")
    code, _, err = cli(capsys, "train", tmp_path / "docs", *TRAIN)
    (line,) = error_lines(err)
    assert code == 1 and "no image files in" in line and "1 other file(s) ignored" in line
    code, out, err = cli(capsys, "scan", tmp_path / "docs")
    assert code == 1 and "usable images: 0" in out and len(error_lines(err)) == 1


# --- tiny images: the decision -----------------------------------------------------------------------------


def test_images_under_the_minimum_side_are_rejected_and_4x4_is_upscaled(tmp_path):
    assert MIN_SIDE == 4
    for size in [(1, 1), (3, 3), (500, 2), (1, 300)]:
        Image.new("RGB", size, (10, 200, 30)).save(tmp_path / "small.png")
        with pytest.raises(ImageDecodeError, match=rf"^too small: {size[0]}x{size[1]} pixels \(at least 4 on each"):
            decode_image(tmp_path / "small.png", 32, 32)
    Image.new("RGB", (4, 4), (10, 200, 30)).save(tmp_path / "four.png")
    for crop in ("center", "pad", "random"):
        a, _, size = decode_image(tmp_path / "four.png", 64, 64, crop)
        assert size == (4, 4) and a.shape[2] == 3 and a.shape[0] >= 64
        assert (np.abs(a.astype(int) - (10, 200, 30)) <= 1).all()


# --- scale: 5,000 tiny files --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(600, method="thread")
def test_a_folder_of_5000_tiny_files(tmp_path, capsys):
    folder = tmp_path / "tiny"
    folder.mkdir()
    n = 5000
    for i in range(n):  # 8x8 PNGs of one colour each, which says which file a decoded image came from
        Image.new("RGB", (8, 8), (i % 256, i // 256, 77)).save(folder / f"t{i:04d}.png")

    t = time.perf_counter()
    result = scan_folder(folder)
    t_scan = time.perf_counter() - t
    t = time.perf_counter()
    first = load_dataset(folder, res=32)
    t_first = time.perf_counter() - t
    t = time.perf_counter()
    again = load_dataset(folder, res=32)
    t_cached = time.perf_counter() - t
    t = time.perf_counter()
    code, out, _ = cli(capsys, "scan", folder)
    t_cli = time.perf_counter() - t
    with capsys.disabled():
        print(f"\n5,000 8x8 PNGs: scan_folder {t_scan:.2f} s, load_dataset {t_first:.2f} s (cached: "
              f"{t_cached:.2f} s), gan-studio scan {t_cli:.2f} s, on {os.cpu_count()} CPU(s)")

    assert len(result.images) == n and result.rejected == [] and code == 0 and f"usable images: {n}" in out
    assert first.images.shape == (n, 3, 32, 32) and not first.from_cache and again.from_cache
    assert first.files == [f"t{i:04d}.png" for i in range(n)]
    for i in (0, 1, 255, 256, 2345, n - 1):  # nothing lost, nothing shuffled
        assert tuple(first.images[i][:, 16, 16]) == (i % 256, i // 256, 77)
    assert np.array_equal(again.images, first.images)
    assert t_scan < 60 and t_first < 60 and t_cli < 60 and t_cached < 5
