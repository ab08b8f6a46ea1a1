"""The data-efficient model: shapes, skip-layer excitation, the self-supervised discriminator, its hinge loss, and
the default-model choice."""

from __future__ import annotations

import pytest
import torch

from gan_studio.config import ModelConfig, RunConfig
from gan_studio.engine import Trainer
from gan_studio.engine.losses import LOSSES, d_hinge_loss, g_hinge_loss
from gan_studio.errors import ConfigError
from gan_studio.families import FAMILIES
from gan_studio.models import BUILDERS, build_models, count_parameters
from gan_studio.models.fastgan import SLE, FastGANDiscriminator


@pytest.mark.parametrize("h,w", [(32, 32), (64, 64), (128, 128), (64, 128), (64, 96)])
@pytest.mark.parametrize("channels", [1, 3])
def test_fastgan_shapes(h, w, channels):
    g, d = build_models(ModelConfig(name="fastgan", width=8), channels, h, w)
    x = g(torch.randn(3, 100))
    assert x.shape == (3, channels, h, w) and x.min() >= -1 and x.max() <= 1
    assert d(x).shape == (3,)
    logits, rec = d.reconstruction_loss(x)
    assert logits.shape == (3,) and rec.ndim == 0 and rec >= 0


def test_fastgan_256_builds_and_stays_small():
    g, d = build_models(ModelConfig(name="fastgan"), 3, 256, 256)
    assert g(torch.randn(1, 100)).shape == (1, 3, 256, 256)
    dcgan_g, dcgan_d = build_models(ModelConfig(name="dcgan"), 3, 256, 256)
    # DCGAN's widths plus the excitation gates and D's decoder: under twice the classic model's size
    assert count_parameters(g) < 2 * count_parameters(dcgan_g) and count_parameters(d) < 2 * count_parameters(dcgan_d)


def test_skip_layer_excitation_gates_channels_from_the_coarse_map():
    g, _ = build_models(ModelConfig(name="fastgan", width=8), 3, 128, 128)
    assert sorted(int(k) for k in g.sle) == [3, 4]  # 4x4 -> 32x32 and 8x8 -> 64x64
    sle = SLE(4, 6)
    big = torch.ones(2, 6, 16, 16)
    gated = sle(torch.randn(2, 4, 8, 8), big)
    assert gated.shape == big.shape and (gated > 0).all() and (gated < 1).all()
    assert torch.allclose(gated[..., 0, 0], gated[..., 5, 7])  # one gate per channel


def test_discriminator_is_spectrally_normalised_and_self_supervised():
    d = FastGANDiscriminator(ModelConfig(name="fastgan", width=8), 3, 64, 64)
    names = [n for n, _ in d.named_parameters()]
    assert any(n.endswith("weight_orig") for n in names)
    x = torch.rand(4, 3, 64, 64) * 2 - 1
    _, loss = d.reconstruction_loss(x)
    loss.backward()
    assert all(p.grad is not None for p in d.decoder.parameters())  # the decoder learns from real images


def test_fastgan_rejects_too_small_images():
    with pytest.raises(ConfigError, match="32"):
        build_models(ModelConfig(name="fastgan"), 3, 16, 16)


def test_hinge_loss():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-3.0, 0.0])
    assert d_hinge_loss(real, fake).item() == pytest.approx((0 + 0.5) / 2 + (0 + 1) / 2)
    assert g_hinge_loss(fake).item() == pytest.approx(1.5)
    assert LOSSES["hinge"] == (d_hinge_loss, g_hinge_loss)


def test_each_family_declares_its_loss_and_the_classics_keep_the_papers():
    assert set(FAMILIES) == set(BUILDERS)
    assert FAMILIES["mlp"].loss == FAMILIES["dcgan"].loss == "gan" and FAMILIES["fastgan"].loss == "hinge"


def test_fastgan_trains_with_the_hinge_loss_and_reconstruction(landscapes32, tmp_path):
    cfg = RunConfig()
    cfg.data.source, cfg.data.res = str(landscapes32), 32
    cfg.model.name, cfg.model.width = "fastgan", 8
    cfg.train.batch, cfg.train.steps = 8, 2
    trainer = Trainer.new(cfg, out=tmp_path / "run")
    assert trainer.d_loss is d_hinge_loss and trainer.augment_on  # 24 images: augmentation is on
    d0 = [p.detach().clone() for p in trainer.D.decoder.parameters()]
    stats = trainer.train_step()
    assert torch.isfinite(stats).all()
    assert any(not torch.equal(a, b) for a, b in zip(d0, trainer.D.decoder.parameters()))
