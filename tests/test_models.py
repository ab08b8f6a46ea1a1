"""Model shapes, initialisation and the paper's building blocks."""

from __future__ import annotations

import pytest
import torch

from gan_studio.config import ModelConfig
from gan_studio.errors import ConfigError
from gan_studio.models import BUILDERS, build_models, count_parameters, sample_noise
from gan_studio.models.layers import grid_for
from gan_studio.models.mlp import Maxout


@pytest.mark.parametrize("h,w", [(32, 32), (64, 64), (128, 128), (64, 128), (64, 96), (32, 64)])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes(h, w, channels):
    g, d = build_models(ModelConfig(name="dcgan", width=8), channels, h, w)
    x = g(torch.randn(3, 100))
    assert x.shape == (3, channels, h, w)
    assert x.min() >= -1 and x.max() <= 1
    assert d(x).shape == (3,)


def test_dcgan_64_matches_the_reference_architecture_size():
    # The PyTorch DCGAN example at 64x64 with ngf = ndf = 64: 3,576,704 and 2,765,568 parameters.
    g, d = build_models(ModelConfig(name="dcgan"), 3, 64, 64)
    assert count_parameters(g) == 3_576_704
    assert count_parameters(d) == 2_765_568


def test_dcgan_width_is_configurable():
    small, _ = build_models(ModelConfig(name="dcgan", width=16), 3, 64, 64)
    big, _ = build_models(ModelConfig(name="dcgan", width=32), 3, 64, 64)
    assert count_parameters(big) > 2.5 * count_parameters(small)


def test_dcgan_init_follows_the_paper():
    g, d = build_models(ModelConfig(name="dcgan"), 3, 64, 64)
    conv = [m.weight for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)][1]
    assert abs(conv.std().item() - 0.02) < 0.002
    bn = [m.weight for m in d.modules() if isinstance(m, torch.nn.BatchNorm2d)][0]
    assert abs(bn.mean().item() - 1.0) < 0.01


@pytest.mark.parametrize("h,w", [(48, 48), (8, 8), (64, 72)])
def test_dcgan_rejects_sizes_it_cannot_build(h, w):
    with pytest.raises(ConfigError):
        grid_for("dcgan", h, w)


def test_mlp_shapes_and_output_range():
    cfg = ModelConfig(name="mlp", g_hidden=[64, 64], d_hidden=[32, 32])
    g, d = build_models(cfg, 1, 28, 28)
    x = g(sample_noise(5, cfg.z_dim, "uniform"))
    assert x.shape == (5, 1, 28, 28)
    assert -1 <= x.min() and x.max() <= 1
    assert d(x).shape == (5,)
    # noise enters only at the bottom layer: G's first layer takes exactly z
    assert g.net[0].in_features == cfg.z_dim


def test_mlp_discriminator_is_maxout_with_dropout():
    cfg = ModelConfig(name="mlp")
    _, d = build_models(cfg, 1, 28, 28)
    maxouts = [m for m in d.modules() if isinstance(m, Maxout)]
    dropouts = [m.p for m in d.modules() if isinstance(m, torch.nn.Dropout)]
    assert [(m.units, m.pieces) for m in maxouts] == [(240, 5), (240, 5)]
    assert dropouts == [0.2, 0.5, 0.5]


def test_maxout_takes_the_max_over_pieces():
    m = Maxout(2, units=1, pieces=3)
    with torch.no_grad():
        m.linear.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        m.linear.bias.zero_()
    out = m(torch.tensor([[2.0, 5.0], [-3.0, -4.0]]))
    assert out.view(-1).tolist() == [5.0, 7.0]


def test_uniform_noise_has_unit_variance_on_the_papers_interval():
    z = sample_noise(20000, 10, "uniform", torch.Generator().manual_seed(0))
    assert z.abs().max() <= 3 ** 0.5 + 1e-6
    assert abs(z.var().item() - 1.0) < 0.03


def test_registry_lists_both_families():
    assert {"mlp", "dcgan", "fastgan"} <= set(BUILDERS)
    with pytest.raises(ConfigError):
        build_models(ModelConfig(name="nope"), 3, 32, 32)
