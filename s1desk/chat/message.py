"""One assistant message, filled in live from a backend's stream of events."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from s1desk.events import (
    AnswerText,
    BudgetAdjusted,
    Done,
    ErrorEvent,
    Stats,
    StreamEvent,
    ThinkingEnd,
    ThinkingText,
    WaitInjected,
)
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.thinking.policy import BudgetPolicy


class PieceKind(Enum):
    """What a run of reasoning text is."""

    TEXT = "text"  # the model's own thinking
    WAIT = "wait"  # an injected extension ("Wait"), marked inline
    CUT = "cut"  # the budget cap closed thinking here
    END = "end"  # thinking ended on its own, or was off


@dataclass(frozen=True, slots=True)
class ReasoningPiece:
    """A run of reasoning text; ``kind`` tells a view how to mark it."""

    kind: PieceKind
    text: str
    index: int = 0  # the Wait number, from 1
    at: int = 0  # thinking tokens before this piece


class Phase(Enum):
    """Where an assistant message stands."""

    WAITING = "waiting"  # sent; nothing streamed yet
    THINKING = "thinking"
    ANSWERING = "answering"
    DONE = "done"
    FAILED = "failed"


@dataclass
class AssistantMessage:
    """The reply to one user message, as it streams and once finished.

    Live thinking-token counts are estimated from the stream (one text event
    per token for the local backend) and replaced by the exact figure at
    ``ThinkingEnd``.
    """

    policy: BudgetPolicy
    clock: Callable[[], float] = time.monotonic
    pieces: list[ReasoningPiece] = field(default_factory=list)
    answer_parts: list[str] = field(default_factory=list)
    phase: Phase = Phase.WAITING
    thinking_tokens: int = 0
    answer_tokens: int = 0
    waits: int = 0
    close_reason: CloseReason | None = None
    finish_reason: FinishReason | None = None
    stats: Stats | None = None
    error: str | None = None
    notice: str | None = None
    started_at: float = 0.0
    first_token_at: float | None = None
    thinking_ended_at: float | None = None
    ended_at: float | None = None

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    @property
    def reasoning(self) -> str:
        """The thinking text as the model saw it (Waits included, markers not)."""
        return "".join(p.text for p in self.pieces if p.kind in (PieceKind.TEXT, PieceKind.WAIT))

    @property
    def answer(self) -> str:
        return "".join(self.answer_parts)

    @property
    def finished(self) -> bool:
        return self.phase in (Phase.DONE, Phase.FAILED)

    @property
    def thinking_seconds(self) -> float:
        """Time spent thinking so far (from sending to the end of thinking)."""
        if self.stats is not None and self.stats.thinking_s > 0:
            return self.stats.thinking_s
        end = self.thinking_ended_at or self.ended_at or self.clock()
        return max(0.0, end - self.started_at)

    def apply(self, event: StreamEvent) -> None:
        """Fold one event into the message."""
        now = self.clock()
        if isinstance(event, ThinkingText | AnswerText) and self.first_token_at is None:
            self.first_token_at = now
        match event:
            case ThinkingText(text=text):
                self.phase = Phase.THINKING
                self.thinking_tokens += 1
                self._add_text(text)
            case WaitInjected(text=text, at=at, index=index):
                self.phase = Phase.THINKING
                self.waits = index
                self.thinking_tokens = max(self.thinking_tokens, at) + 1
                self.pieces.append(ReasoningPiece(PieceKind.WAIT, text, index=index, at=at))
            case ThinkingEnd(reason=reason, thinking_tokens=tokens):
                self.close_reason = reason
                self.thinking_tokens = tokens
                self.thinking_ended_at = now
                self.phase = Phase.ANSWERING
                kind = PieceKind.CUT if reason is CloseReason.CAP else PieceKind.END
                self.pieces.append(ReasoningPiece(kind, "", at=tokens))
            case AnswerText(text=text):
                self.phase = Phase.ANSWERING
                self.answer_tokens += 1
                self.answer_parts.append(text)
            case BudgetAdjusted(max_thinking=cap, min_thinking=floor, message=message):
                self.policy = BudgetPolicy(
                    max_thinking=cap,
                    min_thinking=floor,
                    max_waits=self.policy.max_waits,
                    wait_text=self.policy.wait_text,
                    cap_suffix=self.policy.cap_suffix,
                    max_answer=self.policy.max_answer,
                )
                self.notice = message
            case Stats():
                self.stats = event
                self.thinking_tokens = event.thinking_tokens
                self.answer_tokens = event.answer_tokens
                self.waits = event.waits
            case Done(reason=reason):
                self.finish_reason = reason
                self.phase = Phase.DONE
                self.ended_at = now
            case ErrorEvent(message=message):
                self.error = message
                self.phase = Phase.FAILED
                self.ended_at = now

    def fail(self, message: str) -> None:
        """Mark the message failed for a reason outside the stream."""
        self.error = message
        self.phase = Phase.FAILED
        self.ended_at = self.clock()

    def _add_text(self, text: str) -> None:
        # One piece per event: appending never copies what came before, so a
        # 30,000-token trace costs the same per token at the end as at the start.
        self.pieces.append(ReasoningPiece(PieceKind.TEXT, text, at=self.thinking_tokens - 1))
