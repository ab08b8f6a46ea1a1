"""The small-grid route (gan_studio.models.small_grid): the same convolutions as torch's, values and gradients."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_studio.models import small_grid
from gan_studio.models.small_grid import Conv2d, ConvTranspose2d, conv2d_gemm, conv_transpose2d_gemm


@pytest.fixture
def policy():
    """Set the route's policy for one test; the default comes back afterwards."""
    before = small_grid._policy
    yield small_grid.set_policy
    small_grid.set_policy(before)


def _close(a: torch.Tensor, b: torch.Tensor) -> None:
    scale = b.abs().max().item() + 1e-6
    assert (a - b).abs().max().item() <= 1e-5 * scale, (a - b).abs().max().item() / scale


# (weight shape, input shape, stride, padding): the layers of DCGAN and FastGAN that meet the base grid
CONV_CASES = [((512, 256, 4, 4), (3, 256, 8, 8), 2, 1),  # onto a 4x4 map
              ((64, 32, 4, 4), (2, 32, 8, 16), 2, 1),  # onto 4x8 (2:1 images)
              ((1, 64, 4, 4), (3, 64, 4, 4), 1, 0),  # D's logit over the whole grid
              ((16, 8, 3, 3), (2, 8, 5, 7), 1, 1)]  # odd sizes, a 3x3 kernel
TRANSPOSED_CASES = [((256, 128, 4, 4), (3, 256, 4, 4), 2, 1),  # out of the 4x4 grid
                    ((100, 64, 4, 4), (3, 100, 1, 1), 1, 0),  # G's first layer: z -> 4x4
                    ((32, 16, 4, 8), (2, 32, 1, 1), 1, 0),  # z -> a 4x8 grid
                    ((8, 4, 4, 4), (2, 8, 3, 5), 2, 1)]


def _check(ref_op, gemm_op, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, stride: int,
           padding: int) -> None:
    """The route's output and its gradients for x, w (and b) against torch's operator, in float64."""
    ref = ref_op(x, w, b, stride, padding)
    out = gemm_op(x, w, b, (stride, stride), (padding, padding))
    assert out.shape == ref.shape
    _close(out, ref)
    g = torch.randn_like(ref)
    inputs = [x, w] + ([b] if b is not None else [])
    for got, want in zip(torch.autograd.grad(out, inputs, g), torch.autograd.grad(ref, inputs, g)):
        _close(got, want)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("w_shape,x_shape,stride,padding", CONV_CASES)
def test_conv2d_gemm_matches_conv2d(w_shape, x_shape, stride, padding, bias):
    torch.manual_seed(0)
    w = torch.randn(w_shape, dtype=torch.float64, requires_grad=True)
    b = torch.randn(w_shape[0], dtype=torch.float64, requires_grad=True) if bias else None
    x = torch.randn(x_shape, dtype=torch.float64).to(memory_format=torch.channels_last).requires_grad_(True)
    _check(F.conv2d, conv2d_gemm, x, w, b, stride, padding)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("w_shape,x_shape,stride,padding", TRANSPOSED_CASES)
def test_conv_transpose2d_gemm_matches(w_shape, x_shape, stride, padding, bias):
    torch.manual_seed(1)
    w = torch.randn(w_shape, dtype=torch.float64, requires_grad=True)
    b = torch.randn(w_shape[1], dtype=torch.float64, requires_grad=True) if bias else None
    x = torch.randn(x_shape, dtype=torch.float64, requires_grad=True)
    _check(F.conv_transpose2d, conv_transpose2d_gemm, x, w, b, stride, padding)


def test_layers_keep_torchs_parameters_and_take_the_route_only_on_small_maps(policy, monkeypatch):
    conv, plain = Conv2d(8, 16, 4, 2, 1, bias=False), nn.Conv2d(8, 16, 4, 2, 1, bias=False)
    assert list(conv.state_dict()) == list(plain.state_dict())  # checkpoints move between the two
    plain.load_state_dict(conv.state_dict())
    calls = []
    real = small_grid.conv2d_gemm
    monkeypatch.setattr(small_grid, "conv2d_gemm", lambda *a: calls.append(a[0].shape) or real(*a))
    policy("on")
    small, large = torch.randn(2, 8, 8, 8), torch.randn(2, 8, 32, 32)  # 4x4 (16) and 16x16 (256) outputs
    _close(conv(small), plain(small))
    _close(conv(large), plain(large))
    assert calls == [small.shape]  # the large map stays with oneDNN
    policy("off")
    conv(small)
    assert len(calls) == 1


def test_auto_policy_takes_the_route_in_bf16_on_any_cpu(policy):
    policy("auto")
    x = torch.randn(2, 8, 4, 4)
    assert not small_grid._route(x, 16)  # float32: not measured better, oneDNN's kernels stay
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert small_grid._route(x, 16)
        assert not small_grid._route(x, 64)  # 8x8 maps and larger stay with oneDNN
    policy("off")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not small_grid._route(x, 16)
    with pytest.raises(ValueError):
        small_grid.set_policy("sometimes")


def test_the_probe_measures_against_the_small_grid_default_in_bf16():
    from gan_studio.config import RunConfig
    from gan_studio.engine import routes

    cfg = RunConfig()
    cfg.model.name = "dcgan"
    bf16 = routes.Route("bfloat16", True, "auto", "off", "default", "")
    assert routes.candidate_grid(cfg, {}, bf16)[2] == ["on", "off"]  # the first is the baseline to beat by 3%
    fp32 = routes.Route("float32", True, "auto", "off", "default", "")
    assert routes.candidate_grid(cfg, {}, fp32)[2] == ["off", "on"]
    assert routes.candidate_grid(cfg, {"small_grid": "off"}, bf16)[2] == ["off"]


def test_spectral_norm_and_transposed_layers_as_modules(policy):
    torch.manual_seed(2)
    policy("on")
    sn = torch.nn.utils.spectral_norm(Conv2d(8, 4, 4, 1, 0))
    ref = nn.Conv2d(8, 4, 4, 1, 0)
    x = torch.randn(3, 8, 4, 4)
    y = sn(x)
    _close(y, F.conv2d(x, sn.weight, sn.bias))  # the normalised weight, as torch's layer would use it
    up, ref = ConvTranspose2d(8, 4, 4, 2, 1), nn.ConvTranspose2d(8, 4, 4, 2, 1)
    ref.load_state_dict(up.state_dict())
    _close(up(x), ref(x))
    _close(up(x, output_size=[8, 8]), ref(x, output_size=[8, 8]))  # output_size: torch's own path


def test_dcgan_and_fastgan_are_unchanged_by_the_route(policy):
    """Whole models, the route on and off, in float32: the same images and logits."""
    from gan_studio.config import ModelConfig
    from gan_studio.models import build_models

    for name in ("dcgan", "fastgan"):
        torch.manual_seed(3)
        G, D = build_models(ModelConfig(name=name, width=8), 3, 32, 32)
        G.eval(), D.eval()
        z = torch.randn(4, G.z_dim)
        outs = []
        for p in ("off", "on"):
            policy(p)
            with torch.no_grad():
                img = G(z)
                outs.append((img, D(img)))
        _close(outs[1][0], outs[0][0])
        _close(outs[1][1], outs[0][1])


def test_bfloat16_autocast_route_matches_onednn(policy):
    """Under CPU autocast the route computes in bfloat16 as oneDNN does: the same result within bf16 rounding."""
    torch.manual_seed(4)
    conv, up = Conv2d(64, 32, 4, 2, 1, bias=False), ConvTranspose2d(64, 32, 4, 2, 1, bias=False)
    x = torch.randn(4, 64, 8, 8).to(memory_format=torch.channels_last)
    results = {}
    for p in ("off", "on"):
        policy(p)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            results[p] = (conv(x), up(x[:, :, :4, :4]))
    for got, want in zip(results["on"], results["off"]):
        assert got.dtype == want.dtype == torch.bfloat16 and got.shape == want.shape
        err = (got.float() - want.float()).abs().max() / want.float().abs().max()
        assert err < 2e-2
