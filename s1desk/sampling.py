"""Sampler settings, passed once as one value."""

from __future__ import annotations

import math
from dataclasses import dataclass

from s1desk.errors import PolicyError

#: Seeds are unsigned 32-bit on llama.cpp and vLLM alike.
MAX_SEED = 2**32 - 1
#: Largest top-k and repeat window accepted (far above any vocabulary).
MAX_COUNT = 1 << 24
_NAMES = {
    "temperature": "temperature",
    "top_p": "top-p",
    "top_k": "top-k",
    "min_p": "min-p",
    "repeat_penalty": "repeat penalty",
    "repeat_last_n": "repeat window",
}


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
        for name in ("temperature", "top_p", "min_p", "repeat_penalty"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PolicyError(f"{_NAMES[name]} must be a number, not {value!r}")
            if not math.isfinite(value):
                raise PolicyError(f"{_NAMES[name]} must be a finite number, not {value}")
        for name in ("top_k", "repeat_last_n"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value > MAX_COUNT:
                raise PolicyError(
                    f"{_NAMES[name]} must be a whole number up to {MAX_COUNT}, not {value!r}"
                )
        if self.seed is not None and (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or not 0 <= self.seed <= MAX_SEED
        ):
            raise PolicyError(
                f"seed must be a whole number from 0 to {MAX_SEED}, not {self.seed!r}"
            )
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
