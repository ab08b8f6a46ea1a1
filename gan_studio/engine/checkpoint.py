"""Checkpoints: a plain dict of state dicts, tensors and numbers, written atomically, loaded with
``weights_only=True`` (no code from a file ever runs), validated before use."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

from gan_studio.errors import CheckpointError
from gan_studio.fileio import atomic_save

FORMAT = "gan_studio.checkpoint"
FORMAT_VERSION = 1
REQUIRED_KEYS = ("format", "version", "step", "config", "image_shape", "G", "D", "G_ema", "opt_g", "opt_d", "rng",
                 "fixed_noise", "seconds")
_NAME = re.compile(r"^step_(\d{8})\.pt$")


def checkpoint_name(step: int) -> str:
    return f"step_{step:08d}.pt"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to a temporary file beside ``path``, then rename it into place."""
    state = {"format": FORMAT, "version": FORMAT_VERSION, **state}
    try:
        atomic_save(Path(path), lambda f: torch.save(state, f))
    except OSError as e:
        raise CheckpointError(f"could not write checkpoint {path}: {e.strerror or e}") from None


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and validate a checkpoint; anything but plain tensors and containers is refused."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"refused to load {path.name}: it holds something other than weights and numbers, which could run "
            f"code ({str(e).splitlines()[0][:200]})") from None
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise CheckpointError(f"checkpoint {path.name} is corrupt or unreadable: "
                              f"{str(e).splitlines()[0][:200]}") from None
    validate_checkpoint(state, path.name)
    return state


def validate_checkpoint(state: Any, name: str = "checkpoint") -> None:
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{name} is not a GAN Studio checkpoint")
    if state.get("version") != FORMAT_VERSION:
        raise CheckpointError(f"{name} has format version {state.get('version')}; "
                              f"this GAN Studio reads {FORMAT_VERSION}")
    missing = [k for k in REQUIRED_KEYS if k not in state]
    if missing:
        raise CheckpointError(f"{name} is missing {', '.join(missing)}")
    if not isinstance(state["step"], int) or state["step"] < 0:
        raise CheckpointError(f"{name} has an invalid step {state['step']!r}")
    for key in ("G", "D", "G_ema"):
        if not isinstance(state[key], dict) or not all(isinstance(v, torch.Tensor) for v in state[key].values()):
            raise CheckpointError(f"{name}: {key} is not a state dict of tensors")


def load_module_state(module: torch.nn.Module, state_dict: dict[str, torch.Tensor], what: str) -> None:
    """Load weights, turning a shape or key mismatch into a message that names what is wrong."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state_dict))
    extra = sorted(set(state_dict) - set(own))
    if missing or extra:
        raise CheckpointError(f"{what} does not match this model: missing {missing[:3]}, unexpected {extra[:3]}")
    for key, tensor in state_dict.items():
        if tuple(tensor.shape) != tuple(own[key].shape):
            raise CheckpointError(f"{what}: {key} has shape {tuple(tensor.shape)}, the model expects "
                                  f"{tuple(own[key].shape)}")
    module.load_state_dict(state_dict)


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint in ``folder``, oldest first."""
    if not Path(folder).is_dir():
        return []
    found = [(int(m.group(1)), p) for p in Path(folder).iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def latest_loadable_checkpoint(folder: Path, map_location: str | torch.device = "cpu") -> tuple[Path, dict[str, Any]]:
    """The newest checkpoint that loads; a corrupt newest one falls back to the one before it."""
    errors = []
    for _, path in reversed(list_checkpoints(folder)):
        try:
            return path, load_checkpoint(path, map_location)
        except CheckpointError as e:
            errors.append(str(e))
    if errors:
        raise CheckpointError(f"no loadable checkpoint in {folder}: {errors[0]}")
    raise CheckpointError(f"no checkpoint in {folder}")


def prune_checkpoints(folder: Path, keep_last: int) -> list[Path]:
    """Delete all but the newest ``keep_last`` checkpoints; return what was removed."""
    removed = []
    for _, path in list_checkpoints(folder)[:-keep_last]:
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed
