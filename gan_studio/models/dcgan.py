"""DCGAN of Radford, Metz and Chintala (2016), for square and wide images.

G: a transposed convolution from z to a small base grid (4x4, or 4x8 for 2:1), then stride-2 transposed
convolutions doubling the size, batch norm and ReLU, tanh at the output. D mirrors it with stride-2
convolutions and LeakyReLU(0.2), batch norm everywhere but the first layer, and a final convolution over the
whole base grid that gives one logit. Weights N(0, 0.02), batch-norm scales N(1, 0.02), as in the paper.
With styles (``ModelConfig.styles``), G's batch norms are conditional and D adds a projection term
(``gan_studio.models.conditional``): ``G(z, y)``, ``D(x, y)``.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_studio.config import ModelConfig
from gan_studio.models.conditional import Projection, n_styles_of, norm2d, sequential
from gan_studio.models.layers import NoiseInjection, channels_at, grid_for, init_dcgan_weights
from gan_studio.models.small_grid import Conv2d, ConvTranspose2d


class DCGANGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig, channels: int, height: int, width: int) -> None:
        super().__init__()
        self.z_dim, self.noise = cfg.z_dim, cfg.noise
        self.n_styles = s = n_styles_of(cfg.styles)
        (bh, bw), n = grid_for("dcgan", height, width)
        c = channels_at(cfg.width, 0, n)
        layers: list[nn.Module] = [  # (N, z, 1, 1) -> (N, c, bh, bw)
            ConvTranspose2d(cfg.z_dim, c, (bh, bw), 1, 0, bias=False), norm2d(c, s), nn.ReLU(True)]
        for level in range(1, n):  # each block doubles H and W: (N, c, h, w) -> (N, c', 2h, 2w)
            c_next = channels_at(cfg.width, level, n)
            noise = [NoiseInjection(c_next, bh << level, bw << level)] if cfg.g_noise else []
            layers += [ConvTranspose2d(c, c_next, 4, 2, 1, bias=False), *noise, norm2d(c_next, s), nn.ReLU(True)]
            c = c_next
        layers += [ConvTranspose2d(c, channels, 4, 2, 1, bias=False), nn.Tanh()]  # (N, C, H, W) in [-1, 1]
        self.net = sequential(s, *layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = z.view(z.shape[0], -1, 1, 1)
        return self.net(z, y) if self.n_styles else self.net(z)


class DCGANDiscriminator(nn.Module):
    def __init__(self, cfg: ModelConfig, channels: int, height: int, width: int) -> None:
        super().__init__()
        (bh, bw), n = grid_for("dcgan", height, width)
        c = channels_at(cfg.width, n - 1, n)
        layers: list[nn.Module] = [  # (N, C, H, W) -> (N, c, H/2, W/2); no batch norm on the input layer
            Conv2d(channels, c, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        for level in range(n - 2, -1, -1):  # each block halves H and W
            c_next = channels_at(cfg.width, level, n)
            layers += [Conv2d(c, c_next, 4, 2, 1, bias=False), nn.BatchNorm2d(c_next),
                       nn.LeakyReLU(0.2, inplace=True)]
            c = c_next
        layers.append(Conv2d(c, 1, (bh, bw), 1, 0, bias=False))  # (N, 1, 1, 1): the logit
        self.net = nn.Sequential(*layers)
        self.n_styles = n_styles_of(cfg.styles)
        self.projection = Projection(c, self.n_styles) if self.n_styles else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.projection is None:
            return self.net(x).view(-1)  # (N,)
        *trunk, head = self.net
        for layer in trunk:
            x = layer(x)  # (N, c, bh, bw) at the end
        return head(x).view(-1).float() + self.projection(x, y)  # (N,)


def build_dcgan(cfg: ModelConfig, channels: int, height: int, width: int) -> tuple[nn.Module, nn.Module]:
    g, d = DCGANGenerator(cfg, channels, height, width), DCGANDiscriminator(cfg, channels, height, width)
    init_dcgan_weights(g)
    init_dcgan_weights(d)
    return g, d
