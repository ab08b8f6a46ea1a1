"""One truth: the family records and the one defaults policy that the command line and the app both call."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gan_studio.config import RunConfig, image_size
from gan_studio.data.summary import DataSummary, summarize_source
from gan_studio.defaults import choose_resolution, defaults_for, why_default
from gan_studio.errors import ConfigError
from gan_studio.families import FAMILIES, SMALL_DATASET, family

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def shared_dataset(name: str) -> Path:
    if not (SHARED / name).exists():
        pytest.skip(f"{SHARED / name} is not available (../shared is absent)")
    return SHARED / name


def summary(count=300, side=256, gray=False, aspect=1.0, source="/pictures") -> DataSummary:
    return DataSummary(Path(source), source, count, min_side=side, median_side=side, gray=gray, aspect=aspect,
                       min_size=(side, side), max_size=(side, side))


def test_a_few_hundred_paintings_get_the_data_efficient_model_at_its_measured_settings():
    cfg = defaults_for(summary(300))
    fam = FAMILIES["fastgan"]
    assert (cfg.model.name, cfg.data.res, cfg.model.width, cfg.train.batch) == ("fastgan", 64, 64, 32)
    assert (cfg.train.lr_g, cfg.train.lr_d) == (fam.lr_g, fam.lr_d) == (3e-4, 3e-4)
    assert (cfg.data.flip, cfg.train.augment, cfg.train.minutes) == (False, "auto", 10.0)
    assert "made for folders under 2,000 images" in why_default(summary(300))
    cfg.validate()


def test_large_folders_small_grayscale_digits_and_grayscale_pictures():
    big = defaults_for(summary(SMALL_DATASET + 500))
    assert (big.model.name, big.data.res, big.train.lr_g) == ("dcgan", 64, 2e-4)
    digits = defaults_for(summary(5000, side=28, gray=True))
    assert (digits.model.name, digits.data.res) == ("mlp", 28)
    gray_pictures = defaults_for(summary(120, side=96, gray=True))
    assert (gray_pictures.model.name, gray_pictures.data.res) == ("fastgan", 64)


def test_the_size_never_upscales_what_most_images_cannot_give_and_the_shape_follows_the_images():
    assert defaults_for(summary(300, side=48)).data.res == 32
    assert defaults_for(summary(3000, side=20)).data.res == 16  # DCGAN offers 16 px
    assert choose_resolution(FAMILIES["fastgan"], summary(300, side=20)) == 32  # never below what it can train
    assert defaults_for(summary(300, aspect=1.5)).data.aspect == "3:2"
    assert defaults_for(summary(300, aspect=2.1)).data.aspect == "2:1"
    assert defaults_for(summary(300, aspect=0.66)).data.aspect == "2:3"
    assert defaults_for(summary(20)).train.batch == 16  # a tiny folder: a batch it fills


def test_device_sets_only_the_logging_cadence():
    cpu, gpu = defaults_for(summary(), "cpu"), defaults_for(summary(), "cuda")
    assert cpu.train.log_every == 2 and gpu.train.log_every == 10
    cpu.train.log_every = gpu.train.log_every
    assert cpu.to_dict() == gpu.to_dict()


def test_a_preset_or_a_chosen_model_wins_over_the_policy():
    paper = defaults_for(summary(300), preset="paper-mnist")
    assert paper.model.name == "mlp" and paper.train.optimizer == "sgd" and paper.train.batch == 100
    assert "preset" in why_default(summary(300), preset="paper-mnist")
    chosen = defaults_for(summary(300), model="dcgan")
    assert (chosen.model.name, chosen.train.lr_g) == ("dcgan", 2e-4)
    assert why_default(summary(300), model="dcgan").startswith("DCGAN (your choice)")


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_offered_size_and_shape_builds_and_every_refused_one_fails_to_build(name):
    from gan_studio.config import ModelConfig
    from gan_studio.models import build_models

    fam = family(name)
    assert fam.default_res in fam.resolutions
    for res in (*fam.resolutions, 8, 12, 24, 48):
        for aspect in ("1:1", "3:2", "2:1", "2:3"):
            h, w = image_size(res, aspect)
            if max(h, w) > 96:
                continue  # the geometry is the same at any scale: keep the test quick
            why_not = fam.check_shape(h, w)
            if res in fam.resolutions and res <= 64:
                assert why_not is None, (res, aspect)
            if why_not is None:
                g, _ = build_models(ModelConfig(name=name, width=4, g_hidden=[8], d_hidden=[8]), 3, h, w)
                assert g.z_dim == 100
            else:
                with pytest.raises(ConfigError):
                    build_models(ModelConfig(name=name, width=4, g_hidden=[8], d_hidden=[8]), 3, h, w)


def test_an_impossible_combination_is_refused_by_the_config_before_any_image_is_loaded(tmp_path):
    cfg = RunConfig()
    cfg.data.source = str(tmp_path / "not-there")  # loading would fail differently: nothing is loaded
    cfg.model.name, cfg.data.res = "fastgan", 16
    with pytest.raises(ConfigError, match="at least 32 pixels"):
        cfg.validate()
    cfg.model.name, cfg.data.res = "dcgan", 48
    with pytest.raises(ConfigError, match="power of two"):
        cfg.validate()
    cfg.model.name = "stylegan9"
    with pytest.raises(ConfigError, match="unknown model"):
        cfg.validate()


def test_the_command_line_takes_the_policys_config_and_puts_its_options_on_top(tmp_path):
    from gan_studio.cli import build_parser, config_from_args

    for s in (summary(300), summary(5000, side=28, gray=True), summary(2500, side=40), summary(80, gray=True)):
        s.source = str(tmp_path)
        args = build_parser().parse_args(["train", str(tmp_path)])
        assert config_from_args(args, s).to_dict() == defaults_for(s, "cpu").validate().to_dict()
    args = build_parser().parse_args(["train", str(tmp_path), "--res", "128", "--lr-g", "1e-4", "--flip"])
    cfg = config_from_args(args, summary(300, source=str(tmp_path)))
    assert (cfg.model.name, cfg.data.res, cfg.train.lr_g, cfg.train.lr_d, cfg.data.flip) == \
        ("fastgan", 128, 1e-4, 3e-4, True)
    from gan_studio import families  # a family whose record mirrors by default can be told not to

    flipping = dataclasses.replace(families.FAMILIES["fastgan"], flip=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(families.FAMILIES, "fastgan", flipping)
        on = config_from_args(build_parser().parse_args(["train", str(tmp_path)]), summary(300, source=str(tmp_path)))
        off = config_from_args(build_parser().parse_args(["train", str(tmp_path), "--no-flip"]),
                               summary(300, source=str(tmp_path)))
    assert on.data.flip and not off.data.flip


def test_summaries_of_real_folders_and_of_the_mnist_file():
    monet = summarize_source(shared_dataset("monet300"))
    assert (monet.count, monet.median_side, monet.gray, monet.channels) == (300, 256, False, 3)
    mnist = summarize_source(shared_dataset("mnist") / "train-5k.csv.gz")
    assert (mnist.count, mnist.median_side, mnist.gray, mnist.name) == (5000, 28, True, "train-5k.csv.gz")
    assert defaults_for(mnist).model.name == "mlp" and defaults_for(monet).model.name == "fastgan"


@pytest.mark.slow
def test_demo_summary_keeps_the_demo_source():
    demo = summarize_source("demo")
    assert demo.source == "demo" and demo.count == 300 and defaults_for(demo).data.source == "demo"


def test_each_family_trains_with_its_own_augmentations_and_annealing():
    from gan_studio.config import ALL_AUGMENT_OPS

    for fam in FAMILIES.values():
        assert set(fam.augment_ops) <= set(ALL_AUGMENT_OPS), fam.name
        assert 0.0 <= fam.lr_anneal <= 1.0
    cfg = defaults_for(summary(300))
    assert cfg.model.name == "fastgan"
    assert cfg.train.augment_ops == list(FAMILIES["fastgan"].augment_ops)
    assert cfg.train.lr_anneal == FAMILIES["fastgan"].lr_anneal
    # the paper's MLP keeps its plain schedule
    mlp = defaults_for(summary(300, side=28, gray=True))
    assert mlp.model.name == "mlp" and mlp.train.lr_anneal == 0.0
    cfg.validate()
