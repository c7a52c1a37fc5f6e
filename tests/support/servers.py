"""Real servers on loopback for the remote-backend tests.

``LlamaCppServer`` runs ``python -m llama_cpp.server`` on the test model in a
subprocess. ``FaultServer`` is a small HTTP server written on asyncio that
speaks just enough of the OpenAI-compatible API (and llama_cpp.server's
``/extras/tokenize``) to misbehave on purpose: stall, send garbage, drop the
connection, reject the key, or not be an OpenAI server at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

#: The served model name the tests use.
MODEL_ALIAS = "s1-test"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LlamaCppServer:
    """``llama_cpp.server`` on the test model, on a free loopback port."""

    def __init__(
        self,
        model: Path,
        n_ctx: int = 4096,
        api_key: str | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.n_ctx = n_ctx
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2
        args = [
            sys.executable,
            str(Path(__file__).with_name("llama_server_main.py")),
            "--model",
            str(model),
            "--model_alias",
            MODEL_ALIAS,
            "--n_ctx",
            str(n_ctx),
            "--n_threads",
            str(threads),
            "--n_gpu_layers",
            "0",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--verbose",
            "False",
        ]
        if api_key:
            args += ["--api_key", api_key]
        self._log = open(log_path or os.devnull, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"llama_cpp.server exited with {self.process.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.base_url}/v1/models").status_code in (200, 401):
                        return
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama_cpp.server did not start within {timeout:g} s")

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()

    def __enter__(self) -> LlamaCppServer:
        self.wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


Handler = Callable[["Request", asyncio.StreamWriter], Awaitable[None]]


class Request:
    """An HTTP request as the fault server reads it."""

    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


class FaultServer:
    """An asyncio HTTP server on loopback; ``mode`` picks how ``/v1/completions`` misbehaves.

    Modes: ``ok`` (a short, well-formed stream), ``stall`` (some chunks, then
    silence), ``garbage`` (some chunks, then data that is not JSON), ``drop``
    (some chunks, then the connection closes mid-body), ``unauthorized``
    (401 everywhere), ``not_openai`` (an HTML page everywhere).
    """

    def __init__(self, mode: str = "ok", chunks: int = 3) -> None:
        self.mode = mode
        self.chunks = chunks
        self.completions = 0
        self.aborted = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FaultServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()

    async def __aenter__(self) -> FaultServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while (request := await _read_request(reader)) is not None:
                if not await self._route(request, reader, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client left, or stop() ends the connection
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _route(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        if self.mode == "unauthorized":
            await _respond(writer, 401, {"error": {"message": "Invalid API Key"}})
            return True
        if self.mode == "not_openai":
            await _respond_raw(writer, 200, "text/html", b"<html><body>Welcome</body></html>")
            return True
        if request.path == "/v1/models":
            await _respond(
                writer,
                200,
                {"object": "list", "data": [{"id": MODEL_ALIAS, "object": "model"}]},
            )
            return True
        if request.path == "/extras/tokenize":
            text = request.json().get("input", "")
            # One token per character, ChatML markers one token each: crude but exact.
            pieces = re.findall(r"<\|[a-z_]+\|>|.", text, flags=re.DOTALL)
            await _respond(writer, 200, {"tokens": [hash(p) % 100_000 for p in pieces]})
            return True
        if request.path == "/v1/completions":
            self.completions += 1
            try:
                return await self._completion(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.aborted.set()  # the client closed the stream while it was sent
                raise
        await _respond(writer, 404, {"detail": "Not Found"})
        return True

    async def _completion(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        for i in range(self.chunks):
            await _chunk(writer, _event(f"part{i} "))
            await asyncio.sleep(0.01)
        if self.mode == "ok":
            await _chunk(writer, _event("", finish="stop"))
            await _chunk(writer, b"data: [DONE]\n\n")
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        if self.mode == "garbage":
            await _chunk(writer, b"data: {this is not json\n\n")
            await asyncio.sleep(30)
            return False
        if self.mode == "drop":
            writer.write(b'40\r\ndata: {"choices": [{"text": "cut')  # a chunk cut short
            await writer.drain()
            writer.transport.abort()
            return False
        # stall: keep the connection open and say nothing until the client leaves.
        try:
            await reader.read()  # b"" once the client closes the connection
        finally:
            self.aborted.set()
        return False


def _event(text: str, finish: str | None = None) -> bytes:
    payload = {"object": "text_completion", "choices": [{"text": text, "finish_reason": finish}]}
    return f"data: {json.dumps(payload)}\n\n".encode()


async def _chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    await writer.drain()


async def _respond(writer: asyncio.StreamWriter, status: int, payload: Any) -> None:
    await _respond_raw(writer, status, "application/json", json.dumps(payload).encode())


async def _respond_raw(
    writer: asyncio.StreamWriter, status: int, content_type: str, body: bytes
) -> None:
    reason = {200: "OK", 401: "Unauthorized", 404: "Not Found"}.get(status, "Error")
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    line = await reader.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return Request(method, path, headers, body)
