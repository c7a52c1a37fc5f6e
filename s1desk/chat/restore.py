"""Stored messages turned back into a chat session's exchanges: the inverse of
:func:`s1desk.chat.recording.snapshot`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from s1desk.chat.exchange import Exchange
from s1desk.chat.message import AssistantMessage, PieceKind, ReasoningPiece
from s1desk.store import Message, MessageStatus
from s1desk.store.versions import answer_groups
from s1desk.thinking.machine import CloseReason, FinishReason, Phase
from s1desk.thinking.policy import BudgetPolicy

log = logging.getLogger(__name__)

#: Shown on an answer that did not finish (the app was closed or killed while it streamed).
INTERRUPTED_NOTICE = "Interrupted: the app stopped before this answer finished."


@dataclass(frozen=True, slots=True)
class StoredExchange:
    """Where exchange ``i`` of a restored session lives in the store."""

    question: str
    position: int  # of the question
    message_ids: tuple[int, ...] = ()  # the question's, then its answers' (one per version)

    @property
    def answer_ids(self) -> tuple[int, ...]:
        """The stored answers, in the order of the exchange's versions."""
        return self.message_ids[1:]


@dataclass
class Restored:
    """A conversation ready for the chat session, with its map back to the store."""

    exchanges: list[Exchange] = field(default_factory=list)
    stored: list[StoredExchange] = field(default_factory=list)


def restore(messages: Sequence[Message]) -> Restored:
    """The exchanges of a stored conversation, each with every answer version and the
    chosen one.

    A regenerated answer is stored after the earlier one; the chosen answer to a
    question (the last one when none is marked) is the one the conversation goes on
    from.
    """
    out = Restored()
    for group in answer_groups(messages):
        if group.question is None:
            for i in group.answers:
                log.warning("answer %d has no question before it; left out", messages[i].id)
            continue
        question = messages[group.question]
        exchange = Exchange(question.text)
        for i in group.answers:
            exchange.add_version(reply_from_message(messages[i]), None)
        exchange.chosen = group.chosen if group.answers else 0
        out.exchanges.append(exchange)
        ids = (question.id, *(messages[i].id for i in group.answers))
        out.stored.append(StoredExchange(question.text, question.position, ids))
    return out


def reasoning_pieces(message: Message) -> list[ReasoningPiece]:
    """The reasoning as pieces, with the Waits and the end of thinking where they were."""
    text = message.reasoning
    marks: list[tuple[int, int, ReasoningPiece]] = []
    for wait in message.waits:
        piece = ReasoningPiece(PieceKind.WAIT, wait.text, index=wait.index, at=wait.at_token)
        marks.append((wait.offset, 0, piece))
    end = message.thinking_end
    if end is not None:
        kind = PieceKind.CUT if end.reason is CloseReason.CAP else PieceKind.END
        marks.append((end.offset, 1, ReasoningPiece(kind, "", at=end.at_token)))
    marks.sort(key=lambda m: (m[0], m[1]))
    pieces: list[ReasoningPiece] = []
    at = 0
    for offset, _, piece in marks:
        offset = min(max(offset, at), len(text))
        if offset > at:
            pieces.append(ReasoningPiece(PieceKind.TEXT, text[at:offset], at=piece.at))
        pieces.append(piece)
        at = offset + len(piece.text)
    if at < len(text):
        pieces.append(ReasoningPiece(PieceKind.TEXT, text[at:]))
    return pieces


def reply_from_message(message: Message) -> AssistantMessage:
    """A finished :class:`AssistantMessage` showing a stored answer as it was.

    Recording it again gives the stored answer back (``interrupted`` stays
    ``interrupted``, with ``cancelled`` as its finish reason when none was
    stored)."""
    reply = AssistantMessage(
        policy=message.policy or BudgetPolicy(), clock=lambda: 0.0, source=message.backend or ""
    )
    reply.pieces = reasoning_pieces(message)
    if message.text:
        reply.answer_parts = [message.text]
    end = message.thinking_end
    reply.close_reason = None if end is None else end.reason
    reply.finish_reason = message.finish_reason
    reply.waits = len(message.waits)
    stats = message.stats
    if stats is not None:
        reply.stats = stats
        reply.thinking_tokens = stats.thinking_tokens
        reply.answer_tokens = stats.answer_tokens
        reply.waits = stats.waits
    else:  # a stream cut short: no figures, but how long it ran is known
        reply.ended_at = max(0.0, (message.updated - message.created).total_seconds())
        if end is not None:
            reply.thinking_tokens = end.at_token
        else:
            reply.thinking_tokens = sum(1 for p in reply.pieces if p.kind is PieceKind.TEXT)
    notices: list[str] = []
    reply.budget_adjusted = message.budget_adjusted
    if message.budget_adjusted is not None:
        notices.append(message.budget_adjusted.message)
    if message.status in (MessageStatus.INTERRUPTED, MessageStatus.STREAMING):
        notices.append(INTERRUPTED_NOTICE)
        if reply.finish_reason is None:
            reply.finish_reason = FinishReason.CANCELLED
    reply.notice = " ".join(notices) or None
    if message.status is MessageStatus.ERROR:
        error = message.error
        reply.error = error.message if error is not None else "Generation failed."
        reply.error_kind = error.kind if error is not None else ""
    reply.phase = Phase.FINISHED
    return reply
