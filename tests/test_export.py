"""Exporting a run: images with their seed, run and step in the metadata, at a chosen size and format; a contact
sheet; an HTML page whose links resolve; GIFs of a latent walk and of the training; favourites; and safety:
nothing is overwritten silently, and a failed export leaves no partial set of files behind."""

from __future__ import annotations

import math
import stat
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_studio.cli import main as cli
from gan_studio.config import RunConfig
from gan_studio.engine.latent import WALK_FRAMES, interpolate_noise, slerp, walk_noise
from gan_studio.engine.rundir import RunDir
from gan_studio.errors import GanStudioError
from gan_studio.export import GRID_NAME, HTML_NAME, PROGRESS_GIF, WALK_GIF, WALK_KEYS, export_plan, export_run


def load_favourites(run):
    return RunDir(run).favourites()


def save_favourites(run, seeds):
    RunDir(run).save_favourites(seeds)


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
def run(landscapes32, tmp_path_factory) -> Path:
    from gan_studio.engine import Trainer

    cfg = RunConfig()
    cfg.data.source = str(landscapes32)
    cfg.data.res, cfg.model.width = 32, 8
    cfg.train.batch, cfg.train.steps, cfg.train.sample_every, cfg.train.preview_n = 8, 30, 10, 16
    out = tmp_path_factory.mktemp("export-run") / "run"
    trainer = Trainer.new(cfg, out=out)
    for _ in trainer.run():
        pass
    return out


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"] if folder.exists() else []


def test_n_images_with_seed_run_and_step_in_their_metadata(run, tmp_path):
    out = tmp_path / "out"
    calls = []
    result = export_run(run, out, n=6, first_seed=3, size=64, progress=lambda d, t: calls.append((d, t)))
    names = [p.name for p in result.files]
    assert names == [f"seed_{s:06d}.png" for s in range(3, 9)]
    assert result.out == out and result.step == 30 and result.seeds == list(range(3, 9))
    for seed, path in zip(range(3, 9), result.files):
        with Image.open(path) as im:
            assert im.size == (64, 64) and im.mode == "RGB"
            assert im.text == {"seed": str(seed), "run": "run", "step": "30", "software": "GAN Studio"}
    assert calls[-1][0] == calls[-1][1] and all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))
    assert leftovers(out) == []


def test_each_image_is_a_function_of_its_seed(run, tmp_path):
    a = export_run(run, tmp_path / "a", n=3, first_seed=10).files
    b = export_run(run, tmp_path / "b", seeds=[11, 99]).files
    assert np.array_equal(np.asarray(Image.open(a[1])), np.asarray(Image.open(b[0])))


def test_jpeg_at_native_size(run, tmp_path):
    result = export_run(run, tmp_path, n=2, fmt="jpg")
    with Image.open(result.files[0]) as im:
        assert im.format == "JPEG" and im.size == (32, 32)
        assert b"seed=0" in im.info["comment"] and b"step=30" in im.info["comment"]


def test_files_are_shareable_not_owner_only(run, tmp_path):
    from gan_studio.export import _umask

    result = export_run(run, tmp_path, n=1, html=True)
    for p in result.files:  # as a normally created file (0666 less the umask), not mkstemp's 0600
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~_umask()


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs, self.srcs = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a":
            self.hrefs.append(a["href"])
        if tag == "img":
            self.srcs.append(a["src"])


def test_grid_html_page_and_gifs(run, tmp_path):
    out = tmp_path / "gallery"
    result = export_run(run, out, n=10, first_seed=0, size=48, grid=True, html=True, gif=True)
    names = {p.name for p in result.files}
    assert {GRID_NAME, HTML_NAME, WALK_GIF, PROGRESS_GIF} <= names and len(names) == 14

    with Image.open(out / GRID_NAME) as im:  # 10 images of 48 px: 4 columns, 3 rows, 2 px padding
        assert im.size == (4 * 50 + 2, 3 * 50 + 2)

    page = (out / HTML_NAME).read_text(encoding="utf-8")
    links = Links()
    links.feed(page)
    image_links = [h for h in links.hrefs if h.startswith("seed_")]
    assert image_links == [f"seed_{s:06d}.png" for s in range(10)]
    for href in links.hrefs:  # every link is relative and resolves to a file that was written
        assert not href.startswith(("/", "http", "file:")) and (out / href).is_file()
    assert len(links.srcs) == 10 and all(s.startswith("data:image/jpeg;base64,") for s in links.srcs)
    assert "seed 7" in page and "run" in page and "step 30" in page

    with Image.open(out / WALK_GIF) as im:
        assert im.n_frames == WALK_KEYS * WALK_FRAMES and im.info.get("loop") == 0
        assert im.size == (128, 128)  # small images are enlarged to a watchable size
    n_grids = len(list((run / "samples").glob("step_*.png")))
    with Image.open(out / PROGRESS_GIF) as im:
        assert im.n_frames == n_grids


def test_favourites_round_trip_and_export(run, tmp_path):
    assert load_favourites(run) == []
    save_favourites(run, [9, 2, 9])
    assert load_favourites(run) == [2, 9]
    result = export_run(run, tmp_path, seeds=load_favourites(run))
    assert [p.name for p in result.files] == ["seed_000002.png", "seed_000009.png"]
    (run / "favourites.json").write_text("{ damaged")
    assert load_favourites(run) == []
    (run / "favourites.json").unlink()
    with pytest.raises(GanStudioError, match="favourites"):
        export_run(run, tmp_path, seeds=[])


def test_never_overwrites_silently_and_checks_every_target_first(run, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / HTML_NAME).write_text("my own page")
    with pytest.raises(GanStudioError, match="already exist"):
        export_run(run, out, n=5, html=True)
    assert sorted(p.name for p in out.iterdir()) == [HTML_NAME]  # not one image written before the refusal
    assert (out / HTML_NAME).read_text() == "my own page"
    result = export_run(run, out, n=5, html=True, overwrite=True)
    assert len(result.files) == 6 and "my own page" not in (out / HTML_NAME).read_text()


def test_a_failed_export_leaves_nothing_half_written(run, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")

    def fail_midway(done, total):
        if done > 8:  # after the images are drawn and some are written
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_run(run, out, n=6, grid=True, html=True, progress=fail_midway)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_plan_lists_every_target(run, tmp_path):
    plan = export_plan(run, tmp_path, [1, 2], "jpg", grid=True, html=True, gif=True)
    assert [p.name for p in plan] == ["seed_000001.jpg", "seed_000002.jpg", GRID_NAME, HTML_NAME, WALK_GIF,
                                      PROGRESS_GIF]


@pytest.mark.parametrize("kwargs,message", [
    ({"fmt": "tiff"}, "format"), ({"n": 0}, "between 1"), ({"size": 4}, "size"), ({"first_seed": -1}, "non-negative"),
])
def test_bad_options_are_clear_errors(run, tmp_path, kwargs, message):
    with pytest.raises(GanStudioError, match=message):
        export_run(run, tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_not_a_run(tmp_path):
    with pytest.raises(GanStudioError, match="not a GAN Studio run"):
        export_run(tmp_path, tmp_path / "out", n=1)


def test_slerp_keeps_the_norm_and_the_ends():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(100).astype(np.float32), rng.standard_normal(100).astype(np.float32)
    path = interpolate_noise(a, b, 9)
    assert np.allclose(path[0], a, atol=1e-5) and np.allclose(path[-1], b, atol=1e-5)
    norms = np.linalg.norm(path, axis=1)
    lerp_mid = np.linalg.norm((a + b) / 2)
    assert norms[4] > lerp_mid * 1.2  # a straight line would dip through the unlikely low-norm middle
    assert np.all(np.abs(norms - math.sqrt(100)) < 3)
    assert np.allclose(slerp(a, a, 0.3), a)
    straight = interpolate_noise(a, b, 3, kind="uniform")
    assert np.allclose(straight[1], (a + b) / 2)
    loop = walk_noise(np.stack([a, b, -a]), 4)
    assert loop.shape == (12, 100) and np.allclose(loop[0], a, atol=1e-5) and np.allclose(loop[4], b, atol=1e-5)


def test_cli_export(run, tmp_path, capsys):
    out = tmp_path / "cli"
    code = cli(["export", str(run), "--n", "4", "--out", str(out), "--grid", "--html", "--size", "64"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "exported 6 file(s)" in err
    assert len(list(out.glob("seed_*.png"))) == 4
    assert cli(["export", str(run), "--n", "4", "--out", str(out)]) == 1
    assert "already exist" in capsys.readouterr().err


def test_a_walk_through_two_favourites_and_progress_that_ends_at_its_total(run, tmp_path):
    calls = []
    export_run(run, tmp_path, seeds=[3, 4], gif=True, progress=lambda d, t: calls.append((d, t)))
    with Image.open(tmp_path / WALK_GIF) as im:
        assert im.n_frames == 2 * WALK_FRAMES  # there and back again
    assert calls[-1][0] == calls[-1][1] and len({t for _, t in calls}) == 1


def test_cli_exports_the_favourites_from_a_chosen_checkpoint(run, tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "favs"
    assert cli(["export", str(run), "--favourites", "--out", str(out)]) == 1
    assert "no favourites yet" in capsys.readouterr().err
    save_favourites(run, [5, 3])
    try:
        first = sorted((run / "checkpoints").glob("step_*.pt"))[0]
        assert cli(["export", str(run), "--favourites", "--checkpoint", str(first), "--out", str(out)]) == 0
        assert sorted(p.name for p in out.glob("seed_*.png")) == ["seed_000003.png", "seed_000005.png"]
        with Image.open(out / "seed_000003.png") as im:
            assert im.text["step"] == str(int(first.stem.split("_")[1]))
        assert cli(["export", str(run), "--n", "2", "--which", "latest", "--out", str(tmp_path / "latest")]) == 0
    finally:
        (run / "favourites.json").unlink()
