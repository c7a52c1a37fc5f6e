"""Writes a streamed answer to the store as it arrives, in small batches."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

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
from s1desk.store.records import AnswerSnapshot, MessageStatus, ThinkingEndMark, WaitMark
from s1desk.thinking.machine import FinishReason

log = logging.getLogger(__name__)

#: Write at least this often while events arrive…
FLUSH_SECONDS = 0.5
#: …or after this many events, whichever comes first.
FLUSH_EVENTS = 64


class AnswerSink(Protocol):
    """Where a recorder writes (the store)."""

    def save_answer(self, message_id: int, snapshot: AnswerSnapshot) -> None:
        """Replace the stored state of answer ``message_id`` with ``snapshot``."""
        ...


class MessageRecorder:
    """Feeds on one generation's events and keeps its message in the store current.

    Every flush writes the whole answer so far in one small transaction, so a
    failed write (a full disk, say) is retried whole by the next one and the
    database always holds a consistent prefix. Until ``Done`` arrives the
    message is ``streaming``; a process that dies leaves it to be marked
    ``interrupted`` when the store is next opened. ``Done(cancelled)`` and a
    recorder closed before the end mark it ``interrupted`` at once; an
    ``ErrorEvent`` marks it ``error``.

    Write errors surface as :class:`~s1desk.store.errors.StoreError` from
    :meth:`feed`, :meth:`flush` or :meth:`close`; nothing fed is lost, and the
    next flush writes it.
    """

    def __init__(
        self,
        sink: AnswerSink,
        message_id: int,
        *,
        flush_seconds: float = FLUSH_SECONDS,
        flush_events: int = FLUSH_EVENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sink = sink
        self.message_id = message_id
        self._flush_seconds = flush_seconds
        self._flush_events = flush_events
        self._clock = clock
        self._last_flush = clock()
        self._unsaved = 0
        self._reasoning: list[str] = []
        self._reasoning_chars = 0
        self._answer: list[str] = []
        self._waits: list[WaitMark] = []
        self._thinking_end: ThinkingEndMark | None = None
        self._stats: Stats | None = None
        self._adjusted: BudgetAdjusted | None = None
        self._status = MessageStatus.STREAMING
        self._finish: FinishReason | None = None
        self._error: ErrorEvent | None = None
        self.flushes = 0

    @property
    def status(self) -> MessageStatus:
        return self._status

    @property
    def finished(self) -> bool:
        """True once ``Done`` or an ``ErrorEvent`` was fed, or the recorder closed."""
        return self._status is not MessageStatus.STREAMING

    @property
    def pending(self) -> int:
        """Events fed since the last successful write."""
        return self._unsaved

    def feed(self, event: StreamEvent) -> None:
        """Take one event; writes when a batch is due and at the end of the stream."""
        if self.finished:
            log.warning(
                "message %d: %s after the end of the stream, ignored", self.message_id, event.type
            )
            return
        urgent = False
        match event:
            case ThinkingText(text=text):
                self._add_reasoning(text)
            case WaitInjected(text=text, at=at, index=index):
                self._waits.append(WaitMark(index, at, self._reasoning_chars, text))
                self._add_reasoning(text)
            case ThinkingEnd(reason=reason, thinking_tokens=tokens):
                self._thinking_end = ThinkingEndMark(reason, tokens, self._reasoning_chars)
                urgent = True  # the reasoning is whole: save it before the answer starts
            case AnswerText(text=text):
                self._answer.append(text)
            case Stats():
                self._stats = event
            case BudgetAdjusted():
                self._adjusted = event
            case Done(reason=reason):
                self._finish = reason
                cancelled = reason is FinishReason.CANCELLED
                self._status = MessageStatus.INTERRUPTED if cancelled else MessageStatus.COMPLETE
                urgent = True
            case ErrorEvent():
                self._error = event
                self._status = MessageStatus.ERROR
                urgent = True
        self._unsaved += 1
        if (
            urgent
            or self._unsaved >= self._flush_events
            or self._clock() - self._last_flush >= self._flush_seconds
        ):
            self.flush()

    def flush_if_due(self) -> None:
        """Write a pending batch whose time has come (for a timer while the stream stalls)."""
        if self._unsaved and self._clock() - self._last_flush >= self._flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write what was fed so far, if anything changed."""
        if not self._unsaved:
            return
        self._sink.save_answer(self.message_id, self.snapshot())
        self._unsaved = 0
        self._last_flush = self._clock()
        self.flushes += 1

    def close(self) -> None:
        """End recording: a stream that never finished is saved as ``interrupted``."""
        if not self.finished:
            self._status = MessageStatus.INTERRUPTED
            self._unsaved += 1
        self.flush()

    def __enter__(self) -> MessageRecorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def snapshot(self) -> AnswerSnapshot:
        """The answer as fed so far."""
        self._answer = ["".join(self._answer)]
        self._reasoning = ["".join(self._reasoning)]
        return AnswerSnapshot(
            text=self._answer[0],
            reasoning=self._reasoning[0],
            waits=tuple(self._waits),
            thinking_end=self._thinking_end,
            stats=self._stats,
            budget_adjusted=self._adjusted,
            status=self._status,
            finish_reason=self._finish,
            error=self._error,
        )

    def _add_reasoning(self, text: str) -> None:
        self._reasoning.append(text)
        self._reasoning_chars += len(text)
