"""Checkpoints: a plain dict of state dicts, tensors and numbers, written atomically, loaded with
``weights_only=True`` (no code from a file ever runs), validated before use.

Validation goes as far as a state can be checked without training with it: every key, type and range, finite
weights, and (on PyTorch's meta device, which allocates nothing) that the tensors fit the model they are for.
``load_first`` tries a run's checkpoints in order and says which it took and what it skipped. The torch-free part
(names, listing, pruning) is ``checkpoint_files``: listing runs must not import torch.
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from gan_studio.config import RunConfig
from gan_studio.engine import checkpoint_files
from gan_studio.engine.checkpoint_files import BEST_NAME, checkpoint_name, list_checkpoints, prune_checkpoints
from gan_studio.engine.runfiles import MAX_SIDE, MAX_STEP, RunFileError, config_from_dict, is_int, is_number
from gan_studio.errors import CheckpointError
from gan_studio.fileio import atomic_save

__all__ = ["FORMAT", "FORMAT_VERSION", "REQUIRED_KEYS", "CheckpointError", "Chosen", "checkpoint_name",
           "list_checkpoints", "prune_checkpoints", "save_checkpoint", "load_checkpoint", "validate_checkpoint",
           "check_fits", "load_first", "latest_loadable_checkpoint", "load_module_state"]

FORMAT = "gan_studio.checkpoint"
FORMAT_VERSION = 1
REQUIRED_KEYS = ("format", "version", "step", "config", "image_shape", "G", "D", "G_ema", "opt_g", "opt_d", "rng",
                 "fixed_noise", "seconds")
CPU_RNG_BYTES = torch.get_rng_state().numel()


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
        raise CheckpointError(f"no checkpoint at {path}" if not path.exists() else f"{path.name} is not a file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"refused to load {path.name}: it holds something other than weights and numbers, which could run "
            f"code ({str(e).splitlines()[0][:200]})") from None
    except Exception as e:  # noqa: BLE001 - torch.load meets noise with a zoo of types (struct.error, EOFError, ...)
        first = (str(e).splitlines() or [type(e).__name__])[0].split(". ")[0][:160]
        why = checkpoint_files.damage(path) or f"corrupt or unreadable ({first})"  # "cut short" says more
        raise CheckpointError(f"checkpoint {path.name} is {why}") from None
    validate_checkpoint(state, path.name)
    return state


def _tensor(value: Any, dtype: torch.dtype | None = None, dims: int | None = None) -> bool:
    return (isinstance(value, torch.Tensor) and (dtype is None or value.dtype == dtype)
            and (dims is None or value.dim() == dims))


def _finite(tensors: Any) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in tensors if t.is_floating_point())


def _numbers(value: Any) -> bool:
    """Plain numbers (finite; infinity allowed, as in a best-so-far of nothing yet), in any nesting of lists."""
    if isinstance(value, (list, tuple)):
        return all(_numbers(v) for v in value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    return isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value))


def _shape_ok(shape: Any) -> bool:
    return (isinstance(shape, (list, tuple)) and len(shape) == 3 and is_int(shape[0], 1, 4)
            and all(is_int(v, 1, MAX_SIDE) for v in shape[1:]))


def _weights_ok(weights: Any) -> bool:
    return (isinstance(weights, dict) and all(_tensor(v) for v in weights.values())
            and _finite(weights.values()))


def _optimizer_ok(opt: Any) -> bool:
    groups = opt.get("param_groups") if isinstance(opt, dict) else None
    return (isinstance(opt, dict) and isinstance(opt.get("state"), dict) and isinstance(groups, list)
            and bool(groups) and all(isinstance(g, dict) and isinstance(g.get("params"), list)
                                     and _numbers(list(g.values())) for g in groups))


def _rng_ok(rng: Any) -> bool:
    if not isinstance(rng, dict):
        return False
    if not (_tensor(rng.get("torch"), torch.uint8, 1) and _tensor(rng.get("gen"), torch.uint8)):
        return False
    on_cpu = rng.get("device_type", "cpu") == "cpu"  # only a CPU state is restored into the CPU's generators
    return (rng["torch"].numel() == CPU_RNG_BYTES and isinstance(rng.get("device_type", "cpu"), str)
            and is_int(rng.get("world_size", 1), 1, 1 << 20) and (not on_cpu or rng["gen"].numel() == CPU_RNG_BYTES))


def _augment_ok(augment: Any) -> bool:
    """One p, or one per style (a list): probabilities; the gathered signals plain numbers, or lists of them."""
    if augment is None:
        return True
    if not isinstance(augment, dict):
        return False

    def numbers(v: Any, *bounds: float) -> bool:
        items = v if isinstance(v, list) else [v]
        return 0 < len(items) <= 10_000 and all(is_number(x, *bounds) for x in items)

    return (numbers(augment.get("p"), 0, 1) and is_number(augment.get("seen", 0))
            and all(numbers(augment.get(k, 0)) for k in ("signs", "rt", "counts", "rt_styles")))


def _quality_ok(quality: Any) -> bool:
    if quality is None:
        return True
    if not isinstance(quality, dict):
        return False
    history, told, best = quality.get("history", []), quality.get("told", []), quality.get("best_swd")
    return (isinstance(best, (int, float)) and not isinstance(best, bool) and not math.isnan(best)
            and is_int(quality.get("best_step"), -1) and isinstance(history, list)
            and all(isinstance(h, (list, tuple)) and len(h) == 3 and all(is_number(v, 0) for v in h) for h in history)
            and isinstance(told, list) and all(isinstance(t, str) for t in told))


def _scaler_ok(scaler: Any) -> bool:
    return scaler is None or (isinstance(scaler, dict) and _numbers(list(scaler.values())))


# (key, check, what is wrong when the check fails): every value a resume or sampling puts to use
CHECKS = [
    ("step", lambda v: is_int(v, 0, MAX_STEP), "has an invalid step"),
    ("seconds", lambda v: is_number(v, 0), "has an invalid training time"),
    ("image_shape", _shape_ok, "has an invalid image shape"),
    *[(key, _weights_ok, f"{key} is not a state dict of finite tensors") for key in ("G", "D", "G_ema")],
    ("fixed_noise", lambda v: _tensor(v, dims=2) and _finite([v]), "fixed_noise is not a finite batch of noise"),
    *[(key, _optimizer_ok, f"{key} is not an optimizer state") for key in ("opt_g", "opt_d")],
    ("rng", _rng_ok, "rng is not a set of random-generator states"),
    ("augment", _augment_ok, "augment is not an augmentation state"),
    ("quality", _quality_ok, "quality is not a quality-check record"),
    *[(key, _scaler_ok, f"{key} is not a gradient-scaler state") for key in ("scaler_g", "scaler_d")],
]


def validate_checkpoint(state: Any, name: str = "checkpoint") -> None:
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{name} is not a GAN Studio checkpoint")
    if state.get("version") != FORMAT_VERSION:
        raise CheckpointError(f"{name} has format version {str(state.get('version'))[:20]}; "
                              f"this GAN Studio reads {FORMAT_VERSION}")
    missing = [k for k in REQUIRED_KEYS if k not in state]
    if missing:
        raise CheckpointError(f"{name} is missing {', '.join(missing)}")
    for key, ok, wrong in CHECKS:
        if not ok(state.get(key)):
            raise CheckpointError(f"{name} {wrong}" if wrong.startswith("has ") else f"{name}: {wrong}")
    try:
        config_from_dict(state["config"], f"the config inside {name}")
    except RunFileError as e:
        raise CheckpointError(str(e)) from None


def check_fits(state: dict[str, Any], config: RunConfig | None = None, name: str = "checkpoint") -> None:
    """That a validated state's tensors fit the model of ``config`` (default: the config inside the checkpoint):
    the networks are built on the meta device (no memory, no time), and every weight and optimizer slot compared."""
    from gan_studio.models import build_models

    config = config or config_from_dict(state["config"])
    c, h, w = state["image_shape"]
    try:
        with torch.device("meta"):
            G, D = build_models(config.model, c, h, w)
    except Exception:  # noqa: BLE001 - a model the meta device cannot build is checked when it is loaded instead
        return
    for key, module in (("G", G), ("D", D), ("G_ema", G)):
        own = module.state_dict()
        saved = state[key]
        if set(saved) != set(own):
            wrong = sorted(set(saved) ^ set(own))[:2]
            raise CheckpointError(f"{name}: {key} does not match the model (keys {', '.join(wrong)})")
        for k, tensor in saved.items():
            if tuple(tensor.shape) != tuple(own[k].shape):
                raise CheckpointError(f"{name}: {key}.{k} has shape {tuple(tensor.shape)}, the model expects "
                                      f"{tuple(own[k].shape)}")
    for key, module in (("opt_g", G), ("opt_d", D)):
        shapes = [tuple(p.shape) for p in module.parameters()]
        ids = [i for group in state[key]["param_groups"] for i in group["params"]]
        if len(ids) != len(shapes):
            raise CheckpointError(f"{name}: {key} is for {len(ids)} parameters, the model has {len(shapes)}")
        by_id = dict(zip(ids, shapes))
        for i, slots in state[key]["state"].items():
            if i not in by_id or not isinstance(slots, dict) or any(
                    _tensor(v) and v.dim() > 0 and tuple(v.shape) != by_id[i] for v in slots.values()):
                raise CheckpointError(f"{name}: {key} does not match the model's parameters")


@dataclass
class Chosen:
    """The checkpoint ``load_first`` took, its state, and why each one before it was skipped."""

    path: Path
    state: dict[str, Any]
    skipped: list[str] = field(default_factory=list)

    @property
    def step(self) -> int:
        return int(self.state["step"])

    def note(self, doing: str = "resuming") -> str | None:
        """One line for the user when something was skipped: which state they get, and why not a newer one."""
        if not self.skipped:
            return None
        which = "the best snapshot (best.pt)" if self.path.name == BEST_NAME else self.path.name
        return f"{doing} from step {self.step} ({which}); passed over: {'; '.join(self.skipped)}"


def load_first(paths: Sequence[Path], config: RunConfig | None = None,
               map_location: str | torch.device = "cpu") -> Chosen:
    """The first of ``paths`` that loads, validates and fits the model of ``config`` (default: its own)."""
    skipped: list[str] = []
    for path in paths:
        try:
            state = load_checkpoint(path, map_location)
            check_fits(state, config, Path(path).name)
            return Chosen(Path(path), state, skipped)
        except CheckpointError as e:
            skipped.append(str(e))
    if skipped:
        raise CheckpointError(f"no loadable checkpoint: {'; '.join(skipped)}")
    raise CheckpointError("no checkpoint yet: nothing was saved in this run")


def latest_loadable_checkpoint(folder: Path, map_location: str | torch.device = "cpu") -> tuple[Path, dict[str, Any]]:
    """The newest step checkpoint that loads; a corrupt newest one falls back to the one before it."""
    if not list_checkpoints(folder):
        raise CheckpointError(f"no checkpoint in {folder}")
    chosen = load_first([path for _, path in reversed(list_checkpoints(folder))], map_location=map_location)
    return chosen.path, chosen.state


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
