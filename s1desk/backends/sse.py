"""Server-sent events as OpenAI-compatible servers stream them: ``data:`` lines of JSON."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from s1desk.backends.remote_errors import MalformedStreamError

DONE = "[DONE]"


async def json_events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """Yield each ``data:`` payload as a JSON object until ``data: [DONE]``.

    Comments, ``event:``/``id:``/``retry:`` fields and blank lines are skipped.
    Anything else that is not a JSON object raises :class:`MalformedStreamError`
    with the offending text (shortened).
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
                f"The server sent a line that is not an event: {_short(line)}"
            )
        if value.strip() == DONE:
            return
        try:
            payload = json.loads(value)
        except json.JSONDecodeError as exc:
            raise MalformedStreamError(
                f"The server sent stream data that is not JSON: {_short(value)}"
            ) from exc
        if not isinstance(payload, dict):
            raise MalformedStreamError(f"The server sent unexpected stream data: {_short(value)}")
        yield payload


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
