"""Keeps a streaming reply's stored answer current: what the message says, in small batches."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from s1desk.chat.message import AssistantMessage, PieceKind
from s1desk.events import ErrorEvent, Stats, StreamEvent
from s1desk.sampling import SamplerSettings
from s1desk.store.history import HistoryStore
from s1desk.store.records import AnswerSnapshot, MessageStatus, ThinkingEndMark, WaitMark
from s1desk.thinking.machine import FinishReason, Phase
from s1desk.thinking.policy import BudgetPolicy

log = logging.getLogger(__name__)

#: A streaming answer is written at least this often (seconds)…
FLUSH_SECONDS = 0.5
#: …and after this many events: high, so a fast stream costs a write per interval, not per batch.
FLUSH_EVENTS = 4096


class AnswerSink(Protocol):
    """Where a recording writes (the store)."""

    def save_answer(self, message_id: int, snapshot: AnswerSnapshot) -> None:
        """Replace the stored state of answer ``message_id`` with ``snapshot``."""
        ...


def snapshot(message: AssistantMessage, *, closed: bool = False) -> AnswerSnapshot:
    """What the store keeps of ``message``: its text, its marks, how it ended.

    A message not finished is ``streaming``, or ``interrupted`` once ``closed``
    (recording stopped before its end); ``Done(cancelled)`` is ``interrupted``
    too. Offsets are character offsets into the reasoning.
    """
    reasoning: list[str] = []
    chars = 0
    waits: list[WaitMark] = []
    end: ThinkingEndMark | None = None
    for piece in message.pieces:
        match piece.kind:
            case PieceKind.WAIT:
                waits.append(WaitMark(piece.index, piece.at, chars, piece.text))
            case PieceKind.CUT | PieceKind.END if message.close_reason is not None:
                end = ThinkingEndMark(message.close_reason, piece.at, chars)
        reasoning.append(piece.text)
        chars += len(piece.text)
    if message.error is not None:
        status = MessageStatus.ERROR
    elif message.finished and message.finish_reason is not FinishReason.CANCELLED:
        status = MessageStatus.COMPLETE
    elif message.finished or closed:
        status = MessageStatus.INTERRUPTED
    else:
        status = MessageStatus.STREAMING
    error = None
    if message.error is not None:
        error = ErrorEvent(message.error, message.error_kind)
    return AnswerSnapshot(
        text=message.answer,
        reasoning="".join(reasoning),
        waits=tuple(waits),
        thinking_end=end,
        stats=message.stats or streamed_stats(message),
        budget_adjusted=message.budget_adjusted,
        status=status,
        finish_reason=message.finish_reason,
        error=error,
    )


def streamed_stats(message: AssistantMessage) -> Stats | None:
    """The figures of a reply that has no final ones yet (still streaming, or cut short by a
    stop, a crash or a kill): the tokens counted so far and the time they took, so a
    reopened reply keeps its true figures. ``None`` before the first token."""
    if message.first_token_at is None:
        return None
    now = message.ended_at or message.clock()
    total = max(0.0, now - message.started_at)
    produced = message.thinking_tokens + message.answer_tokens
    decoding = max(now - message.first_token_at, 1e-6)
    return Stats(
        prompt_tokens=0,
        cached_prompt_tokens=0,
        thinking_tokens=message.thinking_tokens,
        answer_tokens=message.answer_tokens,
        waits=message.waits,
        time_to_first_token_s=message.first_token_at - message.started_at,
        thinking_s=message.thinking_seconds,
        total_s=total,
        tokens_per_second=max(0, produced - 1) / decoding,
    )


class Recording:
    """Writes one streaming reply to the store, whole, in small batches.

    :meth:`update` is called after the message changed (the controller's
    batches); it writes when ``flush_seconds`` passed since the last write,
    after ``flush_events`` events, and at once when thinking ends or the
    reply finishes. Every write is the whole answer so far in one small
    transaction, so a failed write (a full disk, say) is retried whole by the
    next one and the database always holds a consistent prefix. Until the
    reply finishes the answer is ``streaming``; a process that dies leaves it
    to be marked ``interrupted`` when the store is next opened.

    Write errors surface as :class:`~s1desk.store.errors.StoreError` from
    :meth:`update`, :meth:`flush` or :meth:`close`; nothing is lost, the
    next write takes it.
    """

    def __init__(
        self,
        sink: AnswerSink,
        message_id: int,
        message: AssistantMessage,
        *,
        flush_seconds: float = FLUSH_SECONDS,
        flush_events: int = FLUSH_EVENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sink = sink
        self.message_id = message_id
        self.message = message
        self._flush_seconds = flush_seconds
        self._flush_events = flush_events
        self._clock = clock
        self._last_flush = clock()
        self._saved_revision = 0
        self._saved_phase = Phase.THINKING
        self._closed = False
        self._closed_saved = False
        self.flushes = 0

    @property
    def pending(self) -> int:
        """Events folded into the message since the last successful write."""
        return self.message.revision - self._saved_revision

    @property
    def closed(self) -> bool:
        return self._closed

    def feed(self, event: StreamEvent) -> None:
        """Fold ``event`` into the message (headless use: no controller folds it), then
        :meth:`update`."""
        self.message.apply(event)
        self.update()

    def update(self) -> None:
        """The message changed: write if a batch is due, or thinking ended, or it finished."""
        urgent = self.message.phase is not self._saved_phase
        if (
            urgent
            or self.pending >= self._flush_events
            or self._clock() - self._last_flush >= self._flush_seconds
        ):
            self.flush()

    def flush_if_due(self) -> None:
        """Write a pending batch whose time has come (for a timer while the stream stalls)."""
        if self.pending and self._clock() - self._last_flush >= self._flush_seconds:
            self.flush()

    def seconds_to_due(self) -> float:
        """How long until a pending batch is due."""
        return max(0.0, self._last_flush + self._flush_seconds - self._clock())

    def flush(self) -> None:
        """Write what the message holds, if anything changed since the last write."""
        # Closing changes what is saved only for a reply that never finished.
        closing = self._closed and not self._closed_saved and not self.message.finished
        if not self.pending and self.message.phase is self._saved_phase and not closing:
            return
        revision, phase = self.message.revision, self.message.phase
        self._sink.save_answer(self.message_id, snapshot(self.message, closed=self._closed))
        self._closed_saved = self._closed
        self._saved_revision = revision
        self._saved_phase = phase
        self._last_flush = self._clock()
        self.flushes += 1

    def close(self) -> None:
        """End recording: a reply that never finished is saved as ``interrupted``."""
        if not self._closed:
            self._closed = True
            self.flush()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def start_recording(
    store: HistoryStore,
    conversation_id: int,
    *,
    backend: str | None = None,
    model: str | None = None,
    policy: BudgetPolicy | None = None,
    sampler: SamplerSettings | None = None,
    flush_seconds: float = FLUSH_SECONDS,
    flush_events: int = FLUSH_EVENTS,
) -> Recording:
    """A new streaming answer in ``conversation_id``, and its recording over a fresh message."""
    message_id = store.start_answer(
        conversation_id, backend=backend, model=model, policy=policy, sampler=sampler
    )
    message = AssistantMessage(policy=policy or BudgetPolicy(), source=backend or "")
    return Recording(
        store, message_id, message, flush_seconds=flush_seconds, flush_events=flush_events
    )
