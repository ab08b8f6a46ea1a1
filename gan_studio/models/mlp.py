"""The multilayer-perceptron GAN of Goodfellow et al., "Generative Adversarial Nets" (2014).

G: noise enters only at the bottom layer; ReLU hidden layers; a sigmoid (or tanh) output.
D: maxout hidden layers with dropout; one output unit whose sigmoid is D(x).
Initialisation follows the paper's public code (pylearn2): uniform weights in [-0.05, 0.05] (D's range is
``d_init_range``: mnist.yaml's D uses 0.005), zero biases, and where ``g_bias_from_data`` G's sigmoid output bias
at the logit of the training images' mean pixels (``init_sigmoid_bias_from_marginals``, ``init_output_bias``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from gan_studio.config import ModelConfig
from gan_studio.models.conditional import n_styles_of, style_input


class Maxout(nn.Module):
    """``units`` maxout units, each the max over ``pieces`` linear pieces (Goodfellow et al. 2013)."""

    def __init__(self, in_features: int, units: int, pieces: int) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x)  # (N, units * pieces)
        return y.view(x.shape[0], self.units, self.pieces).amax(dim=2)  # (N, units)


class MLPGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig, channels: int, height: int, width: int) -> None:
        super().__init__()
        self.z_dim, self.noise = cfg.z_dim, cfg.noise
        self.shape = (channels, height, width)
        self.output = cfg.g_output
        self.n_styles = n_styles_of(cfg.styles)  # with styles, the style input joins the noise (Mirza & Osindero)
        layers: list[nn.Module] = []
        size = cfg.z_dim + self.n_styles
        for hidden in cfg.g_hidden:  # (N, size) -> (N, hidden)
            layers += [nn.Linear(size, hidden), nn.ReLU(inplace=True)]
            size = hidden
        layers.append(nn.Linear(size, channels * height * width))  # (N, C*H*W)
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        if self.n_styles:
            z = torch.cat([z, style_input(style, self.n_styles, z.shape[0], z).to(z.dtype)], 1)
        y = self.net(z)
        # The paper's sigmoid models pixels in [0, 1]; 2*sigmoid - 1 is the same model on data scaled to [-1, 1].
        y = torch.sigmoid(y) * 2.0 - 1.0 if self.output == "sigmoid" else torch.tanh(y)
        return y.view(z.shape[0], *self.shape)  # (N, C, H, W)

    @torch.no_grad()
    def init_output_bias(self, images: np.ndarray) -> None:
        """Start the sigmoid output at the mean of each pixel over uint8 ``images`` (N, C, H, W): sigmoid(bias)
        = mean pixel, clipped to [1e-3, 1 - 1e-3] as pylearn2 does, so G begins at the data's average image."""
        p = np.clip(images.reshape(len(images), -1).mean(0) / 255.0, 1e-3, 1 - 1e-3)
        last = self.net[-1]
        assert isinstance(last, nn.Linear) and last.out_features == p.size, "one output per pixel"
        last.bias.copy_(torch.from_numpy(np.log(p / (1 - p))).to(last.bias))


class MLPDiscriminator(nn.Module):
    def __init__(self, cfg: ModelConfig, channels: int, height: int, width: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten(), nn.Dropout(cfg.d_dropout_input)]  # (N, C*H*W)
        self.n_styles = n_styles_of(cfg.styles)  # with styles, the style input joins the (dropped-out) pixels
        size = channels * height * width + self.n_styles
        for units in cfg.d_hidden:  # (N, size) -> (N, units)
            layers += [Maxout(size, units, cfg.d_pieces), nn.Dropout(cfg.d_dropout_hidden)]
            size = units
        layers.append(nn.Linear(size, 1))  # (N, 1): the logit of D(x)
        self.net = nn.Sequential(*layers)
        self.max_col_norm = cfg.d_max_col_norm
        self.unit_input = cfg.d_input == "unit"

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.unit_input:  # pixels in [0, 1]: input dropout then zeroes a pixel to black, not to mid-grey
            x = x * 0.5 + 0.5
        if not self.n_styles:
            return self.net(x).view(-1)  # (N,)
        flat, dropout, *rest = self.net
        h = dropout(flat(x))
        h = torch.cat([h, style_input(y, self.n_styles, h.shape[0], h).to(h.dtype)], 1)
        for layer in rest:
            h = layer(h)
        return h.view(-1)

    @torch.no_grad()
    def apply_constraints(self) -> None:
        """Cap the norm of each unit's incoming weights, as the paper's code does after every update."""
        if self.max_col_norm is None:
            return
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.weight.renorm_(2, 0, self.max_col_norm)  # each row of (out, in) is one unit's weights


def _init_uniform(module: nn.Module, irange: float = 0.05) -> None:
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.uniform_(m.weight, -irange, irange)
            nn.init.zeros_(m.bias)


def build_mlp(cfg: ModelConfig, channels: int, height: int, width: int) -> tuple[nn.Module, nn.Module]:
    g, d = MLPGenerator(cfg, channels, height, width), MLPDiscriminator(cfg, channels, height, width)
    _init_uniform(g)
    _init_uniform(d, cfg.d_init_range)
    return g, d
