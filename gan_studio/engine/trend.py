"""Quality over time, in words: whether the quality checks are still improving, levelling off or getting worse,
and when they have stopped improving for long enough that training on is unlikely to help (a plateau).

Torch-free: the app reads the trend from the run's statistics as they arrive, the trainer decides a plateau.
SWD readings of 300 samples vary by about 5% from one draw of noise to the next, so the rules below look at
means over two checks and ask for gains larger than that noise before they call anything a change.
"""

from __future__ import annotations

from collections.abc import Sequence

CHANGE = 0.05  # a relative change of the mean SWD smaller than this is "levelling off" (the readings' own noise)
MIN_GAIN = 0.03  # a new best must beat the previous best by this share to count as progress for the plateau rule


def quality_trend(swds: Sequence[float]) -> str | None:
    """'improving', 'levelling off' or 'getting worse' from the latest SWD readings (lower is better), comparing
    the mean of the last two with the mean of the two before; None with fewer than four readings."""
    if len(swds) < 4:
        return None
    before, now = (swds[-4] + swds[-3]) / 2, (swds[-2] + swds[-1]) / 2
    if now < before * (1 - CHANGE):
        return "improving"
    if now > before * (1 + CHANGE):
        return "getting worse"
    return "levelling off"


def checks_since_progress(swds: Sequence[float], min_gain: float = MIN_GAIN) -> int:
    """How many checks have passed since the best SWD last improved by at least ``min_gain`` (relative)."""
    best, since = float("inf"), 0
    for value in swds:
        if value < best * (1 - min_gain):
            best, since = value, 0
        else:
            since += 1
            best = min(best, value)
    return since


def plateaued(swds: Sequence[float], patience: int) -> bool:
    """True when the last ``patience`` checks brought no real gain over the best before them."""
    return len(swds) > patience and checks_since_progress(swds) >= patience
