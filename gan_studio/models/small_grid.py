"""Convolutions on small grids (4x4 maps and the like) as one matrix product each, where oneDNN is slow at them.

oneDNN's bfloat16 kernels handle the large maps of a GAN well but the layers that meet the base grid poorly:
measured on a 2-core Xeon with AMX (forward + backward, batch 64, bf16, channels-last), DCGAN's 256 -> 512
convolution onto a 4x4 map takes 38 ms, 2.7x the same arithmetic on a 16x16 map, mostly in its weight gradient;
the transposed convolution out of the 4x4 grid is the same. Written as patches times weights (im2col), each of
these is a single large GEMM, which runs near the matrix unit's peak: 13-15 ms there. On a 2-core Zen 5 (no AMX)
the same two layers take 24 -> 17 ms; its 8x8 maps are a draw (17 vs 18 ms) and 16x16 maps lose (18 vs 28 ms).
So only layers whose small map (a convolution's output, a transposed convolution's input) has at most
``SMALL_GRID`` positions take this route.

``Conv2d`` and ``ConvTranspose2d`` are drop-in subclasses of torch's, with the same parameters and state-dict keys
(checkpoints move freely between machines that take the route and machines that don't). The route is taken on
the CPU only, when the layer computes in bfloat16 (``policy 'auto'``): whole training steps, route on against off,
were faster with it on every CPU measured (Zen 5: DCGAN 32/64 +4%/+13%, FastGAN 64/128 +11%/+3%; Zen 4 +6-12%;
AMX Xeons, where it began). A run long enough to probe its route measures it against the other choice
(``engine/routes.py``). ``set_policy('on')`` forces it (tests, benchmarks, float32 too), ``'off'`` or
``GAN_STUDIO_SMALL_GRID=off`` disables it.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

# Most map positions (h * w) for which the matrix-product route is taken. Measured (the layers above, fwd + bwd):
# 4x4 38 -> 14 ms, 4x8 (2:1 images) 44 -> 35 ms, but 8x8 14 -> 17 ms; G's first layer (1x1 -> 4x4) 9.4 -> 1.9 ms.
SMALL_GRID = 32
_policy = os.environ.get("GAN_STUDIO_SMALL_GRID", "auto")


def set_policy(policy: str) -> None:
    """'auto' (bfloat16 on the CPU), 'on' (always on the CPU, any dtype) or 'off'."""
    global _policy
    if policy not in ("auto", "on", "off"):
        raise ValueError(f"small-grid policy must be auto, on or off, not {policy!r}")
    _policy = policy


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else x.dtype


def _route(x: torch.Tensor, positions: int) -> bool:
    if _policy == "off" or x.device.type != "cpu" or positions > SMALL_GRID:
        return False
    return _policy == "on" or _compute_dtype(x) == torch.bfloat16


# ------------------------------------------------------------------------------- patches and their adjoint
def _extract(xp: torch.Tensor, k: tuple[int, int], s: tuple[int, int], out: tuple[int, int]) -> torch.Tensor:
    """Padded NHWC (N, Hp, Wp, C) -> the k x k patches at stride s: (N, ho, wo, kh, kw, C), contiguous."""
    (kh, kw), (sh, sw), (ho, wo) = k, s, out
    xp = xp.contiguous()
    n_, h_, w_, c_ = xp.stride()
    view = xp.as_strided((xp.shape[0], ho, wo, kh, kw, xp.shape[3]), (n_, sh * h_, sw * w_, h_, w_, c_))
    return view.contiguous()  # one copy


def _scatter(cols: torch.Tensor, s: tuple[int, int], size: tuple[int, int]) -> torch.Tensor:
    """The adjoint of ``_extract``: each patch added back where it came from, (N, Hp, Wp, C)."""
    n, ho, wo, kh, kw, c = cols.shape
    (sh, sw), (hp, wp) = s, size
    out = cols.new_zeros(n, hp, wp, c)
    for i in range(kh):
        for j in range(kw):
            out[:, i:i + sh * ho:sh, j:j + sw * wo:sw, :] += cols[:, :, :, i, j, :]
    return out


class _Patches(torch.autograd.Function):
    """im2col with a hand-written backward: autograd's own for strided views (unfold_backward) is slow here."""

    @staticmethod
    def forward(ctx, xp, k, s, out):  # noqa: D102
        ctx.s, ctx.size = s, xp.shape[1:3]
        return _extract(xp, k, s, out)

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        return _scatter(grad, ctx.s, ctx.size), None, None, None


class _Overlap(torch.autograd.Function):
    """col2im (the adjoint of ``_Patches``): overlapping patches summed into a map."""

    @staticmethod
    def forward(ctx, cols, s, size):  # noqa: D102
        ctx.k, ctx.s, ctx.out = cols.shape[3:5], s, cols.shape[1:3]
        return _scatter(cols, s, size)

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        return _extract(grad.contiguous(), ctx.k, ctx.s, ctx.out), None, None


# --------------------------------------------------------------------------------------------- the layers
def _pair(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _plain(m: nn.Conv2d | nn.ConvTranspose2d) -> bool:
    """Only the common case takes the route: no groups, no dilation, zero padding given as numbers."""
    return bool(m.groups == 1 and _pair(m.dilation) == (1, 1) and m.padding_mode == "zeros"
                and not isinstance(m.padding, str))


def conv2d_gemm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                stride: tuple[int, int], padding: tuple[int, int]) -> torch.Tensor:
    """F.conv2d(x, weight, bias, stride, padding) as patches @ weights: (N, C, H, W) -> (N, O, ho, wo), in the
    channels-last memory format."""
    n, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    (sh, sw), (ph, pw) = stride, padding
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    dt = _compute_dtype(x)
    xp = F.pad(x.to(dt).permute(0, 2, 3, 1), (0, 0, pw, pw, ph, ph))  # (N, H + 2ph, W + 2pw, C)
    cols = _Patches.apply(xp, (kh, kw), (sh, sw), (ho, wo)).view(n * ho * wo, kh * kw * c)
    y = torch.mm(cols, weight.to(dt).permute(0, 2, 3, 1).reshape(o, kh * kw * c).t())  # (N * ho * wo, O)
    if bias is not None:
        y = y + bias.to(dt)
    return y.view(n, ho, wo, o).permute(0, 3, 1, 2)


def conv_transpose2d_gemm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                          stride: tuple[int, int], padding: tuple[int, int]) -> torch.Tensor:
    """F.conv_transpose2d(x, weight, bias, stride, padding) as weights times each input position, the patches
    then summed where they overlap: (N, C, h, w) -> (N, O, H, W), channels-last."""
    n, c, h, w = x.shape
    _, o, kh, kw = weight.shape
    (sh, sw), (ph, pw) = stride, padding
    hp, wp = (h - 1) * sh + kh, (w - 1) * sw + kw  # the output before the padding is cut off
    dt = _compute_dtype(x)
    xm = x.to(dt).permute(0, 2, 3, 1).reshape(n * h * w, c)
    cols = torch.mm(xm, weight.to(dt).permute(0, 2, 3, 1).reshape(c, kh * kw * o))  # (N * h * w, kh * kw * O)
    y = _Overlap.apply(cols.view(n, h, w, kh, kw, o), (sh, sw), (hp, wp))[:, ph:hp - ph, pw:wp - pw, :]
    if bias is not None:
        y = y + bias.to(dt)
    return y.permute(0, 3, 1, 2)


class Conv2d(nn.Conv2d):
    """nn.Conv2d that computes small output maps as one matrix product (see the module docstring)."""

    def _conv_forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if x.dim() == 4 and _plain(self):
            (ph, pw), (sh, sw), (kh, kw) = _pair(self.padding), _pair(self.stride), _pair(self.kernel_size)
            ho = (x.shape[2] + 2 * ph - kh) // sh + 1
            wo = (x.shape[3] + 2 * pw - kw) // sw + 1
            if _route(x, ho * wo):
                return conv2d_gemm(x, weight, bias, (sh, sw), (ph, pw))
        return super()._conv_forward(x, weight, bias)


class ConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d that computes layers out of small input maps as one matrix product."""

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        if (output_size is None and x.dim() == 4 and _plain(self) and _pair(self.output_padding) == (0, 0)
                and _route(x, x.shape[2] * x.shape[3])):
            return conv_transpose2d_gemm(x, self.weight, self.bias, _pair(self.stride), _pair(self.padding))
        return super().forward(x, output_size)
