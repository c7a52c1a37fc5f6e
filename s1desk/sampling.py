"""Sampler settings, passed once as one value."""

from __future__ import annotations

from dataclasses import dataclass

from s1desk.errors import PolicyError


@dataclass(frozen=True, slots=True)
class SamplerSettings:
    """How the next token is picked. Temperature 0 is greedy, the paper's setting."""

    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    min_p: float = 0.0
    repeat_penalty: float = 1.0
    repeat_last_n: int = 64
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise PolicyError(f"temperature must be 0 or more, not {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise PolicyError(f"top-p must be in (0, 1], not {self.top_p}")
        if self.top_k < 0:
            raise PolicyError(f"top-k must be 0 (off) or more, not {self.top_k}")
        if not 0 <= self.min_p < 1:
            raise PolicyError(f"min-p must be in [0, 1), not {self.min_p}")
        if self.repeat_penalty <= 0:
            raise PolicyError(f"repeat penalty must be above 0, not {self.repeat_penalty}")
        if self.repeat_last_n < 0:
            raise PolicyError(f"repeat window must be 0 or more, not {self.repeat_last_n}")

    @property
    def greedy(self) -> bool:
        """True when decoding always takes the most likely token."""
        return self.temperature == 0
