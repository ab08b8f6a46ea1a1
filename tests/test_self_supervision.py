"""FastGAN's discriminator self-supervision: the whole-image decoder, and Liu et al.'s random-quadrant decoder."""

from __future__ import annotations

import pytest
import torch

from gan_studio.config import ModelConfig
from gan_studio.errors import ConfigError
from gan_studio.models.fastgan import FastGANDiscriminator, _quadrant


def test_each_sample_gets_the_quadrant_it_drew():
    x = torch.arange(2 * 4 * 4.0).reshape(2, 1, 4, 4)
    got = _quadrant(x, torch.tensor([1, 2]))
    assert torch.equal(got[0, 0], torch.tensor([[2.0, 3.0], [6.0, 7.0]]))  # sample 0, top right
    assert torch.equal(got[1, 0], torch.tensor([[24.0, 25.0], [28.0, 29.0]]))  # sample 1, bottom left
    wide = torch.arange(1 * 4 * 8.0).reshape(1, 1, 4, 8)  # 2:1: quadrants are 2x4
    assert torch.equal(_quadrant(wide, torch.tensor([3]))[0, 0], torch.tensor([[20.0, 21, 22, 23], [28, 29, 30, 31]]))


@pytest.mark.parametrize("h, w", [(32, 32), (64, 64), (64, 128)])
def test_the_crop_decoder_rebuilds_a_quadrant_and_trains_the_trunk(h, w):
    torch.manual_seed(0)
    whole = FastGANDiscriminator(ModelConfig(name="fastgan"), 3, h, w)
    both = FastGANDiscriminator(ModelConfig(name="fastgan", d_self_supervision="whole+crop"), 3, h, w)
    assert whole.crop_decoder is None and both.crop_decoder is not None
    x = torch.rand(4, 3, h, w) * 2 - 1
    logits, recon = both.reconstruction_loss(x)
    assert logits.shape == (4,) and recon.ndim == 0 and recon > 0
    recon.backward()
    assert both.crop_decoder.net[0][0].weight.grad.abs().sum() > 0  # the crop decoder learns
    assert both.stem[0].weight_orig.grad.abs().sum() > 0  # and its loss reaches D's trunk
    # the crop decoder reads a quadrant of the finer features, as large as the whole decoder's input
    feats = both.features(x)[1]
    q = torch.zeros(4, dtype=torch.long)
    assert _quadrant(feats[both.crop_level], q).shape[-2:] == feats[both.recon_level].shape[-2:]


def test_an_unknown_self_supervision_is_refused():
    with pytest.raises(ConfigError, match="whole\\+crop"):
        ModelConfig(name="fastgan", d_self_supervision="crop-only").validate()
