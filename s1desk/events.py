"""The values a generation streams back: plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from s1desk.thinking.machine import CloseReason, FinishReason


@dataclass(frozen=True, slots=True)
class ThinkingText:
    """Text the model wrote inside its thinking block."""

    text: str
    type: ClassVar[str] = "thinking"


@dataclass(frozen=True, slots=True)
class AnswerText:
    """Text of the answer (a forced ``Final Answer:`` included)."""

    text: str
    type: ClassVar[str] = "answer"


@dataclass(frozen=True, slots=True)
class WaitInjected:
    """An end of thinking was suppressed and ``text`` appended in its place.

    ``at`` is the thinking-token count before the injection; ``index`` counts
    extensions from 1. The text belongs to the reasoning, after what came before.
    """

    text: str
    at: int
    index: int
    type: ClassVar[str] = "wait"


@dataclass(frozen=True, slots=True)
class ThinkingEnd:
    """The thinking block closed, for ``reason``, after ``thinking_tokens``."""

    reason: CloseReason
    thinking_tokens: int
    type: ClassVar[str] = "thinking_end"


@dataclass(frozen=True, slots=True)
class BudgetAdjusted:
    """The budget was lowered so that prompt, thinking and answer fit the context."""

    max_thinking: int
    min_thinking: int
    message: str
    type: ClassVar[str] = "budget_adjusted"


@dataclass(frozen=True, slots=True)
class Stats:
    """Figures for one generation.

    ``evaluated_tokens`` counts what the model was fed on top of its cache: the
    uncached part of the prompt, every token kept in the reply and every forced
    token (Wait, the answer delimiter, the cap's suffix). 0 where unknown.
    """

    prompt_tokens: int
    cached_prompt_tokens: int
    thinking_tokens: int
    answer_tokens: int
    waits: int
    time_to_first_token_s: float
    thinking_s: float
    total_s: float
    tokens_per_second: float
    evaluated_tokens: int = 0
    type: ClassVar[str] = "stats"


@dataclass(frozen=True, slots=True)
class Done:
    """The generation ended; nothing follows."""

    reason: FinishReason
    type: ClassVar[str] = "done"


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """The generation failed; what was streamed before stays valid. Nothing follows."""

    message: str
    kind: str
    type: ClassVar[str] = "error"


StreamEvent = (
    ThinkingText
    | AnswerText
    | WaitInjected
    | ThinkingEnd
    | BudgetAdjusted
    | Stats
    | Done
    | ErrorEvent
)


def event_to_dict(event: StreamEvent) -> dict[str, Any]:
    """A JSON-ready mapping with ``type`` first (the CLI's ``--json`` format)."""
    fields = asdict(event)
    for key, value in fields.items():
        if isinstance(value, CloseReason | FinishReason):
            fields[key] = value.value
    return {"type": event.type, **fields}
