"""A trainer's state as a checkpoint holds it, and putting it back: weights, optimizers, loss scalers, the random
streams (each rank's, and the training GPU's alone), the fixed preview noise, augmentation, the quality record.

Functions of the trainer, kept apart so trainer.py holds the training loop.
"""

from __future__ import annotations

from typing import Any

import torch

from gan_studio.engine import checkpoint as ckpt
from gan_studio.engine.gpu import device_rng_state, restore_device_rng

RANK_SEED_STRIDE = 1_000_003  # rank r draws from seed + r * stride: every rank its own noise and batches


def trainer_state(trainer: Any, session_seconds: float = 0.0) -> dict[str, Any]:
    """The trainer's whole state (``Trainer.state_dict``): weights, optimizers, scalers, random streams, the
    fixed preview noise, augmentation, the quality record and the route."""
    trainer._calibrate_ema()
    rng: dict[str, Any] = {"torch": torch.get_rng_state(), "device_type": trainer.device.type,
                           "gen": trainer.gen.get_state(), "world_size": trainer.world,
                           **device_rng_state(trainer.device)}  # the training GPU's alone: engine/gpu.py
    return {
        "step": trainer.step,
        "seconds": trainer.seconds_before + session_seconds,
        "config": trainer.config.to_dict(),
        "image_shape": list(trainer.shape),
        "G": trainer.G.state_dict(), "D": trainer.D.state_dict(), "G_ema": trainer.G_ema.state_dict(),
        "opt_g": trainer.opt_g.state_dict(), "opt_d": trainer.opt_d.state_dict(),
        "scaler_g": trainer.scaler_g.state_dict(), "scaler_d": trainer.scaler_d.state_dict(),
        "rng": rng,
        "fixed_noise": trainer.fixed_noise.cpu(),
        "augment": trainer.augment.state_dict(),
        "quality": trainer.quality.state_dict(),
        "route": trainer.route.to_json(),
    }


def load_trainer_state(trainer: Any, state: dict[str, Any]) -> None:
    """Put a checkpoint's state back into a freshly built trainer (``Trainer._load_state``); a CheckpointError
    says what does not match."""
    if list(state["image_shape"]) != list(trainer.shape):
        raise ckpt.CheckpointError(f"the checkpoint was trained on images of shape {state['image_shape']}, "
                                   f"the data now gives {list(trainer.shape)}")
    ckpt.load_module_state(trainer.G, state["G"], "the generator")
    ckpt.load_module_state(trainer.D, state["D"], "the discriminator")
    ckpt.load_module_state(trainer.G_ema, state["G_ema"], "the EMA generator")
    try:
        trainer.opt_g.load_state_dict(state["opt_g"])
        trainer.opt_d.load_state_dict(state["opt_d"])
        if state.get("scaler_g"):
            trainer.scaler_g.load_state_dict(state["scaler_g"])
            trainer.scaler_d.load_state_dict(state["scaler_d"])
    except (ValueError, KeyError, RuntimeError) as e:
        raise ckpt.CheckpointError(f"the optimizer state does not match the model: {e}") from None
    trainer.step, trainer._calibrated_step = state["step"], None
    trainer.seconds_before = float(state["seconds"])
    trainer.fixed_noise = state["fixed_noise"].to(trainer.device)
    if state.get("augment"):  # the augmentation strength goes on where it was (older checkpoints: none)
        trainer.augment.load_state_dict(state["augment"])
    trainer.quality.load_state_dict(state.get("quality"))
    rng = state["rng"]
    torch.set_rng_state(rng["torch"])
    if trainer.world > 1 or rng.get("world_size", 1) > 1:
        # Under torchrun each rank has its own stream; after a resume (maybe with another number of
        # processes) every rank starts a fresh stream derived from the seed, its rank and the step.
        trainer.gen.manual_seed(trainer.config.train.seed + trainer.rank * RANK_SEED_STRIDE + trainer.step)
    elif rng.get("device_type") == trainer.device.type:
        trainer.gen.set_state(rng["gen"])
        restore_device_rng(rng, trainer.device)  # onto this GPU, from one state or an old checkpoint's list
    else:  # a run moved between a GPU and the CPU: continue with a fresh, still seed-derived stream
        trainer.gen.manual_seed(trainer.config.train.seed + trainer.step)
