"""A log-like scale from slider positions to tokens: 0, small and large budgets all easy to pick."""

from __future__ import annotations

import math

#: Slider positions; 0 means 0 tokens (answer at once), the last means the limit.
STEPS = 1000


def _nice(n: float) -> int:
    """Round to two significant figures past 100 (1,234 -> 1,200): round values on the slider."""
    if n < 100:
        return round(n)
    magnitude = 10 ** (math.floor(math.log10(n)) - 1)
    return int(round(n / magnitude) * magnitude)


def position_to_tokens(position: int, limit: int) -> int:
    """Tokens for a slider ``position`` in ``0..STEPS`` on a scale up to ``limit``."""
    if position <= 0:
        return 0
    if position >= STEPS:
        return limit
    return min(limit, _nice(math.expm1(math.log1p(limit) * position / STEPS)))


def tokens_to_position(tokens: int, limit: int) -> int:
    """The slider position closest to ``tokens``."""
    if tokens <= 0:
        return 0
    if tokens >= limit:
        return STEPS
    return max(1, min(STEPS - 1, round(math.log1p(tokens) / math.log1p(limit) * STEPS)))
