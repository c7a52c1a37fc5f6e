"""A recording HTTP proxy on loopback, in front of a real server.

It passes every request through to ``upstream`` unchanged (streams included)
and keeps each request's path and JSON body. For ``/v1/completions`` with a
text prompt it first asks the upstream llama_cpp.server to tokenize that
prompt (``/extras/tokenize`` parses special tokens exactly as its completion
endpoint does), so a test sees the token ids the server evaluates.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Recorded:
    """One request that went through the proxy."""

    path: str
    body: dict[str, Any]
    #: For a text completion prompt: the ids the upstream server reads it as.
    prompt_ids: list[int] | None = None


@dataclass
class RecordingProxy:
    upstream: str
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _client: httpx.AsyncClient | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def completions(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/completions"]

    async def __aenter__(self) -> RecordingProxy:
        self._client = httpx.AsyncClient(base_url=self.upstream, timeout=120.0, trust_env=False)
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        assert self._client is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        await self._client.aclose()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while (request := await _read(reader)) is not None:
                await self._forward(*request, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        except httpx.HTTPError:
            writer.transport.abort()  # the upstream failed: so does the proxied answer
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _forward(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        raw: bytes,
        writer: asyncio.StreamWriter,
    ) -> None:
        assert self._client is not None
        body = json.loads(raw) if raw else {}
        recorded = Recorded(path, body)
        self.requests.append(recorded)
        if path == "/v1/completions" and isinstance(body.get("prompt"), str):
            answer = await self._client.post(
                "/extras/tokenize", json={"input": body["prompt"], "model": body.get("model")}
            )
            recorded.prompt_ids = answer.json()["tokens"]
        passed = {k: v for k, v in headers.items() if k in ("content-type", "authorization")}
        request = self._client.build_request(method, path, content=raw, headers=passed)
        response = await self._client.send(request, stream=True)
        try:
            kept = "".join(
                f"{k}: {v}\r\n"
                for k, v in response.headers.items()
                if k.lower() in ("content-type", "content-encoding")
            )
            writer.write(
                f"HTTP/1.1 {response.status_code} X\r\n{kept}"
                "transfer-encoding: chunked\r\n\r\n".encode()
            )
            async for piece in response.aiter_raw():
                writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        finally:
            await response.aclose()


async def _read(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], bytes] | None:
    line = await reader.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    raw = await reader.readexactly(length) if length else b""
    return method, path, headers, raw
