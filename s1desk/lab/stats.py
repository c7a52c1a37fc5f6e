"""Interval and vote arithmetic: Wilson score intervals and majority voting."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

#: The normal quantile for a two-sided 95% interval.
Z95 = 1.959963984540054


def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for ``correct`` successes out of ``n`` (95% by default)."""
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def majority(votes: Sequence[str | None]) -> str | None:
    """The most common vote; a tie goes to the answer given first. ``None`` votes abstain."""
    counted = Counter(v for v in votes if v is not None)
    if not counted:
        return None
    best = max(counted.values())
    return next(v for v in votes if v is not None and counted[v] == best)
