"""Zero-initialised noise injection in the generators (ModelConfig.g_noise)."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from torch import nn

from gan_studio.config import ModelConfig
from gan_studio.models import BUILDERS
from gan_studio.models.layers import NoiseInjection

# G's state-dict keys at 32 px as older runs saved them (before g_noise): their checkpoints must still load
OLD_KEYS = {
    "fastgan": ["init.0.weight", *(f"init.1.{k}" for k in ("weight", "bias", "running_mean", "running_var",
                                                            "num_batches_tracked")),
                *(f"ups.{i}.{k}" for i in range(2) for k in ("0.weight", "1.weight", "1.bias", "1.running_mean",
                                                             "1.running_var", "1.num_batches_tracked")),
                "to_rgb.1.weight", "to_rgb.1.bias"],
    # (transposed convolution, batch norm, ReLU) x 3, then the output convolution
    "dcgan": [*(k for i in (0, 3, 6) for k in (f"net.{i}.weight", *(f"net.{i + 1}.{b}" for b in (
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked")))), "net.9.weight"],
}


def build(name: str = "fastgan", res: int = 32, seed: int = 0, **kw) -> nn.Module:
    torch.manual_seed(seed)
    cfg = ModelConfig(name=name, width=8, z_dim=16, **kw)
    return BUILDERS[name](cfg, 3, res, res)[0]


def noise_layers(g: nn.Module) -> list[NoiseInjection]:
    return [m for m in g.modules() if isinstance(m, NoiseInjection)]


def set_noise_weights(g: nn.Module, value: float) -> None:
    for m in noise_layers(g):
        m.weight.data.fill_(value)


@pytest.mark.parametrize("name", ["fastgan", "dcgan"])
def test_off_keeps_the_state_dict_of_older_runs(name):
    assert list(build(name).state_dict()) == OLD_KEYS[name]
    assert list(build(name, g_noise=False).state_dict()) == OLD_KEYS[name]
    assert not noise_layers(build(name))


@pytest.mark.parametrize("name", ["fastgan", "dcgan"])
def test_discriminators_never_take_noise(name):
    torch.manual_seed(0)
    d_plain = BUILDERS[name](ModelConfig(name=name, width=8, z_dim=16), 3, 64, 64)[1]
    d_noisy = BUILDERS[name](ModelConfig(name=name, width=8, z_dim=16, g_noise=True), 3, 64, 64)[1]
    assert list(d_plain.state_dict()) == list(d_noisy.state_dict()) and not noise_layers(d_noisy)


@pytest.mark.parametrize("name,res", [("fastgan", 32), ("fastgan", 64), ("dcgan", 32), ("dcgan", 64)])
def test_on_starts_as_the_same_generator(name, res):
    plain, noisy = build(name, res).eval(), build(name, res, g_noise=True).eval()
    layers = noise_layers(noisy)
    assert len(layers) >= 2 and all(not m.weight.any() for m in layers)  # the DCGAN init leaves them at zero
    assert all(m.fixed.shape[-2:] != layers[0].fixed.shape[-2:] for m in layers[1:])  # one per resolution
    z = torch.randn(4, 16)
    out = plain(z)
    assert out.shape == (4, 3, res, res)
    # zero weights, and building drew nothing from the global stream (else the convolutions would differ)
    assert torch.allclose(out, noisy(z), atol=1e-6)


def test_eval_is_a_function_of_z_training_is_not():
    g = build(g_noise=True)
    set_noise_weights(g, 0.5)
    z = torch.randn(4, 16)
    g.eval()
    assert torch.equal(g(z), g(z))
    g.train()
    assert not torch.equal(g(z), g(z))


def test_gradients_reach_the_noise_weights_and_the_state_dict_round_trips():
    g = build(g_noise=True)
    g(torch.randn(4, 16)).sum().backward()  # at zero weights: the gradient is noise x upstream, not zero
    layers = noise_layers(g)
    assert all(m.weight.grad is not None and m.weight.grad.abs().sum() > 0 for m in layers)
    set_noise_weights(g, 0.3)
    assert all(k in g.state_dict() for k in ("ups.0.1.weight", "ups.0.1.fixed"))  # the fixed map is saved
    other = build(g_noise=True, seed=5)
    other.load_state_dict(g.state_dict())
    z = torch.randn(4, 16)
    assert torch.equal(g.eval()(z), other.eval()(z))


def test_conditional_and_channels_last_generators_take_noise():
    g = build(g_noise=True, styles=["a", "b"]).to(memory_format=torch.channels_last)
    set_noise_weights(g, 0.1)
    y = nn.functional.one_hot(torch.tensor([0, 1, 0, 1]), 2).float()
    for mode in (True, False):
        out = g.train(mode)(torch.randn(4, 16), y)
        assert out.shape == (4, 3, 32, 32) and torch.isfinite(out).all()


def test_dcgan_with_noise_trains_and_samples():
    g = build("dcgan", g_noise=True, styles=["a", "b"])
    y = nn.functional.one_hot(torch.tensor([0, 1]), 2).float()
    g(torch.randn(2, 16), y).sum().backward()
    assert all(m.weight.grad is not None for m in noise_layers(g))
    assert torch.isfinite(g.eval()(torch.randn(2, 16), y)).all()


@pytest.mark.parametrize("training", [True, False])
def test_noise_keeps_a_channels_last_map_channels_last(training):
    layer = NoiseInjection(4, 8, 8).train(training)
    layer.weight.data.fill_(1.0)
    x = torch.randn(2, 4, 8, 8).contiguous(memory_format=torch.channels_last)
    out = layer(x)
    assert out.is_contiguous(memory_format=torch.channels_last) and not torch.equal(out, x)


def test_an_unexpected_size_in_eval_mode_stretches_the_fixed_map():
    layer = NoiseInjection(2, 4, 4).eval()
    layer.weight.data.fill_(1.0)
    x = torch.zeros(1, 2, 8, 8)
    assert torch.equal(layer(x)[0, 0], layer.fixed[0, 0].repeat_interleave(2, 0).repeat_interleave(2, 1))


def test_building_leaves_the_global_random_stream_alone():
    torch.manual_seed(3)
    NoiseInjection(4, 16, 16)
    after = torch.rand(1)
    torch.manual_seed(3)
    assert torch.equal(after, torch.rand(1))


@pytest.mark.skipif(any(importlib.util.find_spec(m) is None for m in ("onnx", "onnxruntime", "onnxscript")),
                    reason="needs onnx, onnxruntime and onnxscript")
def test_an_eval_generator_with_noise_exports_to_onnx():
    import onnxruntime as ort

    from gan_studio.model_export import ImageGenerator, onnx_bytes, plain_copy

    g = build(g_noise=True)
    set_noise_weights(g, 0.2)
    module = ImageGenerator(plain_copy(g))
    session = ort.InferenceSession(onnx_bytes(module, 16, {}), providers=["CPUExecutionProvider"])
    z = torch.randn(3, 16)
    got = session.run(None, {"z": z.numpy()})[0]
    with torch.no_grad():
        assert torch.allclose(torch.from_numpy(got), module(z), atol=1e-5)
