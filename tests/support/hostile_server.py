"""A deliberately misbehaving OpenAI-compatible server on loopback, for the hostile-server tests.

It speaks real HTTP/1.1 on 127.0.0.1 and, like ``FaultServer``, enough of the
API to be connected to; each :class:`Mode` breaks one rule a client must not
rely on. It passes for llama_cpp.server (``/extras/tokenize``) or, with
``vllm=True``, for vLLM (``/tokenize``, token ids in the stream, token-id
prompts), with a tokenizer of one token per character and the ChatML markers
one token each, so counts in the tests are exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
import zlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from support.servers import MODEL_ALIAS

#: Token ids of the markers, as in the Qwen2.5 vocabulary.
MARKERS = {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645}
_MARKER_TEXT = {v: k for k, v in MARKERS.items()}
#: Ordinary characters get ``ord(c) + CHAR_BASE`` as their id.
CHAR_BASE = 200_000
#: What the endless modes stream: one token of this per event.
WORD = "w"
#: How deep the nested JSON goes (far past Python's recursion limit).
DEPTH = 100_000
#: The size of the decompressed gzip bomb and of the huge line.
BOMB_BYTES = 300 * 1024 * 1024
HUGE_LINE_BYTES = 200 * 1024 * 1024


class Mode(StrEnum):
    """How the server misbehaves."""

    OK = "ok"  # a short, correct stream (its usage may be set by the test)
    ENDLESS = "endless"  # one token per event, forever, whatever max_tokens says
    DRIP = "drip"  # ENDLESS, one byte at a time
    DRIP_LINE = "drip_line"  # one event line dripped a byte at a time, never finished
    HUGE_LINE = "huge_line"  # a 200 MB line without a newline
    HUGE_CHUNK = "huge_chunk"  # one event carrying 50,000 tokens, whatever max_tokens says
    GZIP_BOMB_STREAM = "gzip_bomb_stream"  # a stream that inflates to 300 MB
    DEEP_EVENT = "deep_event"  # an event nested 100,000 levels deep
    GZIP_BOMB_MODELS = "gzip_bomb_models"  # /v1/models inflates to 300 MB
    DEEP_MODELS = "deep_models"  # /v1/models nested 100,000 levels deep
    BAD_JSON_MODELS = "bad_json_models"  # /v1/models is application/json, not JSON
    LYING_LENGTH = "lying_length"  # /v1/models announces 1000 bytes, sends 30, closes


def tokenize(text: str) -> list[int]:
    """The fake tokenizer, special tokens parsed (as the real servers' endpoints do)."""
    pieces = re.findall(r"<\|(?:im_start|im_end|endoftext)\|>|.", text, flags=re.DOTALL)
    return [MARKERS.get(p, ord(p[0]) + CHAR_BASE) for p in pieces]


def detokenize(ids: list[int]) -> str:
    return "".join(_MARKER_TEXT.get(i) or chr(i - CHAR_BASE) for i in ids)


@functools.cache
def gzip_bomb(size: int = BOMB_BYTES, fill: bytes = b"0") -> bytes:
    """A gzip body of a few hundred KB that inflates to ``size`` bytes of ``fill``."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = fill * (1024 * 1024)
    out = [z.compress(block) for _ in range(size // len(block))]
    out.append(z.flush())
    return b"".join(out)


@dataclass
class Completion:
    """One ``/v1/completions`` request as the server saw it."""

    body: dict[str, Any]
    sent: int = 0  # body bytes written before the end or the client leaving
    aborted: bool = False  # the client closed the connection first


@dataclass
class HostileServer:
    """The server; ``async with HostileServer(Mode.ENDLESS) as s:`` runs it on a free port."""

    mode: Mode = Mode.OK
    vllm: bool = False
    usage: dict[str, Any] | None = None
    completions: list[Completion] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> HostileServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    # -- plumbing ---------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while (request := await _read_request(reader)) is not None:
                path, body = request
                if not await self._route(path, body, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _route(self, path: str, body: dict[str, Any], writer: asyncio.StreamWriter) -> bool:
        if path == "/v1/models":
            return await self._models(writer)
        if path in ("/extras/tokenize", "/tokenize"):
            text = body.get("input" if path == "/extras/tokenize" else "prompt", "")
            await _json(writer, {"tokens": tokenize(text)})
            return True
        if path == "/extras/detokenize":
            await _json(writer, {"text": detokenize(body["tokens"])})
            return True
        if path == "/detokenize":
            await _json(writer, {"prompt": detokenize(body["tokens"])})
            return True
        if path == "/v1/completions":
            completion = Completion(body)
            self.completions.append(completion)
            try:
                return await self._complete(completion, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                completion.aborted = True
                raise
        await _raw(writer, 404, b'{"detail": "Not Found"}')
        return True

    async def _models(self, writer: asyncio.StreamWriter) -> bool:
        entry: dict[str, Any] = {"id": MODEL_ALIAS, "object": "model", "owned_by": "me"}
        if self.vllm:
            entry.update(owned_by="vllm", max_model_len=4096)
        listing = json.dumps({"object": "list", "data": [entry]}).encode()
        if self.mode is Mode.GZIP_BOMB_MODELS:
            await _raw(writer, 200, gzip_bomb(), headers={"content-encoding": "gzip"})
        elif self.mode is Mode.DEEP_MODELS:
            await _raw(writer, 200, b"[" * DEPTH + b"]" * DEPTH)
        elif self.mode is Mode.BAD_JSON_MODELS:
            await _raw(writer, 200, b'{"object": "list", "data": [{"id": ')
        elif self.mode is Mode.LYING_LENGTH:
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                b"content-length: 1000\r\n\r\n" + listing[:30]
            )
            await writer.drain()
            return False  # and close: 970 bytes never come
        else:
            await _raw(writer, 200, listing)
        return True

    async def _complete(self, completion: Completion, writer: asyncio.StreamWriter) -> bool:
        headers = "content-type: text/event-stream\r\ntransfer-encoding: chunked\r\n"
        if self.mode is Mode.GZIP_BOMB_STREAM:
            headers += "content-encoding: gzip\r\n"
        writer.write(f"HTTP/1.1 200 OK\r\n{headers}\r\n".encode())

        async def send(data: bytes) -> None:
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await writer.drain()
            completion.sent += len(data)

        mode = self.mode
        if mode is Mode.OK:
            await send(self._event("fine ", None))
            await send(self._event("", "stop", usage=self.usage))
            await send(b"data: [DONE]\n\n")
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        if mode in (Mode.ENDLESS, Mode.DRIP):
            while True:
                event = self._event(WORD, None)
                if mode is Mode.ENDLESS:
                    await send(event)
                    await asyncio.sleep(0)
                else:
                    for i in range(len(event)):
                        await send(event[i : i + 1])
                        await asyncio.sleep(0.001)
        if mode is Mode.DRIP_LINE:
            await send(self._event("before ", None))
            while True:
                await send(b"d")
                await asyncio.sleep(0.05)
        if mode is Mode.HUGE_LINE:
            await send(self._event("before ", None))
            await send(b'data: {"choices": [{"text": "')
            block = b"x" * (64 * 1024)
            for _ in range(HUGE_LINE_BYTES // len(block)):
                await send(block)
            return False
        if mode is Mode.HUGE_CHUNK:
            await send(self._event("before ", None))
            await send(self._event(WORD * 50_000, None))
            await send(self._event("", "stop"))
            await send(b"data: [DONE]\n\n")
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        if mode is Mode.GZIP_BOMB_STREAM:
            # The first event, then one line of 300 MB, all inside a small gzip body.
            z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            head = z.compress(self._event("before ", None) + b'data: {"choices": [{"text": "')
            block = b"0" * (1024 * 1024)
            await send(head + z.flush(zlib.Z_SYNC_FLUSH))
            for _ in range(BOMB_BYTES // len(block)):
                data = z.compress(block) + z.flush(zlib.Z_SYNC_FLUSH)
                await send(data)
            return False
        if mode is Mode.DEEP_EVENT:
            await send(self._event("before ", None))
            await send(b"data: " + b"[" * DEPTH + b"]" * DEPTH + b"\n\n")
            await asyncio.sleep(30)
            return False
        raise AssertionError(f"mode {mode} has no completion")

    def _event(self, text: str, finish: str | None, usage: dict[str, Any] | None = None) -> bytes:
        choice: dict[str, Any] = {"index": 0, "text": text, "finish_reason": finish}
        if self.vllm:
            choice["token_ids"] = tokenize(text)
        payload: dict[str, Any] = {"object": "text_completion", "choices": [choice]}
        if usage is not None:
            payload["usage"] = usage
        return f"data: {json.dumps(payload)}\n\n".encode()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, Any]] | None:
    line = await reader.readline()
    if not line:
        return None
    _, path, _ = line.decode("latin-1").split(" ", 2)
    length = 0
    while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = json.loads(await reader.readexactly(length)) if length else {}
    return path, body


async def _raw(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> None:
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    writer.write(
        f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{extra}"
        f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()


async def _json(writer: asyncio.StreamWriter, payload: Any) -> None:
    await _raw(writer, 200, json.dumps(payload).encode())
