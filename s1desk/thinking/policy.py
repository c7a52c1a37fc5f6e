"""The budget policy: how long the model may and must think."""

from __future__ import annotations

from dataclasses import dataclass, replace

from s1desk.errors import PolicyError

#: The paper extends thinking up to six times; gains flatten after that.
DEFAULT_MAX_WAITS = 6


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """Bounds for one generation, in tokens.

    ``max_thinking`` caps the thinking block (0 answers at once);
    ``min_thinking`` is the length under which an attempt to stop thinking is
    replaced by ``wait_text``, at most ``max_waits`` times. Every token inside
    the thinking block counts, the injected ones included.
    """

    max_thinking: int = 4000
    min_thinking: int = 0
    max_waits: int = DEFAULT_MAX_WAITS
    wait_text: str = "Wait"
    cap_suffix: str = "Final Answer:"
    max_answer: int = 4096

    def __post_init__(self) -> None:
        if self.max_thinking < 0:
            raise PolicyError(f"maximum thinking must be 0 or more, not {self.max_thinking}")
        if self.min_thinking < 0:
            raise PolicyError(f"minimum thinking must be 0 or more, not {self.min_thinking}")
        if self.min_thinking > self.max_thinking:
            raise PolicyError(
                f"minimum thinking ({self.min_thinking}) is above the maximum ({self.max_thinking})"
            )
        if self.max_waits < 0:
            raise PolicyError(
                f"the number of Wait extensions must be 0 or more, not {self.max_waits}"
            )
        if self.max_answer < 1:
            raise PolicyError(f"the answer needs at least 1 token, not {self.max_answer}")
        if self.min_thinking > 0 and self.max_waits > 0 and not self.wait_text:
            raise PolicyError("the extension text is empty")

    def with_max_thinking(self, max_thinking: int) -> BudgetPolicy:
        """Return a copy with a new cap, lowering the minimum to stay under it."""
        return replace(
            self, max_thinking=max_thinking, min_thinking=min(self.min_thinking, max_thinking)
        )
