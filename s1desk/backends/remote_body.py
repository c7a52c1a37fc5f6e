"""A server's response read within bounds: decompression with a ceiling, lines with a limit.

httpx inflates a compressed body a whole network chunk at a time and splits
lines without a length limit, so a small gzip body or one endless line can
take gigabytes. Here the raw bytes are inflated in small steps, bodies and
lines are bounded, and JSON that nests too deeply is refused, each with a
clear error instead of a ``MemoryError`` or a ``RecursionError``.
"""

from __future__ import annotations

import json
import reprlib
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from s1desk.backends.remote_errors import (
    MalformedResponseError,
    ResponseTooLargeError,
    StreamStalledError,
)

#: Largest decoded body of a plain JSON answer (model list, tokenizer answers).
MAX_BODY_BYTES = 16 * 1024 * 1024
#: Longest line of an event stream; one completion event takes a few hundred bytes.
MAX_LINE_BYTES = 1024 * 1024
#: How much of an error page is read to quote the server's message.
MAX_ERROR_BYTES = 64 * 1024
#: Bytes inflated per step, so no single compressed chunk inflates at once.
_STEP = 64 * 1024
#: The encodings the client asks for (and so accepts).
ACCEPT_ENCODING = "gzip, deflate"

_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxstring = 80
_repr.maxother = 80


def short(value: Any, limit: int = 120) -> str:
    """A short, safe rendering of anything a server sent (deep nesting included)."""
    text = value if isinstance(value, str) else _repr.repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def parse_json(data: bytes | str) -> Any:
    """``json.loads`` whose failures, too deep nesting included, are :class:`ValueError`."""
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise ValueError("the JSON is nested too deeply") from exc


class _Inflater:
    """Inflates gzip or zlib data a bounded step at a time."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib header, detected

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._z.decompress(data, _STEP)
            yield out
            while self._z.unconsumed_tail:
                out = self._z.decompress(self._z.unconsumed_tail, _STEP)
                yield out
        except zlib.error as exc:
            raise MalformedResponseError(f"a compressed body is damaged ({exc})") from exc


async def body_chunks(response: httpx.Response, source: str) -> AsyncIterator[bytes]:
    """The decoded body of ``response``, in pieces of at most a few tens of kilobytes."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        async for raw in response.aiter_raw():
            for start in range(0, len(raw), _STEP):
                yield raw[start : start + _STEP]
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise MalformedResponseError(
            f"{source} answered in the {short(encoding, 40)!r} encoding, which s1desk did not "
            f"ask for (it accepts {ACCEPT_ENCODING})."
        )
    inflater = _Inflater()
    async for raw in response.aiter_raw():
        for piece in inflater.feed(raw):
            if piece:
                yield piece


async def read_body(response: httpx.Response, source: str, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole decoded body; more than ``limit`` bytes raises :class:`ResponseTooLargeError`."""
    parts: list[bytes] = []
    size = 0
    async for piece in body_chunks(response, source):
        size += len(piece)
        if size > limit:
            raise ResponseTooLargeError(
                f"{source} sent a response of more than {limit // (1024 * 1024)} MB once "
                "decompressed; it was abandoned."
            )
        parts.append(piece)
    return b"".join(parts)


async def read_error_text(response: httpx.Response, source: str) -> str:
    """The start of an error page, for quoting; never more than :data:`MAX_ERROR_BYTES`."""
    parts: list[bytes] = []
    size = 0
    async for piece in body_chunks(response, source):
        parts.append(piece[: MAX_ERROR_BYTES - size])
        size += len(parts[-1])
        if size >= MAX_ERROR_BYTES:
            break
    return b"".join(parts).decode("utf-8", errors="replace")


async def lines(
    response: httpx.Response,
    source: str,
    max_line: int = MAX_LINE_BYTES,
    line_timeout: float | None = None,
) -> AsyncIterator[str]:
    """The body's lines (without ``\\n``), each at most ``max_line`` bytes.

    A line still unfinished ``line_timeout`` seconds after its first byte (a
    server dripping one endless line) raises :class:`StreamStalledError`.
    """
    buffer = bytearray()
    started = 0.0
    async for piece in body_chunks(response, source):
        now = time.monotonic()
        start = 0
        while (end := piece.find(b"\n", start)) >= 0:
            if len(buffer) + end - start > max_line:
                raise _too_long(source, max_line)
            buffer += piece[start:end]
            yield buffer.decode("utf-8", errors="replace")
            buffer.clear()
            start = end + 1
        if start < len(piece):
            if not buffer:
                started = now
            buffer += piece[start:]
            if len(buffer) > max_line:
                raise _too_long(source, max_line)
            if line_timeout is not None and now - started > line_timeout:
                raise StreamStalledError(
                    f"{source} took more than {line_timeout:g} s to send one line of the "
                    "stream; the request was abandoned. What arrived before is kept."
                )
    if buffer:
        yield buffer.decode("utf-8", errors="replace")


def _too_long(source: str, limit: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"{source} sent a stream line longer than {limit // 1024} KB; the request was "
        "abandoned. What arrived before is kept."
    )
