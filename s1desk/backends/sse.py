"""Server-sent events as OpenAI-compatible servers stream them: ``data:`` lines of JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from s1desk.backends.remote_body import parse_json, short
from s1desk.backends.remote_errors import MalformedStreamError

DONE = "[DONE]"


async def json_events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """Yield each ``data:`` payload as a JSON object until ``data: [DONE]``.

    Comments, ``event:``/``id:``/``retry:`` fields and blank lines are skipped.
    Anything else that is not a JSON object (too deep nesting included) raises
    :class:`MalformedStreamError` with the offending text (shortened).
    """
    async for raw in lines:
        line = raw.rstrip("\r")
        if not line or line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field in ("event", "id", "retry"):
            continue
        if field != "data":
            raise MalformedStreamError(
                f"The server sent a line that is not an event: {short(line)}"
            )
        if value.strip() == DONE:
            return
        try:
            payload = parse_json(value)
        except ValueError as exc:
            raise MalformedStreamError(
                f"The server sent stream data that is not JSON: {short(value)} ({exc})"
            ) from exc
        if not isinstance(payload, dict):
            raise MalformedStreamError(f"The server sent unexpected stream data: {short(value)}")
        yield payload
