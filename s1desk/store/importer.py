"""Reading a JSON conversation export back, with a clear message for any flaw."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from s1desk.events import BudgetAdjusted, ErrorEvent, Stats
from s1desk.sampling import SamplerSettings
from s1desk.store import codec
from s1desk.store.errors import ImportFormatError
from s1desk.store.export import SCHEMA, VERSION
from s1desk.store.records import Conversation, Message, MessageStatus, Role, ThinkingEndMark
from s1desk.thinking.machine import FinishReason
from s1desk.thinking.policy import BudgetPolicy

_CONVERSATION_KEYS = {"title", "created", "updated", "backend", "model"}
_MESSAGE_KEYS = {
    "role", "text", "status", "created", "updated", "reasoning", "waits", "thinking_end",
    "policy", "sampler", "stats", "budget_adjusted", "backend", "model", "finish_reason", "error",
    "chosen",
}  # fmt: skip


def _object(value: Any, where: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportFormatError(f"{where}: expected an object, got {type(value).__name__}")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise ImportFormatError(f"{where}: unknown field(s) {', '.join(unknown)}")
    return value


def _string(data: dict[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
    if key not in data:
        if optional:
            return None
        raise ImportFormatError(f"{where}: the field {key!r} is missing")
    value = data[key]
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ImportFormatError(f"{where}.{key}: expected a string, got {codec.short(value)}")
    return codec.check_text(value, f"{where}.{key}")


def _time(data: dict[str, Any], key: str, where: str) -> datetime:
    text = _string(data, key, where)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ImportFormatError(
            f"{where}.{key}: not an ISO 8601 time: {codec.short(text)}"
        ) from None
    if moment.tzinfo is None:
        raise ImportFormatError(f"{where}.{key}: the time {text!r} has no time zone")
    try:
        utc = moment.astimezone(UTC)
        codec.moment(codec.timestamp(utc))  # the store must be able to read it back
    except (OverflowError, ValueError, OSError):
        raise ImportFormatError(
            f"{where}.{key}: the time {text!r} is out of range (years 1 to 9999 in UTC)"
        ) from None
    return utc


def _role(value: Any, where: str) -> Role:
    if value == "user":
        return "user"
    if value == "assistant":
        return "assistant"
    raise ImportFormatError(
        f"{where}.role: expected 'user' or 'assistant', got {codec.short(value)}"
    )


def _optional(cls: type[Any], data: dict[str, Any], key: str, where: str) -> Any:
    value = data.get(key)
    return None if value is None else codec.from_plain(cls, value, f"{where}.{key}")


def _flag(data: dict[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ImportFormatError(f"{where}.{key}: expected true or false, got {codec.short(value)}")
    return value


def _message(data: Any, where: str) -> Message:
    data = _object(data, where, _MESSAGE_KEYS)
    role = _role(data.get("role"), where)
    status_text = _string(data, "status", where, optional=True) or "complete"
    try:
        status = MessageStatus(status_text)
    except ValueError:
        raise ImportFormatError(f"{where}.status: unknown status {status_text!r}") from None
    finish_text = _string(data, "finish_reason", where, optional=True)
    try:
        finish = None if finish_text is None else FinishReason(finish_text)
    except ValueError:
        raise ImportFormatError(f"{where}.finish_reason: unknown reason {finish_text!r}") from None
    reasoning = _string(data, "reasoning", where, optional=True) or ""
    waits = codec.waits_from_plain(data.get("waits", []), f"{where}.waits")
    end = _optional(ThinkingEndMark, data, "thinking_end", where)
    for mark in (*waits, *([end] if end else [])):
        if mark.at_token < 0:
            raise ImportFormatError(f"{where}: a mark at token {mark.at_token} (below 0)")
        if not 0 <= mark.offset <= len(reasoning):
            raise ImportFormatError(
                f"{where}: a mark at character {mark.offset} lies outside the reasoning "
                f"({len(reasoning)} characters)"
            )
    return Message(
        id=0,
        conversation_id=0,
        position=0,
        role=role,
        text=_string(data, "text", where),
        created=_time(data, "created", where),
        updated=_time(data, "updated", where),
        status=status,
        reasoning=reasoning,
        waits=waits,
        thinking_end=end,
        policy=_optional(BudgetPolicy, data, "policy", where),
        sampler=_optional(SamplerSettings, data, "sampler", where),
        stats=_optional(Stats, data, "stats", where),
        budget_adjusted=_optional(BudgetAdjusted, data, "budget_adjusted", where),
        backend=_string(data, "backend", where, optional=True),
        model=_string(data, "model", where, optional=True),
        finish_reason=finish,
        error=_optional(ErrorEvent, data, "error", where),
        chosen=_flag(data, "chosen", where),
    )


def parse_export(text: str | bytes) -> tuple[Conversation, list[Message]]:
    """Read a JSON export; ids in the result are 0 until the store gives real ones.

    An export from before answers could be chosen (version 1) marks none: the store then
    goes on from the last answer to each question, as that version did.

    Raises :class:`ImportFormatError` saying what is wrong and where.
    """
    try:
        document = json.loads(text)
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"The file is not UTF-8 text ({exc.reason}).") from None
    except json.JSONDecodeError as exc:
        raise ImportFormatError(
            f"The file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except RecursionError:
        raise ImportFormatError(
            "The file is nested too deeply to be a conversation export."
        ) from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ImportFormatError(
            f'The file is not an s1desk conversation export (its "schema" is not {SCHEMA!r}).'
        )
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ImportFormatError(f'The export has no valid "version" (got {codec.short(version)}).')
    if version > VERSION:
        raise ImportFormatError(
            f"The export is version {version}, newer than this s1desk reads ({VERSION}); "
            "update s1desk to import it."
        )
    head = _object(document.get("conversation"), "conversation", _CONVERSATION_KEYS)
    conversation = Conversation(
        id=0,
        title=_string(head, "title", "conversation"),
        created=_time(head, "created", "conversation"),
        updated=_time(head, "updated", "conversation"),
        backend=_string(head, "backend", "conversation", optional=True),
        model=_string(head, "model", "conversation", optional=True),
    )
    items = document.get("messages")
    if not isinstance(items, list):
        raise ImportFormatError("messages: expected a list of messages")
    messages = [_message(item, f"messages[{i}]") for i, item in enumerate(items)]
    return conversation, messages
