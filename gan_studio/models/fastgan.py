"""A light, data-efficient GAN after FastGAN (Liu et al., "Towards Faster and Stabilized GAN Training for
High-fidelity Few-shot Image Synthesis", 2021), sized for a laptop CPU at 32 to 256 pixels and wide aspects.

G: z -> the base grid (4x4, or 4x8 for 2:1) by a transposed convolution with a gated linear unit (FastGAN's
input layer), then DCGAN's strided transposed convolutions, batch norm and ReLU, doubling the size each time;
skip-layer excitation (SLE) lets a coarse map gate the channels of one three doublings finer (4x4 -> 32x32,
8x8 -> 64x64, ...): a cheap global path from the layout to the texture. The last doubling is a nearest
upsample and a 3x3 convolution to the image, with tanh.
D: spectral norm on every convolution; a strided 4x4 convolution, then down blocks (a strided 4x4 convolution
beside an average-pooled 1x1 shortcut) to the base grid, and a convolution over it gives one logit. A small
decoder reconstructs a 32-pixel version of each real image from D's 8x8 features (FastGAN's self-supervision,
with a pixel loss: no pretrained network), so D must keep a description of the whole picture rather than only
the few details that tell these training images apart, which is what overfits first on a small set.
Trained with the hinge loss (``gan_studio.models.LOSSES``). Channel widths follow DCGAN's (``width`` at the
top, up to 8x below); FastGAN's upsample + 3x3 convolution + GLU blocks cost about 3x as much on a CPU.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from gan_studio.config import ModelConfig
from gan_studio.models.conditional import Projection, n_styles_of, norm2d, sequential
from gan_studio.models.layers import channels_at, grid_for, init_dcgan_weights, up_block
from gan_studio.models.small_grid import Conv2d, ConvTranspose2d

SLE_SPAN = 3  # doublings between the map that excites and the map excited (FastGAN: 4x4 -> 64x64 at 256 px)


class SLE(nn.Module):
    """Skip-layer excitation: a per-channel gate in (0, 1) for the fine map, computed from the coarse map."""

    def __init__(self, c_small: int, c_big: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.AdaptiveAvgPool2d(4), Conv2d(c_small, c_big, 4, 1, 0, bias=False),
                                 nn.SiLU(), Conv2d(c_big, c_big, 1, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, small: torch.Tensor, big: torch.Tensor) -> torch.Tensor:
        return big * self.net(small)  # (N, c_big, 1, 1) gate


class FastGANGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig, channels: int, height: int, width: int) -> None:
        super().__init__()
        self.z_dim, self.noise = cfg.z_dim, cfg.noise
        self.n_styles = s = n_styles_of(cfg.styles)  # with styles, every batch norm of G is the style's
        (bh, bw), n = grid_for("fastgan", height, width)
        ch = lambda level: channels_at(cfg.width, level, n)  # noqa: E731
        # (N, z, 1, 1) -> (N, ch(0), bh, bw), gated (GLU) as in FastGAN's input layer
        self.init = sequential(s, ConvTranspose2d(cfg.z_dim, 2 * ch(0), (bh, bw), 1, 0, bias=False),
                               norm2d(2 * ch(0), s), nn.GLU(dim=1))
        noise_hw = lambda level: (bh << level, bw << level) if cfg.g_noise else None  # noqa: E731
        self.ups = nn.ModuleList(up_block(ch(i), ch(i + 1), s, noise_hw(i + 1)) for i in range(n - 1))  # i -> i + 1
        # level i excites level i + SLE_SPAN: the layout of the coarse map gates the channels of the fine one
        self.sle = nn.ModuleDict({str(i + SLE_SPAN): SLE(ch(i), ch(i + SLE_SPAN)) for i in range(n - SLE_SPAN)})
        # The last doubling gives the image: nearest upsampling and a 3x3 convolution, not a strided transposed
        # one, whose uneven overlaps print a checkerboard on every sample (cheap here: 3 output channels).
        self.to_rgb = nn.Sequential(nn.Upsample(scale_factor=2.0, mode="nearest"),
                                    Conv2d(ch(n - 1), channels, 3, 1, 1))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        style = (y,) if self.n_styles else ()  # conditional blocks take the style input, plain ones do not
        x = self.init(z.view(z.shape[0], -1, 1, 1), *style)
        feats = [x]
        for i, up in enumerate(self.ups, 1):  # (N, ch(i-1), h, w) -> (N, ch(i), 2h, 2w)
            x = up(x, *style)
            if str(i) in self.sle:
                x = self.sle[str(i)](feats[i - SLE_SPAN], x)
            feats.append(x)
        return torch.tanh(self.to_rgb(x))  # (N, C, H, W) in [-1, 1]


def _sn_conv(c_in: int, c_out: int, k: int | tuple[int, int], s: int, p: int, bias: bool = False) -> nn.Module:
    return spectral_norm(Conv2d(c_in, c_out, k, s, p, bias=bias))


class DownBlock(nn.Module):
    """(N, c_in, h, w) -> (N, c_out, h/2, w/2): a strided 4x4 convolution beside an average-pooled 1x1 shortcut
    (FastGAN's DownBlockComp without its extra 3x3 convolution)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.main = nn.Sequential(_sn_conv(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2, True))
        self.skip = nn.Sequential(nn.AvgPool2d(2), _sn_conv(c_in, c_out, 1, 1, 0), nn.BatchNorm2d(c_out),
                                  nn.LeakyReLU(0.2, True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.main(x) + self.skip(x)) * 0.5


class Decoder(nn.Module):
    """D's self-supervision: (N, c, 8, 8a) features -> (N, C, 32, 32a), a small image of what D saw."""

    def __init__(self, c_in: int, channels: int, width: int) -> None:
        super().__init__()
        c1, c2 = width, max(8, width // 2)
        self.net = nn.Sequential(up_block(c_in, c1), up_block(c1, c2), Conv2d(c2, channels, 3, 1, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class FastGANDiscriminator(nn.Module):
    def __init__(self, cfg: ModelConfig, channels: int, height: int, width: int) -> None:
        super().__init__()
        (bh, bw), n = grid_for("fastgan", height, width)
        ch = lambda level: channels_at(cfg.width, level, n)  # noqa: E731 - D mirrors G's widths
        # (N, C, H, W) -> (N, ch(n-1), H/2, W/2): no normalisation on the input layer
        self.stem = nn.Sequential(_sn_conv(channels, ch(n - 1), 4, 2, 1), nn.LeakyReLU(0.2, True))
        self.downs = nn.ModuleList(DownBlock(ch(level + 1), ch(level)) for level in range(n - 2, -1, -1))
        self.head = _sn_conv(ch(0), 1, (bh, bw), 1, 0, bias=True)  # (N, 1, 1, 1): the logit
        self.n_styles = n_styles_of(cfg.styles)  # with styles, a projection term (spectral-normed as the rest)
        self.projection = Projection(ch(0), self.n_styles, spectral=True) if self.n_styles else None
        self.recon_level = 1  # the decoder reads the 8x8 features, one doubling above the 4x4 base grid
        self.decoder = Decoder(ch(self.recon_level), channels, cfg.width)
        # Liu et al.'s second decoder: a random quadrant of the 16x16 features (8x8, as the whole decoder's input)
        # rebuilds that quadrant of the image at 32 px, so D keeps texture as well as layout
        self.crop_level = 2
        self.crop_decoder = (Decoder(ch(self.crop_level), channels, cfg.width)
                             if cfg.d_self_supervision == "whole+crop" and n >= self.crop_level else None)

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """(logits (N,), the features at the levels the decoders read, by level)."""
        x = self.stem(x)
        level, kept = len(self.downs), {}  # x's level, in doublings above the base grid
        for down in self.downs:
            if level in (self.recon_level, self.crop_level):
                kept[level] = x
            x = down(x)
            level -= 1
        if self.projection is None:
            return self.head(x).view(-1), kept
        return self.head(x).view(-1).float() + self.projection(x, y), kept

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.features(x, y)[0]  # (N,)

    def reconstruction_loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits (N,), the reconstruction error of x: the whole image's (squared error alone; absolute error
        with the crop decoder) plus, with it, a random quadrant's, each sample its own quadrant)."""
        logits, feats = self.features(x, y)
        rec = self.decoder(feats[self.recon_level]).float()
        target = F.adaptive_avg_pool2d(x.float(), rec.shape[-2:])
        if self.crop_decoder is None:
            return logits, F.mse_loss(rec, target)
        q = torch.randint(0, 4, (len(x),), device=x.device)  # on the device: no host sync, no graph break
        rec_crop = self.crop_decoder(_quadrant(feats[self.crop_level], q)).float()
        target_crop = F.adaptive_avg_pool2d(_quadrant(x.float(), q), rec_crop.shape[-2:])
        return logits, F.l1_loss(rec, target) + F.l1_loss(rec_crop, target_crop)


def _quadrant(x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, H/2, W/2): sample i's quadrant q[i] (0 top left, 1 top right, 2 bottom left, 3 bottom
    right), gathered on the device."""
    n, c, h, w = x.shape
    quads = x.reshape(n, c, 2, h // 2, 2, w // 2).permute(0, 2, 4, 1, 3, 5).reshape(n, 4, c, h // 2, w // 2)
    return quads[torch.arange(n, device=x.device), q]


def build_fastgan(cfg: ModelConfig, channels: int, height: int, width: int) -> tuple[nn.Module, nn.Module]:
    g, d = FastGANGenerator(cfg, channels, height, width), FastGANDiscriminator(cfg, channels, height, width)
    init_dcgan_weights(g)  # N(0, 0.02) as DCGAN
    init_dcgan_weights(d)
    return g, d
