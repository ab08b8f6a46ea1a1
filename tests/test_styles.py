"""Many painters, one model: styles from sub-folders, conditional models of every family, balanced sampling,
blends, and the style carried through sampling and export."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from gan_studio.config import ModelConfig, RunConfig
from gan_studio.data.styles import (
    MIN_STYLE_IMAGES,
    blend_label,
    detect_styles,
    labels_for_seeds,
    parse_blend,
    proportional_labels,
    resolve_styles,
    style_labels,
    style_vector,
)
from gan_studio.engine import Finished, Notice, Trainer, load_generator
from gan_studio.errors import DataError
from gan_studio.models import build_models


def make_styled_folder(root, counts=(("alpha", 22), ("beta", 25)), loose=1, small=3):
    """Style folders of procedural landscapes (beta's in grey, so the styles differ), a loose image, a small folder."""
    from gan_studio.data.demo import make_landscape

    root.mkdir(parents=True, exist_ok=True)
    for k, (name, n) in enumerate(counts):
        (root / name).mkdir(exist_ok=True)
        for i in range(n):
            im = make_landscape(i + 100 * k, (40, 40))
            (im.convert("L").convert("RGB") if k % 2 else im).save(root / name / f"{i:03d}.png")
    for i in range(loose):
        make_landscape(900 + i, (40, 40)).save(root / f"loose{i}.png")
    if small:
        (root / "tiny").mkdir(exist_ok=True)
        for i in range(small):
            make_landscape(950 + i, (40, 40)).save(root / "tiny" / f"{i}.png")
    return root


def styled_config(source, model="dcgan", steps=4, **train) -> RunConfig:
    cfg = RunConfig()
    cfg.data.source = str(source)
    cfg.model.name = model
    if model == "mlp":
        cfg.data.res = 16
        cfg.model.g_hidden, cfg.model.d_hidden = [64, 64], [32, 32]
    else:
        cfg.data.res, cfg.model.width = 32, 8
    cfg.train.batch, cfg.train.steps, cfg.train.log_every, cfg.train.checkpoint_every = 8, steps, 2, 100
    cfg.train.quality_every, cfg.train.quality_n = 2, 20
    for k, v in train.items():
        setattr(cfg.train, k, v)
    return cfg


@pytest.fixture(scope="module")
def styled(tmp_path_factory):
    return make_styled_folder(tmp_path_factory.mktemp("styled") / "painters")


# ------------------------------------------------------------------------------------------------ the rule
def test_style_folders_become_styles_and_the_rest_is_left_out_with_reasons():
    paths = [f"monet/{i}.jpg" for i in range(30)] + [f"song/deep/{i}.jpg" for i in range(25)] + \
            [f"few/{i}.jpg" for i in range(5)] + ["loose.jpg", "other.png"]
    layout = detect_styles(paths)
    assert layout is not None
    assert layout.names == ["monet", "song"] and layout.counts == [30, 25]  # deeper levels count for their style
    assert layout.loose == 2 and layout.small == {"few": 5} and layout.left_out == 7
    text = " ".join(layout.messages())
    assert "2 image(s) at the top level" in text and "'few' has 5" in text and str(MIN_STYLE_IMAGES) in text
    assert layout.describe() == "2 styles, one model: monet 30, song 25"
    labels = style_labels(paths, layout.names)
    assert (labels[:30] == 0).all() and (labels[30:55] == 1).all() and (labels[55:] == -1).all()


def test_one_style_folder_or_a_flat_folder_is_one_data_set():
    assert detect_styles([f"{i}.png" for i in range(50)]) is None
    assert detect_styles([f"a/{i}.png" for i in range(50)] + [f"b/{i}.png" for i in range(5)]) is None
    assert resolve_styles("auto", [f"{i}.png" for i in range(50)]) == ([], [])
    paths = [f"a/{i}.png" for i in range(20)] + [f"b/{i}.png" for i in range(20)]
    assert resolve_styles("off", paths) == ([], [])
    assert resolve_styles("auto", paths)[0] == ["a", "b"]


def test_blends_parse_normalise_and_name_themselves():
    names = ["monet", "ming", "song"]
    assert parse_blend("monet:3,song:1", names) == {"monet": 0.75, "song": 0.25}
    assert parse_blend("song", names) == {"song": 1.0}
    np.testing.assert_allclose(style_vector(names, {"monet": 0.6, "song": 0.4}), [0.6, 0, 0.4])
    assert blend_label(names, np.array([0.6, 0, 0.4])) == "monet60-song40"
    assert blend_label(names, np.array([0, 1.0, 0])) == "ming"
    for bad, why in (("rembrandt:1", "no style named 'rembrandt'"), ("monet:x", "must be a number"),
                     ("monet:0", "at least one style"), ("monet:-1", "zero or more")):
        with pytest.raises(ValueError, match=why):
            parse_blend(bad, names)
    assert labels_for_seeds(names, [0, 1, 2, 3]) == ["monet", "ming", "song", "monet"]
    assert labels_for_seeds([], [0, 1]) == ["", ""]


def test_proportional_labels_follow_the_counts():
    labels = proportional_labels(100, [300, 211, 222])
    assert len(labels) == 100 and np.bincount(labels).tolist() == [41, 29, 30]
    assert (np.diff(labels) >= 0).all()  # in blocks


# ------------------------------------------------------------------------------------------------ models
@pytest.mark.parametrize("name,res", [("dcgan", 32), ("fastgan", 32), ("mlp", 16)])
def test_conditional_models_follow_the_style_and_blend_linearly(name, res):
    torch.manual_seed(0)
    cfg = ModelConfig(name=name, width=8, g_hidden=[32], d_hidden=[16], styles=["a", "b", "c"])
    g, d = build_models(cfg, 3, res, res)
    g.eval()
    d.eval()
    with torch.no_grad():  # a style that starts from the shared initial scale still has its own parameters
        for p in g.parameters():
            if p.shape[:1] == (3,) and p.dim() == 2 or (name == "mlp" and p.dim() == 2 and p.shape[1] == 103):
                p.add_(torch.randn_like(p) * 0.5)
    z = torch.randn(4, cfg.z_dim)
    eye = torch.eye(3)
    a, b = g(z, eye[[0] * 4]), g(z, eye[[1] * 4])
    assert a.shape == (4, 3, res, res) and not torch.allclose(a, b, atol=1e-4)  # the style changes the image
    assert torch.allclose(g(z, eye[[0] * 4]), a)  # deterministic in eval mode
    assert d(a, eye[[0] * 4]).shape == (4,)
    if name != "mlp":  # the projection term differs by style for the same image
        assert not torch.allclose(d(a, eye[[0] * 4]), d(a, eye[[1] * 4]))
    with pytest.raises(ValueError, match="style input"):
        g(z, eye[:2])


def test_unconditional_models_keep_their_parameters_names():
    """Old runs' checkpoints load: without styles, nothing of the conditional layers appears."""
    for name in ("dcgan", "fastgan", "mlp"):
        g, d = build_models(ModelConfig(name=name, width=8), 3, 32, 32)
        keys = " ".join(list(g.state_dict()) + list(d.state_dict()))
        assert "style" not in keys and "projection" not in keys


# ------------------------------------------------------------------------------------------------ training
def test_balanced_sampling_draws_each_style_equally(tmp_path):
    from gan_studio.data.sampler import DeviceImages

    labels = np.array([0] * 90 + [1] * 10)
    images = np.zeros((100, 1, 8, 8), np.uint8)
    images[:, 0, 0, 0] = labels * 200  # the label is readable from the pixel
    data = DeviceImages(images, (8, 8), torch.device("cpu"), labels=labels)
    gen = torch.Generator().manual_seed(0)
    x, y = data.sample_styled(4000, gen)
    share = y.float().mean().item()
    assert 0.46 < share < 0.54  # 10 images of style 1 are drawn as often as 90 of style 0
    assert torch.equal((x[:, 0, 0, 0] > 0).long(), y)  # each label belongs to its image


@pytest.mark.parametrize("model", ["dcgan", "fastgan", "mlp"])
def test_a_styled_folder_trains_one_conditional_model(styled, tmp_path, model):
    trainer = Trainer.new(styled_config(styled, model), out=tmp_path / "run")
    assert trainer.styles == ["alpha", "beta"] and trainer.style_counts == [22, 25]
    assert len(trainer.images.files) == 47  # the loose image and the 3-image folder are left out
    events = list(trainer.run())
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert any("2 styles, one model" in m for m in notices) and any("'tiny' has 3" in m for m in notices)
    assert isinstance(events[-1], Finished)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["model"]["styles"] == ["alpha", "beta"]  # the run records its styles; a resume rebuilds them
    assert json.loads((tmp_path / "run" / "run.json").read_text())["styles"] == {"alpha": 22, "beta": 25}
    gen = load_generator(tmp_path / "run")
    assert gen.styles == ["alpha", "beta"]
    a = gen.images([5, 6], style=np.array([1.0, 0.0]))
    b = gen.images([5, 6], style=np.array([0.0, 1.0]))
    assert not np.array_equal(a, b)
    # each seed's own style when none is asked: seed 5 is beta (5 mod 2), seed 6 alpha
    own = gen.images([5, 6])
    assert np.array_equal(own[0], b[0]) and np.array_equal(own[1], a[1])
    # a blend's endpoints are the pure styles
    assert np.array_equal(gen.images([5], style=np.array([1.0, 0.0])), a[:1])


def test_the_quality_check_reads_each_style_against_its_own_images():
    from gan_studio.engine.quality import QualityMonitor

    gen = torch.Generator().manual_seed(0)

    def stripes(n: int, vertical: bool) -> torch.Tensor:  # two styles SWD tells apart: stripes across or down
        wave = (torch.arange(16) % 4 < 2).float() * 160
        base = wave.view(1, 1, 1, 16) if vertical else wave.view(1, 1, 16, 1)
        return (base + torch.rand(n, 3, 16, 16, generator=gen) * 90).to(torch.uint8)

    train = torch.cat([stripes(40, False), stripes(40, True)]).numpy()
    labels = np.array([0] * 40 + [1] * 40)
    samples = torch.cat([stripes(20, False), stripes(20, True)])
    right, swapped = np.array([0] * 20 + [1] * 20), np.array([1] * 20 + [0] * 20)
    pooled = QualityMonitor(train).measure(samples)
    monitor = QualityMonitor(train, labels=labels)
    good, bad = monitor.measure(samples, right), monitor.measure(samples, swapped)
    # pooled, a sample in the other style's stripes is as good as a right one; style by style it is not
    assert len(good["swd_styles"]) == 2 and good["swd"] < pooled["swd"] * 1.5
    assert bad["swd"] > 3 * good["swd"]
    assert monitor.fresh_swd(samples, 5, swapped) > 3 * monitor.fresh_swd(samples, 5, right)


def test_a_conditional_run_checks_quality_and_augments_style_by_style(styled, tmp_path):
    cfg = styled_config(styled, steps=6, augment="on", ada_kimg=0.05, ada_interval=2)
    list(Trainer.new(cfg, out=tmp_path / "run").run())
    stats = [json.loads(line) for line in (tmp_path / "run" / "stats.jsonl").read_text().splitlines()]
    assert all(set(s["augment_p_styles"]) == {"alpha", "beta"} for s in stats)
    last = stats[-1]
    assert last["augment_p"] == pytest.approx(np.mean(list(last["augment_p_styles"].values())), abs=1e-3)
    best = json.loads((tmp_path / "run" / "checkpoints" / "best.json").read_text())
    assert len(best["swd_styles"]) == 2


def test_a_conditional_run_resumes_exactly(styled, tmp_path):
    straight = Trainer.new(styled_config(styled, steps=6, quality_every=0), out=tmp_path / "a")
    list(straight.run())
    first = Trainer.new(styled_config(styled, steps=3, quality_every=0), out=tmp_path / "b")
    list(first.run())
    resumed = Trainer.resume(tmp_path / "b", steps=6)
    assert resumed.styles == ["alpha", "beta"]
    list(resumed.run())
    for k, v in straight.G.state_dict().items():
        assert torch.equal(v, resumed.G.state_dict()[k]), k


def test_styles_off_trains_one_model_on_everything(styled, tmp_path):
    cfg = styled_config(styled)
    cfg.data.styles = "off"
    trainer = Trainer.new(cfg, out=tmp_path / "run")
    assert trainer.styles == [] and len(trainer.images.files) == 51


def test_a_missing_style_folder_is_a_clear_error(tmp_path):
    folder = make_styled_folder(tmp_path / "p", loose=0, small=0)
    cfg = styled_config(folder)
    cfg.model.styles = ["alpha", "gamma"]
    with pytest.raises(DataError, match="no images for the style"):
        Trainer.new(cfg, out=tmp_path / "run")


# ------------------------------------------------------------------------------------------------ drivers
def test_cli_samples_and_exports_a_style_or_a_blend(styled, tmp_path):
    run = tmp_path / "run"
    list(Trainer.new(styled_config(styled, steps=2), out=run).run())

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "gan_studio", *map(str, args)], capture_output=True, text=True)

    done = cli("sample", run, "--n", 2, "--blend", "alpha:0.6,beta:0.4", "--out", tmp_path / "s")
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert files == ["seed_000000_alpha60-beta40.png", "seed_000001_alpha60-beta40.png"]
    assert Image.open(tmp_path / "s" / files[0]).text["style"] == "alpha60-beta40"
    done = cli("export", run, "--n", 2, "--style", "beta", "--html", "--out", tmp_path / "e")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "e" / "seed_000001_beta.png").exists()
    assert "style beta" in (tmp_path / "e" / "index.html").read_text()
    bad = cli("sample", run, "--n", 1, "--style", "gamma", "--out", tmp_path / "x")
    assert bad.returncode != 0 and "this model knows alpha, beta" in bad.stderr
    scan = cli("scan", styled)
    assert "styles: 2 styles, one model: alpha 22, beta 25" in scan.stdout


def test_eval_reports_each_style_against_its_own_images(styled, tmp_path):
    from gan_studio.engine.quality import evaluate_run

    run = tmp_path / "run"
    list(Trainer.new(styled_config(styled, steps=2), out=run).run())
    figures, _ = evaluate_run(run, n=30, parzen_ll=False)
    assert figures["n_train"] == 47  # the styles' images only: not the loose one, not the small folder
    per = figures["styles"]
    assert list(per) == ["alpha", "beta"] and per["alpha"]["n"] == 22 and per["beta"]["n"] == 25
    for f in per.values():
        assert 0.0 <= f["style_accuracy"] <= 1.0 and f["swd"] > 0
    assert set(figures["meter"]["heldout_accuracy"]) == {"alpha", "beta", "all"}


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_an_exported_model_takes_the_style_as_a_second_input(styled, tmp_path, fmt):
    from gan_studio.model_export import export_model

    run = tmp_path / "run"
    list(Trainer.new(styled_config(styled, steps=2), out=run).run())
    gen = load_generator(run)
    out = tmp_path / ("g.onnx" if fmt == "onnx" else "g.pt")
    result = export_model(run, out)
    assert result.card["style_input"]["styles"] == ["alpha", "beta"]
    assert "weights over the styles alpha, beta" in result.card_md.read_text()
    z = gen.noise([3, 4]).cpu().numpy()
    style = np.array([[0.0, 1.0], [0.3, 0.7]], np.float32)
    if fmt == "onnx":
        import onnxruntime

        images = onnxruntime.InferenceSession(str(out)).run(None, {"z": z, "style": style})[0]
    else:
        images = torch.jit.load(str(out))(torch.from_numpy(z), torch.from_numpy(style)).numpy()
    expected = gen.images_from_noise(torch.from_numpy(z), y=torch.from_numpy(style))  # uint8 (N, H, W, C)
    got = np.round(images * 255).astype(np.int64).transpose(0, 2, 3, 1)
    assert np.abs(got - expected.astype(np.int64)).max() <= 1


@pytest.mark.slow
def test_torchrun_trains_a_conditional_model_on_two_processes(styled, tmp_path):
    import os
    import shutil
    from pathlib import Path

    torchrun = shutil.which("torchrun")
    cmd = [torchrun] if torchrun else [sys.executable, "-m", "torch.distributed.run"]
    run = tmp_path / "run"
    result = subprocess.run(
        cmd + ["--standalone", "--nproc_per_node", "2", "-m", "gan_studio", "train", str(styled), "--model", "dcgan",
               "--res", "32", "--width", "8", "--batch", "4", "--steps", "4", "--device", "cpu", "--out", str(run)],
        capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300,
        cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stderr.count("2 styles, one model") == 1  # rank 0 alone tells
    assert json.loads((run / "config.json").read_text())["model"]["styles"] == ["alpha", "beta"]
    assert load_generator(run).images([0, 1], style=np.array([0.5, 0.5])).shape == (2, 32, 32, 3)
