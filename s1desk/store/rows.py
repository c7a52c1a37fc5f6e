"""Rows read back from the database as values; a damaged column is noted and left out, not raised.

The database is a file on the user's disk: another program, a sync tool or a
person may have changed it. A column that no longer reads back (JSON that does
not parse, an unknown status, a timestamp out of range, a number where text
belongs) costs that column only: the value falls back to its default, the
record's ``damage`` says which column and why, and a warning is logged. A
message whose role is unknown cannot be shown as either side and is skipped,
also with a warning. The rest of the history opens as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from s1desk.errors import S1DeskError
from s1desk.events import BudgetAdjusted, ErrorEvent, Stats
from s1desk.sampling import SamplerSettings
from s1desk.store import codec
from s1desk.store.records import (
    Conversation,
    Message,
    MessageStatus,
    Role,
    ThinkingEndMark,
    WaitMark,
)
from s1desk.thinking.machine import FinishReason
from s1desk.thinking.policy import BudgetPolicy

log = logging.getLogger(__name__)

T = TypeVar("T")

#: What reading a tampered column can raise: bad JSON (a ValueError), a value
#: out of range, the wrong type, nesting past the recursion limit, a field check.
_DAMAGE = (ValueError, TypeError, OverflowError, OSError, RecursionError, S1DeskError)

#: Shown for a timestamp that does not read back.
EPOCH = datetime.fromtimestamp(0, UTC)

CONVERSATION_COLUMNS = "id, title, created, updated, backend, model, deleted"
MESSAGE_COLUMNS = (
    "id, conversation_id, position, role, text, created, updated, status, reasoning, waits, "
    "thinking_end_reason, thinking_end_token, thinking_end_offset, policy, sampler, stats, "
    "budget_adjusted, backend, model, finish_reason, error, chosen"
)


class _Reader:
    """Reads the columns of one row, collecting what could not be read."""

    def __init__(self) -> None:
        self.damage: list[str] = []

    def get(self, column: str, read: Callable[[], T], fallback: T) -> T:
        try:
            return read()
        except _DAMAGE as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            self.damage.append(f"{column}: {reason or type(exc).__name__}")
            return fallback

    def text(self, column: str, value: Any) -> str:
        if isinstance(value, str):
            return value
        if value is None:
            return ""
        if isinstance(value, bytes):
            self.damage.append(f"{column}: stored as bytes, not text")
            return value.decode("utf-8", "replace")
        self.damage.append(f"{column}: stored as {type(value).__name__}, not text")
        return str(value)

    def optional_text(self, column: str, value: Any) -> str | None:
        return None if value is None else self.text(column, value)

    def moment(self, column: str, value: Any) -> datetime:
        return self.get(column, lambda: codec.moment(_number(value)), EPOCH)


def safe_moment(value: Any) -> datetime:
    """A stored timestamp, or :data:`EPOCH` when it does not read back (logged)."""
    r = _Reader()
    moment = r.moment("created", value)
    if r.damage:
        log.warning("history: a damaged timestamp (%s) shown as %s", r.damage[0], EPOCH)
    return moment


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def _flag(value: Any) -> bool:
    if value not in (0, 1) or isinstance(value, float):
        raise TypeError(f"expected 0 or 1, got {value!r}")
    return bool(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return int(value)


def conversation(row: Sequence[Any]) -> Conversation:
    """A conversation from the columns in :data:`CONVERSATION_COLUMNS`."""
    r = _Reader()
    deleted = row[6]
    result = Conversation(
        id=row[0],
        title=r.text("title", row[1]),
        created=r.moment("created", row[2]),
        updated=r.moment("updated", row[3]),
        backend=r.optional_text("backend", row[4]),
        model=r.optional_text("model", row[5]),
        deleted=None if deleted is None else r.moment("deleted", deleted),
        damage=tuple(r.damage),
    )
    if r.damage:
        log.warning(
            "history: conversation %s is damaged (%s); shown without those columns",
            row[0],
            "; ".join(r.damage),
        )
    return result


def _role(value: Any) -> Role | None:
    if value == "user":
        return "user"
    if value == "assistant":
        return "assistant"
    return None


def _marks_inside(waits: Sequence[Any], end: ThinkingEndMark | None, reasoning: str) -> bool:
    for mark in (*waits, *([end] if end else [])):
        if not 0 <= mark.offset <= len(reasoning):
            raise ValueError(f"a mark at character {mark.offset} lies outside the reasoning")
    return True


def _thinking_end(reason: Any, at_token: Any, offset: Any) -> ThinkingEndMark | None:
    if reason is None or at_token is None or offset is None:
        return None
    return codec.thinking_end(reason, _int(at_token), _int(offset))


def position_damaged(message: Message) -> bool:
    """Whether ``message`` lost its position (so the order of its conversation is unsure)."""
    return any(note.startswith("position:") for note in message.damage)


def message(row: Sequence[Any]) -> Message | None:
    """A message from the columns in :data:`MESSAGE_COLUMNS`; None (and a warning) if its
    role is unknown, since it can then be shown as neither a question nor an answer."""
    role = _role(row[3])
    if role is None:
        log.warning("history: message %s has an unknown role %r; it is skipped", row[0], row[3])
        return None
    r = _Reader()
    reasoning = r.text("reasoning", row[8])
    no_waits: tuple[WaitMark, ...] = ()
    waits = r.get("waits", lambda: codec.load_waits(row[9]), no_waits)
    end = r.get("thinking_end", lambda: _thinking_end(row[10], row[11], row[12]), None)
    if not r.get("marks", lambda: _marks_inside(waits, end, reasoning), False):
        waits, end = no_waits, None
    finish = row[19]
    result = Message(
        id=row[0],
        conversation_id=row[1],
        position=r.get("position", lambda: _int(row[2]), 0),
        role=role,
        text=r.text("text", row[4]),
        created=r.moment("created", row[5]),
        updated=r.moment("updated", row[6]),
        status=r.get("status", lambda: MessageStatus(row[7]), MessageStatus.INTERRUPTED),
        reasoning=reasoning,
        waits=waits,
        thinking_end=end,
        policy=r.get("policy", lambda: codec.loads(BudgetPolicy, row[13]), None),
        sampler=r.get("sampler", lambda: codec.loads(SamplerSettings, row[14]), None),
        stats=r.get("stats", lambda: codec.loads(Stats, row[15]), None),
        budget_adjusted=r.get(
            "budget_adjusted", lambda: codec.loads(BudgetAdjusted, row[16]), None
        ),
        backend=r.optional_text("backend", row[17]),
        model=r.optional_text("model", row[18]),
        finish_reason=None
        if finish is None
        else r.get("finish_reason", lambda: FinishReason(finish), None),
        error=r.get("error", lambda: codec.loads(ErrorEvent, row[20]), None),
        chosen=r.get("chosen", lambda: _flag(row[21]), False),
        damage=tuple(r.damage),
    )
    if r.damage:
        log.warning(
            "history: message %s is damaged (%s); shown without those columns",
            row[0],
            "; ".join(r.damage),
        )
    return result
