"""What training on an NVIDIA GPU needs decided: the autocast precision by the card's compute capability, the
cuDNN/TF32 settings and the random state of the one GPU that trains. (Whether the decoded images fit on the GPU
beside the networks is decided where they are held: ``gan_studio.data.sampler``.)

Everything here is a plain function of ``torch.cuda``'s answers, so the suite checks it on a CPU with those
answers mocked (tests/test_gpu_path.py); ``benchmarks/gpu_check.sh`` runs it on a real card.
"""

from __future__ import annotations

from typing import Any

import torch

# bfloat16 runs natively on the tensor cores from Ampere (compute capability 8.0) on. Before that (T4 and RTX 20xx
# are 7.5, V100 7.0) torch.cuda.is_bf16_supported() still says True, counting its emulation, which is slow: those
# cards get float16 with the GradScaler instead.
NATIVE_BF16_CAPABILITY = (8, 0)


def cuda_autocast_dtype(device: torch.device) -> torch.dtype:
    """bfloat16 where the card computes it natively (capability 8.0 and up), else float16 (with a GradScaler)."""
    major, minor = torch.cuda.get_device_capability(device)
    return torch.bfloat16 if (major, minor) >= NATIVE_BF16_CAPABILITY else torch.float16


def configure_backends(device: torch.device) -> None:
    """For CUDA training: every shape in a step is fixed, so cuDNN may benchmark its algorithms once per layer and
    keep the fastest; float32 matrix products and convolutions (the float32 parts of mixed precision, and
    ``--amp off``) use TF32 tensor cores. Nothing changes for the CPU or MPS."""
    if device.type != "cuda":
        return
    torch.backends.cudnn.benchmark = True
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):  # torch >= 2.9
        torch.backends.cuda.matmul.fp32_precision = "tf32"
        torch.backends.cudnn.conv.fp32_precision = "tf32"  # type: ignore[attr-defined]
    else:  # pragma: no cover - older torch
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


# ------------------------------------------------------------------------------------------- random state
def device_rng_state(device: torch.device) -> dict[str, Any]:
    """The random state of the GPU that trains (not of every visible GPU: a host with fewer GPUs must be able to
    resume the run), as entries of a checkpoint's ``rng``; nothing for other devices."""
    if device.type != "cuda":
        return {}
    return {"cuda": torch.cuda.get_rng_state(device), "cuda_index": _index(device)}


def restore_device_rng(rng: dict[str, Any], device: torch.device) -> bool:
    """Put a checkpoint's GPU random state onto ``device``. Checkpoints of earlier releases saved a list, one state
    per GPU visible then: the state of the GPU with this device's index is used where the list has one, else the
    first (a single-GPU run trained on GPU 0). Returns whether a state was restored."""
    saved = rng.get("cuda")
    if device.type != "cuda" or saved is None:
        return False
    if isinstance(saved, (list, tuple)):
        if not saved:
            return False
        index = _index(device)
        saved = saved[index] if index < len(saved) else saved[0]
    torch.cuda.set_rng_state(saved.cpu() if isinstance(saved, torch.Tensor) else torch.as_tensor(saved), device)
    return True


def _index(device: torch.device) -> int:
    return device.index if device.index is not None else torch.cuda.current_device()
