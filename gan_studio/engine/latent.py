"""Paths through the latent space: spherical interpolation between noise vectors, and closed walks through
several of them (the gallery's latent walk, the exported GIF)."""

from __future__ import annotations

import math

import numpy as np

WALK_FRAMES = 12  # frames between two key vectors of a walk


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation: for normal noise it keeps the norm typical, where a straight line would pass
    through the low-norm middle of the distribution that the generator never saw (White, 2016)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    na, nb = np.linalg.norm(a64), np.linalg.norm(b64)
    if na == 0 or nb == 0:
        return ((1 - t) * a64 + t * b64).astype(a.dtype)
    omega = math.acos(float(np.clip(np.dot(a64 / na, b64 / nb), -1.0, 1.0)))
    if omega < 1e-6:
        return ((1 - t) * a64 + t * b64).astype(a.dtype)
    s = math.sin(omega)
    return (math.sin((1 - t) * omega) / s * a64 + math.sin(t * omega) / s * b64).astype(a.dtype)


def interpolate_noise(z0: np.ndarray, z1: np.ndarray, n: int, kind: str = "normal",
                      endpoint: bool = True) -> np.ndarray:
    """``n`` noise vectors from z0 to z1 (both included unless ``endpoint`` is False): slerp for normal noise,
    a straight line for uniform noise (which stays inside the cube)."""
    ts = np.linspace(0.0, 1.0, n, endpoint=endpoint)
    if kind == "uniform":
        return np.stack([(1 - t) * z0 + t * z1 for t in ts]).astype(np.float32)
    return np.stack([slerp(z0, z1, float(t)) for t in ts]).astype(np.float32)


def walk_noise(keys: np.ndarray, frames_per_segment: int = WALK_FRAMES, kind: str = "normal") -> np.ndarray:
    """A closed loop through the key vectors (K, D): K * frames_per_segment frames, ready to play on repeat."""
    segments = [interpolate_noise(keys[i], keys[(i + 1) % len(keys)], frames_per_segment, kind, endpoint=False)
                for i in range(len(keys))]
    return np.concatenate(segments)
