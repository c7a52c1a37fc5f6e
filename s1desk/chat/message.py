"""One assistant message, filled in live from a backend's stream of events."""

from __future__ import annotations

import logging
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
from s1desk.thinking.machine import CloseReason, FinishReason, Phase
from s1desk.thinking.policy import BudgetPolicy

log = logging.getLogger(__name__)

#: The error kind of a reply that failed outside the stream (the window closed, the stream
#: broke off).
APP_ERROR = "app"


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


@dataclass
class AssistantMessage:
    """The reply to one user message, as it streams and once finished.

    This is the one reader of a backend's :data:`~s1desk.events.StreamEvent`
    values: the views show what it holds and the store saves it
    (:mod:`s1desk.chat.recording`); restoring a saved answer rebuilds it.
    Live thinking-token counts are estimated from the stream (one text event
    per token for the local backend) and replaced by the exact figure at
    ``ThinkingEnd``. ``phase`` is the generation's (thinking, answering,
    finished); ``error`` says a finished reply failed.
    """

    policy: BudgetPolicy
    clock: Callable[[], float] = time.monotonic
    source: str = ""  # the backend that wrote it ("" when unknown, e.g. restored)
    pieces: list[ReasoningPiece] = field(default_factory=list)
    answer_parts: list[str] = field(default_factory=list)
    phase: Phase = Phase.THINKING
    thinking_tokens: int = 0
    answer_tokens: int = 0
    waits: int = 0
    close_reason: CloseReason | None = None
    finish_reason: FinishReason | None = None
    stats: Stats | None = None
    error: str | None = None
    error_kind: str = ""
    budget_adjusted: BudgetAdjusted | None = None
    notice: str | None = None
    started_at: float = 0.0
    first_token_at: float | None = None
    thinking_ended_at: float | None = None
    ended_at: float | None = None
    revision: int = 0  # events folded so far: a reader compares it to see what changed

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
        return self.phase is Phase.FINISHED

    @property
    def waiting(self) -> bool:
        """Sent, and nothing streamed yet (the prompt is being read)."""
        return self.phase is Phase.THINKING and not self.pieces

    @property
    def thinking_seconds(self) -> float:
        """Time spent thinking so far (from sending to the end of thinking)."""
        if self.stats is not None and self.stats.thinking_s > 0:
            return self.stats.thinking_s
        end = self.thinking_ended_at or self.ended_at or self.clock()
        return max(0.0, end - self.started_at)

    def apply(self, event: StreamEvent) -> None:
        """Fold one event into the message; nothing follows ``Done`` or an error."""
        if self.finished:
            log.warning("%s after the end of the stream, ignored", event.type)
            return
        now = self.clock()
        self.revision += 1
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
                self.budget_adjusted = event
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
                self.phase = Phase.FINISHED
                self.ended_at = now
            case ErrorEvent(message=message, kind=kind):
                self._failed(message, kind, now)

    def fail(self, message: str) -> None:
        """Mark the message failed for a reason outside the stream."""
        self.revision += 1
        self._failed(message, APP_ERROR, self.clock())

    def _failed(self, message: str, kind: str, now: float) -> None:
        self.error = message
        self.error_kind = kind
        self.phase = Phase.FINISHED
        self.ended_at = now

    def _add_text(self, text: str) -> None:
        # One piece per event: appending never copies what came before, so a
        # 30,000-token trace costs the same per token at the end as at the start.
        self.pieces.append(ReasoningPiece(PieceKind.TEXT, text, at=self.thinking_tokens - 1))
