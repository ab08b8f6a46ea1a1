"""Named configurations a run can start from: ``gan-studio train --preset NAME`` and the GUI's preset list.

A preset is a set of overrides of the config dataclasses, by section ('data', 'model', 'train'); it never sets
the data source, the run length or the device, which stay the user's. Options given after a preset win.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

from gan_studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from gan_studio.errors import ConfigError

SECTIONS: dict[str, type] = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


@dataclass
class Preset:
    name: str
    description: str  # one user-facing line, shown by `gan-studio presets` and in the GUI's form
    overrides: dict[str, dict]  # section ('data' | 'model' | 'train') -> {field: value}


# Goodfellow et al., "Generative Adversarial Nets" (2014), MNIST: the paper's section 5 and its public code,
# goodfeli/adversarial mnist.yaml (pylearn2) with adversarial/__init__.py (Generator, AdversaryCost2).
PAPER_MNIST = Preset(
    name="paper-mnist",
    description="The original GAN paper's MNIST model (Goodfellow et al. 2014): a 1200-1200 ReLU generator, "
                "a maxout discriminator with dropout, plain SGD with momentum; 28x28 grayscale digits",
    overrides={
        "data": {
            "res": 28,  # MNIST's 28x28 digits, 784 sigmoid outputs
            "aspect": "1:1",
            "crop": "center",
            "flip": False,  # digits are not mirror-symmetric; the paper does no augmentation
        },
        "model": {
            "name": "mlp",
            "z_dim": 100,  # mnist.yaml: generator nvis 100
            "noise": "uniform",  # mnist.yaml: Generator noise 'uniform', i.e. U[-sqrt 3, sqrt 3] (unit variance)
            "g_hidden": [1200, 1200],  # mnist.yaml: RectifiedLinear h0, h1, dim 1200
            "g_output": "sigmoid",  # mnist.yaml: Sigmoid 'y', dim 784 (pixels in [0, 1])
            "d_hidden": [240, 240],  # mnist.yaml: Maxout h0, h1, num_units 240 ...
            "d_pieces": 5,  # ... num_pieces 5, then a Sigmoid 'y' of dim 1
            # AdversaryCost2: discriminator_input_include_probs {'h0': .8}, default .5; the input scales
            # 1.25 = 1/0.8 and 2 = 1/0.5 are inverted dropout, which is what torch's Dropout does.
            "d_dropout_input": 0.2,
            "d_dropout_hidden": 0.5,
            # mnist.yaml puts no max_col_norm on D (the 1.9365 cap is in the maxout paper's MNIST config and in
            # this repository's TFD config, not in the MNIST GAN): no cap, as the code the paper ran.
            "d_max_col_norm": None,
            # mnist.yaml: D's layers irange .005 (G's .05); G's Sigmoid init_bias init_sigmoid_bias_from_marginals;
            # D sees pylearn2's MNIST pixels in [0, 1] (input dropout zeroes a pixel to black, the background)
            "d_init_range": 0.005,
            "g_bias_from_data": True,
            "d_input": "unit",
        },
        "train": {
            "batch": 100,  # mnist.yaml: SGD batch_size 100
            "k": 1,  # the paper: "we used k = 1, the least expensive option"
            # mnist.yaml trains with pylearn2's own SGD (not the repository's sgd.py, whose d_func and g_func
            # alternate): one update of all parameters per batch, D's from d_obj and G's from g_obj of the same
            # forward pass. Measured here: with alternating steps at these learning rates D wins within 3,000
            # steps (D(G(z)) 0.007, no recovery); updated simultaneously the game stays balanced (D(G(z)) 0.2-0.4).
            "update": "simultaneous",
            # AdversaryCost2's g_obj is the sigmoid cross-entropy of D(G(z)) against 1, i.e. -log D(G(z)):
            # the paper's recommended non-saturating loss. The minimax loss is one switch away.
            "g_loss": "non_saturating",
            "optimizer": "sgd",  # mnist.yaml: pylearn2 SGD with the Momentum learning rule
            "lr_g": 0.1,  # mnist.yaml: learning_rate .1
            # AdversaryCost2's d_obj is 0.5 * (cross-entropy on data + on samples), our d_loss the plain sum:
            # the same SGD trajectory needs half the learning rate on D.
            "lr_d": 0.05,
            "momentum": 0.5,  # Momentum init_momentum .5
            # MomentumAdjustor: final_momentum .7, linear from epoch 1 to epoch 250 of 50,000 digits / 100 =
            # 500 updates an epoch, i.e. saturating after 125,000 updates (kept in updates, not epochs, so a
            # smaller data set does not change the optimisation schedule).
            "momentum_final": 0.7,
            "momentum_steps": 125_000,
            "lr_decay": 1.000004,  # ExponentialDecay decay_factor 1.000004, applied after every update ...
            "lr_min": 1e-6,  # ... with min_lr .000001
        },
    },
)

PRESETS: dict[str, Preset] = {p.name: p for p in (PAPER_MNIST,)}


def check_preset(preset: Preset) -> None:
    """Every section and key must name a field of the config dataclasses (a typo must not pass silently)."""
    for section, values in preset.overrides.items():
        if section not in SECTIONS:
            raise ConfigError(f"preset {preset.name!r}: unknown config section {section!r} "
                              f"(use {', '.join(SECTIONS)})")
        known = {f.name for f in dataclasses.fields(SECTIONS[section])}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"preset {preset.name!r}: unknown key(s) in section {section!r}: {', '.join(unknown)}")


def apply_preset(cfg: RunConfig, name: str) -> RunConfig:
    """Set the preset's values on ``cfg`` (in place, and returned); the caller validates the whole config."""
    preset = PRESETS.get(name)
    if preset is None:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(sorted(PRESETS))}")
    check_preset(preset)
    for section, values in preset.overrides.items():
        target = getattr(cfg, section)
        for key, value in values.items():
            setattr(target, key, copy.deepcopy(value))  # lists are copied: a run never edits the preset
    return cfg
