"""Switching the window between the local model and a real llama_cpp.server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import keyring.backends.fail
import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from s1desk.backends.remote import RemoteBackend
from s1desk.backends.remote_config import ApiKey
from s1desk.connections import KeyStore, SavedServer, ServerStore
from s1desk.errors import BackendClosedError
from s1desk.settings import AppSettings, load_settings, save_settings
from s1desk.thinking.machine import FinishReason
from s1desk.thinking.policy import BudgetPolicy
from s1desk.ui.app import build_window, install_asyncgen_hooks
from s1desk.ui.backends.switch_box import LOCAL, remote_key
from s1desk.ui.window.main_window import MainWindow
from support.qt import until
from support.servers import MODEL_ALIAS, LlamaCppServer, Request, _read_request

SECRET = "sk-switch-secret-0815"
CONTEXT = 2048


class RecordingProxy:
    """Forwards HTTP requests to ``upstream`` as they stream, and keeps their bodies."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.requests: list[Request] = []
        self._server: asyncio.Server | None = None
        self._client = httpx.AsyncClient(base_url=upstream, timeout=60, trust_env=False)
        self.base_url = ""

    async def start(self) -> RecordingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.base_url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self._client.aclose()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await _read_request(reader)) is not None:
                self.requests.append(request)
                headers = {
                    k: v for k, v in request.headers.items() if k not in ("host", "content-length")
                }
                upstream = self._client.build_request(
                    request.method, request.path, headers=headers, content=request.body
                )
                response = await self._client.send(upstream, stream=True)
                try:
                    await self._relay(response, writer)
                finally:
                    await response.aclose()
        except (ConnectionError, asyncio.IncompleteReadError, httpx.HTTPError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    @staticmethod
    async def _relay(response: httpx.Response, writer: asyncio.StreamWriter) -> None:
        kind = response.headers.get("content-type", "application/json")
        writer.write(
            f"HTTP/1.1 {response.status_code} X\r\ncontent-type: {kind}\r\n"
            "transfer-encoding: chunked\r\n\r\n".encode()
        )
        async for data in response.aiter_raw():
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    def prompts(self) -> list[str]:
        return [str(r.json()["prompt"]) for r in self.requests if r.path == "/v1/completions"]


@pytest.fixture(scope="module")
def server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaCppServer]:
    log = tmp_path_factory.mktemp("switch-server") / "server.log"
    with LlamaCppServer(model_path, n_ctx=CONTEXT, api_key=SECRET, log_path=log) as running:
        yield running


@pytest.fixture
def keys() -> KeyStore:
    """No system keyring: the key lives for this session only (nothing written)."""
    return KeyStore(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]


@pytest.fixture
def make_window(arun: Callable[..., Any], keys: KeyStore) -> Iterator[Callable[[], MainWindow]]:
    made: list[MainWindow] = []

    def make() -> MainWindow:
        window = build_window(load_settings(), keys=keys)
        window.show()
        arun(until(lambda: window.transcript.is_ready, 20, "the transcript page"))
        made.append(window)
        return window

    yield make
    for window in made:
        arun(window.shutdown(), timeout=120)
        window.close()
        window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _settings(max_thinking: int) -> None:
    policy = BudgetPolicy(max_thinking=max_thinking, max_answer=8)
    save_settings(AppSettings(context_size=CONTEXT, policy=policy))


def _save_server(url: str, keys: KeyStore, label: str = "Loopback") -> SavedServer:
    server = SavedServer.new(label, url, model=MODEL_ALIAS, context_length=CONTEXT)
    ServerStore().put(server)
    keys.set(server.id, ApiKey(SECRET))
    return server


def _load_local(w: MainWindow, model_path: Path, arun: Callable[..., Any]) -> None:
    w.open_model_file(model_path)
    arun(until(lambda: w.controller.backend is not None, 180, "the local model"), timeout=200)


def _stats(w: MainWindow, index: int, arun: Callable[..., Any]) -> str:
    text: str = arun(
        w.transcript.evaluate(f"document.querySelector('#ex-{index} .stats').textContent")
    )
    return text


pytestmark = pytest.mark.model


@pytest.fixture(autouse=True)
def _asyncgen_hooks(qloop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """The hooks the app installs on its loop (see ``install_asyncgen_hooks``)."""
    before = sys.get_asyncgen_hooks()
    install_asyncgen_hooks(qloop)
    yield
    sys.set_asyncgen_hooks(*before)


def test_the_chat_goes_on_on_the_server_and_back_without_reloading(
    make_window: Callable[[], MainWindow],
    arun: Callable[..., Any],
    model_path: Path,
    server: LlamaCppServer,
    keys: KeyStore,
    s1desk_home: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _settings(max_thinking=12)
    proxy = arun(RecordingProxy(server.base_url).start())
    saved = _save_server(proxy.base_url, keys)
    w = make_window()
    w.switcher.reload()
    assert w.switcher.box.itemText(1) == f"Remote: Loopback · {MODEL_ALIAS}"
    _load_local(w, model_path, arun)
    local = w.controller.backend
    assert w.switcher.box.currentText() == f"Local: {model_path.name}"

    w.chat.submit("Name one prime number.")
    arun(w.controller.wait_idle(), timeout=120)
    first = w.controller.message(0)
    assert first is not None
    assert first.finished
    assert not first.error
    assert "local CPU" in _stats(w, 0, arun)

    # Switch: the selector, the status bar and the next reply say where it comes from.
    arun(w.switcher.switch_to(remote_key(saved.id)), timeout=60)
    assert not w.banner.isVisible(), w.banner.text
    assert w.switcher.box.currentText() == f"Remote: Loopback · {MODEL_ALIAS}"
    assert "remote 127.0.0.1" in w.status.label.text()
    remote = w.controller.backend
    assert isinstance(remote, RemoteBackend)
    w.chat.submit("Name another one.")
    arun(w.controller.wait_idle(), timeout=120)
    second = w.controller.message(1)
    assert second is not None
    assert second.finished
    assert not second.error, second.error
    assert second.stats is not None
    assert f"{MODEL_ALIAS} · remote 127.0.0.1" in _stats(w, 1, arun)
    assert "local CPU" in _stats(w, 0, arun)  # the earlier reply keeps its own source
    # The request carried the conversation held locally: question and answer.
    prompt = proxy.prompts()[0]
    assert "Name one prime number." in prompt
    assert first.answer.strip()[:12] in prompt
    assert prompt.index("Name one prime number.") < prompt.index("Name another one.")

    # Back to the local model: the same loaded model, no new load.
    arun(w.switcher.switch_to(LOCAL))
    assert w.controller.backend is local
    assert not w.status.bar.isVisible()
    assert w.switcher.box.currentText() == f"Local: {model_path.name}"

    # While a reply is written the selector is off, and a switch is refused.
    w.budget.max_box.setValue(400)
    w.chat.submit("Count slowly from one to fifty.")
    assert not w.switcher.box.isEnabled()
    assert "Stop the reply" in w.switcher.box.toolTip()
    w.switcher.choose(remote_key(saved.id))
    assert w.controller.backend is local
    assert "Stop the reply (Esc)" in w.banner.text
    w.chat.stop()
    arun(w.controller.wait_idle(), timeout=60)
    assert w.switcher.box.isEnabled()

    # Closing the window closes the connection; the key was never written anywhere.
    arun(w.shutdown(), timeout=120)
    with pytest.raises(BackendClosedError):
        _ = remote.client
    arun(proxy.stop())
    for path in s1desk_home.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path
    assert SECRET not in caplog.text


def test_a_server_killed_mid_reply_keeps_the_partial_reply_and_local_takes_over(
    make_window: Callable[[], MainWindow],
    arun: Callable[..., Any],
    model_path: Path,
    keys: KeyStore,
    tmp_path: Path,
) -> None:
    _settings(max_thinking=600)
    with LlamaCppServer(model_path, n_ctx=CONTEXT, api_key=SECRET) as doomed:
        saved = _save_server(doomed.base_url, keys, label="Doomed")
        w = make_window()
        w.switcher.reload()
        _load_local(w, model_path, arun)
        arun(w.switcher.switch_to(remote_key(saved.id)), timeout=60)
        assert isinstance(w.controller.backend, RemoteBackend)
        w.chat.submit("Explain step by step how binary search works.")

        def thinking() -> int:
            message = w.controller.message(0)
            return len(message.reasoning) if message is not None else 0

        arun(until(lambda: thinking() > 20, 60, "remote thinking"), timeout=90)
        doomed.kill()
        arun(w.controller.wait_idle(), timeout=60)

    message = w.controller.message(0)
    assert message is not None
    assert message.error, "a dead server must end the reply with an error"
    assert len(message.reasoning) > 20  # what arrived stays
    assert w.banner.isVisible()
    assert "The reply failed" in w.banner.text
    assert "Regenerate" in w.banner.text
    shown = arun(w.transcript.evaluate("document.querySelector('#ex-0 .error').textContent"))
    assert shown.startswith("Error:")
    assert "remote" in _stats(w, 0, arun)

    # Back to the local model and try again: the reply now comes from it.
    arun(w.switcher.switch_to(LOCAL))
    w.budget.max_box.setValue(8)
    w.actions_by_name["regenerate"].trigger()
    arun(w.controller.wait_idle(), timeout=120)
    again = w.controller.message(0)
    assert again is not None
    assert again.finish_reason is not None
    assert not again.error
    assert again.finish_reason is not FinishReason.CANCELLED
    assert "local CPU" in _stats(w, 0, arun)
