"""JSON forms of the values kept with a message, read back with checks that name the field."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from s1desk.errors import S1DeskError
from s1desk.store.errors import ImportFormatError
from s1desk.store.records import ThinkingEndMark, WaitMark
from s1desk.thinking.machine import CloseReason

T = TypeVar("T")


def to_plain(value: Any) -> dict[str, Any]:
    """A frozen dataclass as a JSON-ready mapping (enums by value, no class-level fields)."""
    out: dict[str, Any] = {}
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        out[field.name] = item.value if isinstance(item, Enum) else item
    return out


def dumps(value: Any) -> str | None:
    """A dataclass (or a tuple of them) as compact JSON; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return json.dumps([to_plain(v) for v in value], ensure_ascii=False)
    return json.dumps(to_plain(value), ensure_ascii=False)


#: SQLite's integers are 64-bit; a larger one cannot be stored (nor is it a real count).
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages about huge inputs."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        return "a huge number"
    try:
        text = repr(value)
    except RecursionError:
        return "a deeply nested value"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_text(value: str, where: str) -> str:
    """``value`` if it can be stored as UTF-8 (no lone surrogates, as ``"\\ud800"`` gives)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ImportFormatError(
            f"{where}: not valid Unicode text (a lone surrogate at character {exc.start})"
        ) from None
    return value


def _check(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _check(value, option, where)
            except ImportFormatError as exc:
                errors.append(exc)
        raise errors[0]
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in hint)
            raise ImportFormatError(
                f"{where}: expected one of {allowed}, got {short(value)}"
            ) from None
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ImportFormatError(f"{where}: expected a number, got {short(value)}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            if not INT_MIN <= value <= INT_MAX:
                raise ImportFormatError(f"{where}: the integer {short(value)} is out of range")
            return value
        raise ImportFormatError(f"{where}: expected an integer, got {short(value)}")
    if hint is str:
        if isinstance(value, str):
            return check_text(value, where)
        raise ImportFormatError(f"{where}: expected a string, got {short(value)}")
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ImportFormatError(f"{where}: expected true or false, got {short(value)}")
    raise TypeError(f"no JSON reading for {hint!r}")  # a programming error, not bad input


def from_plain(cls: type[T], data: Any, where: str) -> T:
    """Build dataclass ``cls`` from a mapping, checking every field's type.

    Fields missing from ``data`` take their defaults; unknown keys are an
    error. Bad input raises :class:`ImportFormatError` naming ``where``.
    """
    if not isinstance(data, Mapping):
        raise ImportFormatError(f"{where}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ImportFormatError(f"{where}: unknown field(s) {', '.join(unknown)}")
    kwargs = {key: _check(value, hints[key], f"{where}.{key}") for key, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise ImportFormatError(f"{where}: {exc}") from None
    except S1DeskError as exc:  # the value's own checks (a policy out of range, say)
        raise ImportFormatError(f"{where}: {exc}") from None


def loads(cls: type[T], text: str | None) -> T | None:
    """Read back what :func:`dumps` wrote for one dataclass."""
    if text is None:
        return None
    return from_plain(cls, json.loads(text), cls.__name__)


def waits_from_plain(data: Any, where: str) -> tuple[WaitMark, ...]:
    if not isinstance(data, list):
        raise ImportFormatError(f"{where}: expected a list, got {type(data).__name__}")
    return tuple(from_plain(WaitMark, item, f"{where}[{i}]") for i, item in enumerate(data))


def load_waits(text: str) -> tuple[WaitMark, ...]:
    return waits_from_plain(json.loads(text), "waits")


def thinking_end(
    reason: str | None, at_token: int | None, offset: int | None
) -> ThinkingEndMark | None:
    """The thinking-end mark from its three columns (all ``NULL`` when thinking never closed)."""
    if reason is None or at_token is None or offset is None:
        return None
    return ThinkingEndMark(CloseReason(reason), at_token, offset)


def timestamp(moment: datetime) -> float:
    """Seconds since the epoch, as stored."""
    return moment.timestamp()


def moment(seconds: float) -> datetime:
    """A stored timestamp as an aware UTC datetime (microsecond resolution)."""
    return datetime.fromtimestamp(seconds, UTC)


def now() -> datetime:
    return datetime.now(UTC)
