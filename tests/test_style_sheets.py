"""Style sheets of a conditional model (gan_studio.style_sheets): the same seeds in every style, a blend strip from
one style to another, and a walk between styles saved as a GIF; a model without styles is told so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_studio import style_sheets as sheets
from gan_studio.engine.sampling import load_generator

STYLES = ["monet", "song"]


def small_config(source: Path, steps: int = 4):
    from gan_studio.config import RunConfig

    cfg = RunConfig()
    cfg.data.source = str(source)
    cfg.model.name = "dcgan"
    cfg.data.res, cfg.model.width = 32, 8
    cfg.train.batch = 8
    cfg.train.steps = steps
    cfg.train.sample_every = steps
    cfg.train.checkpoint_every = steps
    return cfg


def train_tiny(folder: Path, out: Path) -> Path:
    from gan_studio.engine import Trainer

    torch.set_num_threads(1)
    events = list(Trainer.new(small_config(folder), out=out).run())
    assert type(events[-1]).__name__ == "Finished"
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A tiny conditional run (two style folders of 20 landscapes) and a tiny run without styles."""
    from gan_studio.data.demo import make_landscape

    base = tmp_path_factory.mktemp("style-sheets")
    styled, plain = base / "painters", base / "one set"
    for k, name in enumerate(STYLES):
        (styled / name).mkdir(parents=True)
        for i in range(20):
            make_landscape(100 * k + i, (40, 40)).save(styled / name / f"{i:02d}.png")
    plain.mkdir()
    for i in range(20):
        make_landscape(i, (40, 40)).save(plain / f"{i:02d}.png")
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GAN_STUDIO_CACHE", str(base / "cache"))
        mp.setenv("GAN_STUDIO_RUNS", str(base / "runs"))
        try:
            yield {"styled": train_tiny(styled, base / "styled-run"), "plain": train_tiny(plain, base / "plain-run")}
        finally:
            torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def gen(runs):
    g = load_generator(runs["styled"])
    assert g.styles == STYLES
    return g


def one_hot(i: int) -> np.ndarray:
    v = np.zeros(len(STYLES), np.float32)
    v[i] = 1
    return v


def test_grid_has_a_row_per_style_and_a_column_per_seed(gen):
    seeds = [3, 7, 11]
    cells = sheets.style_cells(gen, seeds)
    assert cells.dtype == np.uint8 and cells.shape == (2, 3, 32, 32, 3)
    for r in range(len(STYLES)):
        assert np.array_equal(cells[r], gen.images(seeds, style=one_hot(r)))
    assert sheets.style_labels(gen) == STYLES

    sheet = sheets.style_grid(gen, seeds)
    assert sheet.dtype == np.uint8 and sheet.shape == (2 * 34 + 2, 3 * 34 + 2, 3)
    assert np.array_equal(sheet[2 + 34:2 + 34 + 32, 2 + 68:2 + 68 + 32], cells[1, 2])  # row song, column seed 11
    assert np.array_equal(sheet, sheets.sheet_from_cells(cells))

    # chosen rows: a style by name and a blend
    blend = np.array([0.6, 0.4])
    chosen = sheets.style_cells(gen, seeds, ["song", blend])
    assert np.array_equal(chosen[0], cells[1]) and np.array_equal(chosen[1], gen.images(seeds, style=blend))
    assert sheets.style_labels(gen, ["song", blend]) == ["song", "monet60-song40"]


def test_the_same_seed_is_the_same_noise_in_every_style(gen):
    seeds = [0, 5]
    assert torch.equal(gen.noise(seeds), gen.noise(seeds))
    cells = sheets.style_cells(gen, seeds)
    # the images are those of the seed's own noise, with each style's input
    for r in range(len(STYLES)):
        y = gen.style_rows(seeds, one_hot(r))
        assert np.array_equal(cells[r], gen.images_from_noise(gen.noise(seeds), y=y))
    assert not np.array_equal(cells[0], cells[1])  # the style input changes the pictures


def test_blend_strip_runs_from_one_pure_style_to_the_other(gen):
    strip = sheets.blend_strip(gen, 9, "monet", "song", steps=5)
    assert len(strip) == 5 and all(im.shape == (32, 32, 3) and im.dtype == np.uint8 for im in strip)
    assert np.array_equal(strip[0], gen.images([9], style=one_hot(0))[0])
    assert np.array_equal(strip[-1], gen.images([9], style=one_hot(1))[0])
    assert np.array_equal(strip[2], gen.images([9], style=np.array([0.5, 0.5]))[0])
    assert sheets.blend_weights(5) == [0, 0.25, 0.5, 0.75, 1]
    with pytest.raises(ValueError, match="at least 2 steps"):
        sheets.blend_strip(gen, 9, "monet", "song", steps=1)
    with pytest.raises(ValueError, match="no style named 'turner'.*monet, song"):
        sheets.blend_strip(gen, 9, "monet", "turner")


def test_style_walk_frames_visit_every_style_and_loop(gen, tmp_path):
    frames = sheets.style_walk_frames(gen, 4, STYLES, frames_per_leg=6)
    assert len(frames) == 2 * 6  # monet -> song -> back to monet, the last frame short of monet again
    assert np.array_equal(frames[0], gen.images([4], style=one_hot(0))[0])
    assert np.array_equal(frames[6], gen.images([4], style=one_hot(1))[0])
    open_walk = sheets.style_walk_frames(gen, 4, ["song", "monet"], frames_per_leg=6, loop=False)
    assert len(open_walk) == 7 and np.array_equal(open_walk[-1], frames[0])
    with pytest.raises(ValueError, match="at least two styles"):
        sheets.style_walk_frames(gen, 4, ["monet"])

    path = sheets.save_style_walk_gif(tmp_path / "walk.gif", frames)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.is_animated and im.n_frames == len(frames)
        assert im.info.get("loop") == 0 and im.size == (128, 128)  # 32 px enlarged 4x, pixel-exact
    assert [p.name for p in tmp_path.iterdir()] == ["walk.gif"]  # written atomically: nothing else left


def test_a_model_without_styles_is_a_clear_value_error(runs):
    plain = load_generator(runs["plain"])
    assert plain.styles == []
    for call in (lambda: sheets.style_grid(plain, [1, 2]), lambda: sheets.style_cells(plain, [1]),
                 lambda: sheets.blend_strip(plain, 1, "a", "b"), lambda: sheets.style_walk_frames(plain, 1)):
        with pytest.raises(ValueError, match="this model has no styles"):
            call()


def test_a_style_vector_that_does_not_fit_is_refused(gen):
    with pytest.raises(ValueError, match="2 non-negative weights"):
        sheets.style_cells(gen, [1], [np.array([1.0, 0.0, 0.0])])
    with pytest.raises(ValueError, match="non-negative"):
        sheets.style_cells(gen, [1], [np.array([-1.0, 2.0])])
    with pytest.raises(ValueError, match="at least one style and one seed"):
        sheets.style_cells(gen, [], None)
