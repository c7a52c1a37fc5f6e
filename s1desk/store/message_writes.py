"""The SQL that writes messages: a new answer, a streamed answer's state, an imported message."""

from __future__ import annotations

import sqlite3

from s1desk.sampling import SamplerSettings
from s1desk.store import codec
from s1desk.store.records import AnswerSnapshot, Message, MessageStatus
from s1desk.thinking.policy import BudgetPolicy


def insert_answer(
    db: sqlite3.Connection,
    conversation_id: int,
    position: int,
    *,
    writer: str | None,
    policy: BudgetPolicy | None,
    sampler: SamplerSettings | None,
    backend: str | None,
    model: str | None,
    now: float,
) -> int:
    """Append an empty ``streaming`` answer written by ``writer``, chosen among the answers
    to its question (the versions before it stay, unchosen); its id."""
    unchoose_trailing_answers(db, conversation_id)
    cursor = db.execute(
        "INSERT INTO messages (conversation_id, position, role, status, writer, policy, "
        "sampler, backend, model, created, updated, chosen) "
        "VALUES (?, ?, 'assistant', 'streaming', ?, ?, ?, ?, ?, ?, ?, 1)",
        (
            conversation_id,
            position,
            writer,
            codec.dumps(policy),
            codec.dumps(sampler),
            backend,
            model,
            now,
            now,
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def unchoose_trailing_answers(db: sqlite3.Connection, conversation_id: int) -> None:
    """Unmark the answers to the conversation's last question (a new version comes)."""
    db.execute(
        "UPDATE messages SET chosen = 0 WHERE conversation_id = ? AND role = 'assistant' "
        "AND chosen != 0 AND position > (SELECT coalesce(max(position), -1) FROM messages "
        "WHERE conversation_id = ? AND role = 'user')",
        (conversation_id, conversation_id),
    )


def choose_answer(db: sqlite3.Connection, message_id: int) -> bool:
    """Mark answer ``message_id`` chosen and its question's other answers not; False if
    there is no such answer."""
    row = db.execute(
        "SELECT conversation_id, position FROM messages WHERE id = ? AND role = 'assistant'",
        (message_id,),
    ).fetchone()
    if row is None:
        return False
    conversation_id, position = row
    db.execute(
        "UPDATE messages SET chosen = (id = ?) WHERE conversation_id = ? AND role = 'assistant' "
        "AND position > (SELECT coalesce(max(position), -1) FROM messages "
        "  WHERE conversation_id = ? AND role = 'user' AND position < ?) "
        "AND position < (SELECT coalesce(min(position), 9223372036854775807) FROM messages "
        "  WHERE conversation_id = ? AND role = 'user' AND position > ?)",
        (message_id, conversation_id, conversation_id, position, conversation_id, position),
    )
    return True


def update_answer(
    db: sqlite3.Connection, message_id: int, snapshot: AnswerSnapshot, now: float
) -> int:
    """Write a streamed answer's state; how many rows changed (0: there is no such answer).

    The writer stays recorded while the answer streams and is cleared once it ends.
    """
    end = snapshot.thinking_end
    streaming = snapshot.status is MessageStatus.STREAMING
    cursor = db.execute(
        "UPDATE messages SET text = ?, reasoning = ?, waits = ?, thinking_end_reason = ?, "
        "thinking_end_token = ?, thinking_end_offset = ?, stats = ?, budget_adjusted = ?, "
        "status = ?, finish_reason = ?, error = ?, updated = ?, "
        "writer = CASE WHEN ? THEN writer END WHERE id = ? AND role = 'assistant'",
        (
            snapshot.text,
            snapshot.reasoning,
            codec.dumps(snapshot.waits) or "[]",
            None if end is None else end.reason.value,
            None if end is None else end.at_token,
            None if end is None else end.offset,
            codec.dumps(snapshot.stats),
            codec.dumps(snapshot.budget_adjusted),
            snapshot.status.value,
            None if snapshot.finish_reason is None else snapshot.finish_reason.value,
            codec.dumps(snapshot.error),
            now,
            streaming,
            message_id,
        ),
    )
    return cursor.rowcount


def insert_message(db: sqlite3.Connection, conversation_id: int, position: int, m: Message) -> None:
    """Add an imported message with its own timestamps; one left streaming is interrupted."""
    end = m.thinking_end
    status = MessageStatus.INTERRUPTED if m.status is MessageStatus.STREAMING else m.status
    db.execute(
        "INSERT INTO messages (conversation_id, position, role, text, reasoning, "
        "waits, thinking_end_reason, thinking_end_token, thinking_end_offset, "
        "policy, sampler, stats, budget_adjusted, backend, model, status, "
        "finish_reason, error, created, updated, chosen) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            conversation_id,
            position,
            m.role,
            m.text,
            m.reasoning,
            codec.dumps(m.waits) or "[]",
            None if end is None else end.reason.value,
            None if end is None else end.at_token,
            None if end is None else end.offset,
            codec.dumps(m.policy),
            codec.dumps(m.sampler),
            codec.dumps(m.stats),
            codec.dumps(m.budget_adjusted),
            m.backend,
            m.model,
            status.value,
            None if m.finish_reason is None else m.finish_reason.value,
            codec.dumps(m.error),
            codec.timestamp(m.created),
            codec.timestamp(m.updated),
            int(m.chosen and m.role == "assistant"),
        ),
    )
