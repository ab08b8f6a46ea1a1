"""scan_folder and load_dataset: the bad-input corpus, the on-disk cache, MNIST-style arrays, real data sets."""

from __future__ import annotations

import gzip
import os
import struct
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from data_corpus import CORPUS_IGNORED, UNICODE_NAME, digits, make_bad_input_corpus, write_csv, write_idx  # noqa: E402

import gan_studio.data.cache as cache_mod  # noqa: E402
import gan_studio.data.scan as scan_mod  # noqa: E402
from gan_studio.data import (  # noqa: E402
    IMAGE_EXTENSIONS,
    ImageSet,
    NoUsableImagesError,
    default_cache_dir,
    load_dataset,
    scan_folder,
)
from gan_studio.errors import DataError  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "cache"))


@pytest.fixture()
def corpus(tmp_path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "corpus"
    return root, make_bad_input_corpus(root)


def _expect(expected: dict[str, str], outcome: str) -> list[str]:
    return sorted(p for p, o in expected.items() if o == outcome)


def _cache_files(tmp_path: Path, suffix: str) -> list[Path]:
    return sorted((tmp_path / "cache" / "datasets").glob(f"*{suffix}"))


# --- scan ---------------------------------------------------------------------------------------


def test_scan_sorts_good_bad_and_ignored(corpus):
    root, expected = corpus
    calls = []
    result = scan_folder(root, progress=lambda done, total: calls.append((done, total)))
    assert result.root == root.resolve()
    assert [i.path for i in result.images] == _expect(expected, "ok")
    assert [r.path for r in result.rejected] == _expect(expected, "rejected")
    assert all(r.reason.strip() for r in result.rejected)
    assert result.ignored == CORPUS_IGNORED
    n = len(expected)
    assert calls[0] == (0, n) and calls[-1] == (n, n) and len(calls) == n + 1


def test_scan_reports_sizes_modes_and_odd_names(corpus):
    root, _ = corpus
    info = {i.path: i for i in scan_folder(root).images}
    assert (info["wide.png"].width, info["wide.png"].height) == (300, 150)
    assert (info["exif_rotated.jpg"].width, info["exif_rotated.jpg"].height) == (20, 40)  # as displayed
    assert info["gray16.png"].mode == "I;16" and info["cmyk.jpg"].mode == "CMYK"
    assert "UPPER.JPG" in info and "sub/c.jpg" in info and UNICODE_NAME in info
    assert info["a.jpg"].bytes == (root / "a.jpg").stat().st_size


def test_extensions_are_matched_case_insensitively(tmp_path):
    for ext in IMAGE_EXTENSIONS:
        fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}.get(ext, ext[1:].upper())
        try:
            Image.new("RGB", (8, 8), (1, 2, 3)).save(tmp_path / f"x{ext.upper()}", fmt)
        except (KeyError, OSError):  # a Pillow built without this format: the extension is still a candidate
            (tmp_path / f"x{ext.upper()}").write_bytes(b"")
    result = scan_folder(tmp_path)
    assert len(result.images) + len(result.rejected) == len(IMAGE_EXTENSIONS)
    assert result.ignored == []


def test_symlink_loops_end_and_linked_folders_are_followed_once(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    Image.new("RGB", (8, 8)).save(root / "sub" / "a.png")
    Image.new("RGB", (8, 8)).save(outside / "b.png")
    try:
        (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
        (root / "linked").symlink_to(outside, target_is_directory=True)
        (root / "dangling.png").symlink_to(tmp_path / "missing.png")
    except OSError:
        pytest.skip("no symbolic links here")
    result = scan_folder(root)
    assert [i.path for i in result.images] == ["linked/b.png", "sub/a.png"]
    assert "sub/loop/" in result.ignored
    assert [(r.path, r.reason) for r in result.rejected] == [("dangling.png", "broken link")]


def test_hidden_folders_are_ignored(tmp_path):
    (tmp_path / ".thumbnails").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / ".thumbnails" / "t.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    result = scan_folder(tmp_path)
    assert [i.path for i in result.images] == ["a.png"] and result.ignored == [".thumbnails/"]


def test_an_unreadable_file_is_rejected_with_a_reason(tmp_path, monkeypatch):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "locked.png")
    real_open = Image.open

    def guarded(fp, *args, **kwargs):  # what open() does on a file without read permission
        if str(fp).endswith("locked.png"):
            raise PermissionError(13, "Permission denied", str(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", guarded)
    result = scan_folder(tmp_path)
    assert [i.path for i in result.images] == ["a.png"]
    assert [(r.path, r.reason) for r in result.rejected] == [("locked.png", "permission denied")]


def test_unreadable_files_and_folders_for_real(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "locked.png")
    (tmp_path / "closed").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "closed" / "b.png")
    (tmp_path / "locked.png").chmod(0)
    (tmp_path / "closed").chmod(0)
    try:
        if os.access(tmp_path / "locked.png", os.R_OK):
            pytest.skip("running as a user who can read any file (root)")
        result = scan_folder(tmp_path)
        assert [i.path for i in result.images] == ["a.png"]
        reasons = {r.path: r.reason for r in result.rejected}
        assert reasons["locked.png"] == "permission denied"
        assert reasons["closed"].startswith("cannot read folder")
        with pytest.raises(DataError, match="cannot list folder"):
            scan_folder(tmp_path / "closed")
    finally:
        (tmp_path / "locked.png").chmod(0o644)
        (tmp_path / "closed").chmod(0o755)


def test_scan_of_a_missing_folder_or_a_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="folder not found"):
        scan_folder(tmp_path / "nope")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(DataError, match="not a folder"):
        scan_folder(tmp_path / "f.txt")


# --- load_dataset and its cache -------------------------------------------------------------------


def test_load_dataset_then_load_from_cache_without_decoding(corpus, monkeypatch):
    root, expected = corpus
    first = load_dataset(root, res=32)
    assert isinstance(first, ImageSet) and not first.from_cache
    n = len(_expect(expected, "ok"))
    assert first.images.shape == (n, 3, 32, 32) and first.images.dtype == np.uint8 and first.channels == 3
    assert first.files == _expect(expected, "ok") and len(first.source_sizes) == n
    assert [r.path for r in first.rejected] == _expect(expected, "rejected")
    assert first.ignored == CORPUS_IGNORED and first.source == str(root.resolve())
    assert (first.height, first.width, first.target_height, first.target_width) == (32, 32, 32, 32)

    def no_decoding(*args, **kwargs):
        raise AssertionError("a cached load must not decode")

    monkeypatch.setattr(cache_mod, "decode_many", no_decoding)
    t = time.perf_counter()
    second = load_dataset(root, res=32)
    assert time.perf_counter() - t < 0.5
    assert second.from_cache and np.array_equal(second.images, first.images)
    assert second.rejected == first.rejected and second.files == first.files
    assert second.source_sizes == first.source_sizes and second.ignored == first.ignored


def test_grayscale_images_in_a_colour_set_are_replicated(corpus):
    root, _ = corpus
    s = load_dataset(root, res=16)
    g = s.images[s.files.index("gray16.png")]
    assert np.array_equal(g[0], g[1]) and np.array_equal(g[1], g[2])


def test_a_modified_file_invalidates_the_cache(corpus):
    root, _ = corpus
    load_dataset(root, res=16)
    assert load_dataset(root, res=16).from_cache
    st = (root / "a.jpg").stat()
    os.utime(root / "a.jpg", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert not load_dataset(root, res=16).from_cache
    Image.new("RGB", (64, 48), (9, 9, 9)).save(root / "b.png")  # new content
    again = load_dataset(root, res=16)
    assert not again.from_cache and (again.images[again.files.index("b.png")] == 9).all()


def test_resolution_aspect_and_crop_have_their_own_cache_entries(corpus):
    root, _ = corpus
    assert load_dataset(root, res=16).images.shape[2:] == (16, 16)
    wide = load_dataset(root, res=16, aspect="2:1")
    assert not wide.from_cache and wide.images.shape[2:] == (16, 32)
    rnd = load_dataset(root, res=16, crop="random")
    assert not rnd.from_cache and rnd.images.shape[2:] == (18, 18)
    assert (rnd.height, rnd.width, rnd.target_height, rnd.target_width) == (18, 18, 16, 16)
    assert load_dataset(root, res=16, crop="random").from_cache


@pytest.mark.parametrize("damage", ["garbage_npy", "truncated_npy", "garbage_json", "missing_npy"])
def test_a_damaged_cache_entry_is_rebuilt(corpus, tmp_path, damage):
    root, _ = corpus
    first = load_dataset(root, res=16)
    (npy,), (sidecar,) = _cache_files(tmp_path, ".npy"), _cache_files(tmp_path, ".json")
    if damage == "garbage_npy":
        npy.write_bytes(b"not a numpy file")
    elif damage == "truncated_npy":
        npy.write_bytes(npy.read_bytes()[:500])
    elif damage == "garbage_json":
        sidecar.write_text("{ half a sidecar", encoding="utf-8")
    else:
        npy.unlink()
    rebuilt = load_dataset(root, res=16)
    assert not rebuilt.from_cache and np.array_equal(rebuilt.images, first.images)
    assert load_dataset(root, res=16).from_cache


def test_cache_writes_leave_no_temporary_files(corpus, tmp_path):
    root, _ = corpus
    load_dataset(root, res=16)
    assert len(_cache_files(tmp_path, ".npy")) == 1 and len(_cache_files(tmp_path, ".json")) == 1
    assert _cache_files(tmp_path, ".tmp") == []


def test_an_interrupted_cache_write_is_not_loaded(corpus, tmp_path, monkeypatch):
    root, _ = corpus

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_mod.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        load_dataset(root, res=16)
    monkeypatch.undo()
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "cache"))
    assert not load_dataset(root, res=16).from_cache
    assert _cache_files(tmp_path, ".tmp") == []


def test_a_folder_of_grayscale_images_gives_one_channel(tmp_path):
    Image.new("L", (20, 20), 30).save(tmp_path / "a.png")
    Image.new("RGB", (20, 20), (80, 80, 80)).save(tmp_path / "b.png")  # RGB with identical channels
    Image.fromarray(np.full((20, 20), 40000, np.uint16)).save(tmp_path / "c.png")
    s = load_dataset(tmp_path, res=8)
    assert s.channels == 1 and s.images.shape == (3, 1, 8, 8)
    assert s.images[0].max() == 30 and s.images[1].max() == 80 and abs(int(s.images[2].max()) - 156) <= 1


def test_an_empty_folder_is_a_data_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("x")
    with pytest.raises(DataError, match="no image files in .*1 other file"):
        load_dataset(tmp_path / "empty")


def test_a_folder_of_only_bad_files_names_them(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    (tmp_path / "b.png").write_text("hello")
    with pytest.raises(NoUsableImagesError, match="no usable image in .*2 file") as info:
        load_dataset(tmp_path)
    assert isinstance(info.value, DataError)
    assert [(r.path, r.reason) for r in info.value.rejected] == [
        ("a.jpg", "empty file (0 bytes)"),
        ("b.png", "not an image (cannot identify format)"),
    ]


def test_a_missing_source_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_dataset(tmp_path / "nope")
    Image.new("RGB", (8, 8)).save(tmp_path / "one.png")
    with pytest.raises(DataError, match="is a file"):
        load_dataset(tmp_path / "one.png")


def test_thread_pool_matches_serial_and_runs_off_the_main_thread(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for i in range(scan_mod.POOL_MIN_FILES + 8):
        Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)).save(tmp_path / f"{i:03d}.png")
    (tmp_path / "zz_bad.jpg").write_bytes(b"nope")
    filters = list(warnings.filters)
    out: dict[str, object] = {}

    def work() -> None:
        try:
            out["set"] = load_dataset(tmp_path, res=16, cache_dir=tmp_path / "c1")
        except BaseException as e:  # noqa: BLE001 - re-raised on the main thread below
            out["error"] = e

    t = threading.Thread(target=work)
    t.start()
    t.join(60)
    assert "error" not in out, out.get("error")
    pooled = out["set"]
    monkeypatch.setattr(scan_mod, "POOL_MIN_FILES", 10**9)
    serial = load_dataset(tmp_path, res=16, cache_dir=tmp_path / "c2")
    assert np.array_equal(pooled.images, serial.images) and pooled.files == serial.files
    assert [r.path for r in pooled.rejected] == ["zz_bad.jpg"]
    assert warnings.filters == filters


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "g"))
    assert default_cache_dir() == tmp_path / "g"
    monkeypatch.delenv("GAN_STUDIO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x" / "gan_studio"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "gan_studio"


# --- MNIST-style arrays ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tiny.csv", "tiny.csv.gz"])
def test_an_mnist_csv_loads(tmp_path, name):
    images = digits(3)
    write_csv(tmp_path / name, images)
    s = load_dataset(tmp_path / name, res=28)
    assert s.images.shape == (3, 1, 28, 28) and s.channels == 1 and np.array_equal(s.images[:, 0], images)
    assert s.files == [f"{name}#0", f"{name}#1", f"{name}#2"] and s.rejected == []
    assert load_dataset(tmp_path / name, res=28).from_cache
    assert load_dataset(tmp_path / name, res=32).images.shape == (3, 1, 32, 32)


@pytest.mark.parametrize("name", ["tiny-images-idx3-ubyte", "tiny-images-idx3-ubyte.gz"])
def test_an_idx_file_loads(tmp_path, name):
    images = digits(4)
    write_idx(tmp_path / name, images)
    s = load_dataset(tmp_path / name, res=28)
    assert s.images.shape == (4, 1, 28, 28) and np.array_equal(s.images[:, 0], images)
    assert load_dataset(tmp_path / name, res=16, aspect="2:1").images.shape == (4, 1, 16, 32)


def test_a_folder_of_array_files_prefers_train(tmp_path):
    write_csv(tmp_path / "train-small.csv.gz", digits(2))
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", digits(5))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 5)))
    s = load_dataset(tmp_path, res=28)
    assert len(s) == 2 and s.files[0] == "train-small.csv.gz#0"
    assert s.ignored == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    (tmp_path / "train-small.csv.gz").unlink()
    assert len(load_dataset(tmp_path, res=28)) == 5  # no 'train' file left: all image files


def test_bad_array_files_are_data_errors(tmp_path):
    (tmp_path / "header.csv").write_text("label,p1,p2\n1,2,3\n")
    with pytest.raises(DataError, match="header.csv"):
        load_dataset(tmp_path / "header.csv")
    (tmp_path / "short.csv").write_text("1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match="784 pixel columns"):
        load_dataset(tmp_path / "short.csv")
    (tmp_path / "labels-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + struct.pack(">3I", 9, 28, 28) + b"\x00" * 10)
    with pytest.raises(DataError, match="truncated"):
        load_dataset(tmp_path / "labels-idx3-ubyte")


# --- the project's real data sets (skipped where absent) ------------------------------------------


@pytest.mark.skipif(not (SHARED / "mnist" / "train-5k.csv.gz").exists(), reason="shared MNIST not present")
def test_shared_mnist_csv_loads_fast():
    t = time.perf_counter()
    s = load_dataset(SHARED / "mnist" / "train-5k.csv.gz", res=28)
    assert time.perf_counter() - t < 2.0
    assert s.images.shape == (5000, 1, 28, 28) and s.images.max() == 255
    folder = load_dataset(SHARED / "mnist", res=28)
    assert folder.from_cache and folder.files[0] == "train-5k.csv.gz#0"


@pytest.mark.skipif(not (SHARED / "monet300").is_dir(), reason="shared monet300 not present")
def test_monet300_loads_and_comes_back_from_the_cache():
    first = load_dataset(SHARED / "monet300", res=64)
    assert first.images.shape == (300, 3, 64, 64) and first.rejected == [] and not first.from_cache
    t = time.perf_counter()
    second = load_dataset(SHARED / "monet300", res=64)
    assert time.perf_counter() - t < 0.5
    assert second.from_cache and np.array_equal(second.images, first.images)
