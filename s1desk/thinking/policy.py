"""The budget policy: how long the model may and must think."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from s1desk.errors import PolicyError

#: The paper extends thinking up to six times; gains flatten after that.
DEFAULT_MAX_WAITS = 6
#: Tokens ``finish-sentence`` may think past the cap to end its sentence.
DEFAULT_GRACE_TOKENS = 32
#: Forced before the answer delimiter by ``wrap-up``.
DEFAULT_WRAP_UP = "\n\nI have to stop thinking here and give my answer now.\n"


class CapLanding(StrEnum):
    """What happens to the thinking block at the cap.

    ``abrupt`` closes it where it is (the s1 paper's budget forcing).
    ``wrap-up`` forces a short message before the answer delimiter.
    ``finish-sentence`` lets the model end its sentence within a few grace
    tokens. The last two think past the cap: those tokens are counted as
    overshoot.
    """

    ABRUPT = "abrupt"
    WRAP_UP = "wrap-up"
    FINISH_SENTENCE = "finish-sentence"


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """Bounds for one generation, in tokens.

    ``max_thinking`` caps the thinking block (0 answers at once);
    ``min_thinking`` is the length under which an attempt to stop thinking is
    replaced by ``wait_text``, at most ``max_waits`` times. Every token inside
    the thinking block counts, the injected ones included. ``landing``
    softens the cap (see :class:`CapLanding`); what it adds past the cap is
    overshoot, at most ``grace_tokens`` for ``finish-sentence``.
    """

    max_thinking: int = 4000
    min_thinking: int = 0
    max_waits: int = DEFAULT_MAX_WAITS
    wait_text: str = "Wait"
    cap_suffix: str = "Final Answer:"
    max_answer: int = 4096
    landing: CapLanding = CapLanding.ABRUPT
    grace_tokens: int = DEFAULT_GRACE_TOKENS
    wrap_up_text: str = DEFAULT_WRAP_UP

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
        if self.grace_tokens < 0:
            raise PolicyError(f"the grace tokens must be 0 or more, not {self.grace_tokens}")
        if self.landing is CapLanding.WRAP_UP and not self.wrap_up_text:
            raise PolicyError("the wrap-up text is empty")
        if self.min_thinking > 0 and self.max_waits > 0 and not self.wait_text:
            raise PolicyError("the extension text is empty")

    def with_max_thinking(self, max_thinking: int) -> BudgetPolicy:
        """Return a copy with a new cap, lowering the minimum to stay under it."""
        return replace(
            self, max_thinking=max_thinking, min_thinking=min(self.min_thinking, max_thinking)
        )
