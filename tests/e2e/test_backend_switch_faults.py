"""A remote server that stalls, sends garbage or rejects the key, seen from the window."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import keyring.backends.fail
import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from s1desk.backends.remote import RemoteBackend
from s1desk.backends.remote_config import ApiKey
from s1desk.connections import KeyStore, SavedServer, ServerStore
from s1desk.settings import AppSettings, load_settings, save_settings
from s1desk.thinking.machine import FinishReason
from s1desk.thinking.policy import BudgetPolicy
from s1desk.ui.app import build_window, install_asyncgen_hooks
from s1desk.ui.backends.switch_box import LOCAL, remote_key
from s1desk.ui.window.main_window import MainWindow
from support.qt import until
from support.servers import MODEL_ALIAS, FaultServer


@pytest.fixture(autouse=True)
def _asyncgen_hooks(qloop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """The hooks the app installs on its loop (see ``install_asyncgen_hooks``)."""
    before = sys.get_asyncgen_hooks()
    install_asyncgen_hooks(qloop)
    yield
    sys.set_asyncgen_hooks(*before)


@pytest.fixture
def keys() -> KeyStore:
    return KeyStore(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]


@pytest.fixture
def fault(arun: Callable[..., Any]) -> Iterator[FaultServer]:
    server = arun(FaultServer("ok").start())
    yield server
    arun(server.stop())


@pytest.fixture
def window(arun: Callable[..., Any], keys: KeyStore) -> Iterator[MainWindow]:
    save_settings(AppSettings(policy=BudgetPolicy(max_thinking=64, max_answer=8)))
    w = build_window(load_settings(), keys=keys)
    w.show()
    arun(until(lambda: w.transcript.is_ready, 20, "the transcript page"))
    yield w
    arun(w.shutdown(), timeout=60)
    w.close()
    w.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _attach(w: MainWindow, url: str, arun: Callable[..., Any], read_timeout: float = 60) -> str:
    server = SavedServer.new("Flaky", url, model=MODEL_ALIAS, read_timeout=read_timeout)
    ServerStore().put(server)
    w.switcher.reload()
    arun(w.switcher.switch_to(remote_key(server.id)), timeout=30)
    assert isinstance(w.controller.backend, RemoteBackend), w.banner.text
    return server.id


def _ask(w: MainWindow, arun: Callable[..., Any], timeout: float = 30) -> float:
    started = time.monotonic()
    w.chat.submit("What is 2+2?")
    arun(w.controller.wait_idle(), timeout=timeout)
    return time.monotonic() - started


def test_a_stalled_stream_ends_with_a_message_and_retry_works(
    window: MainWindow, fault: FaultServer, arun: Callable[..., Any]
) -> None:
    w = window
    fault.mode = "stall"
    _attach(w, fault.base_url, arun, read_timeout=1.0)
    assert _ask(w, arun) < 15  # the read timeout, not a hang
    message = w.controller.message(0)
    assert message is not None
    assert message.error is not None
    assert "part0 part1 part2" in message.reasoning  # what arrived stays
    assert w.banner.isVisible()
    assert "The reply failed" in w.banner.text
    assert "Flaky" in w.switcher.box.currentText()  # still on the server: retry there

    fault.mode = "ok"
    w.actions_by_name["regenerate"].trigger()
    arun(w.controller.wait_idle(), timeout=30)
    again = w.controller.message(0)
    assert again is not None
    assert again.error is None
    assert again.finish_reason is not None


def test_garbage_in_the_stream_is_named(
    window: MainWindow, fault: FaultServer, arun: Callable[..., Any]
) -> None:
    w = window
    fault.mode = "garbage"
    _attach(w, fault.base_url, arun)
    assert _ask(w, arun) < 15
    message = w.controller.message(0)
    assert message is not None
    assert message.error is not None
    assert "not JSON" in message.error
    assert "part0" in message.reasoning
    assert "not JSON" in w.banner.text


def test_stop_aborts_the_request_at_once(
    window: MainWindow, fault: FaultServer, arun: Callable[..., Any]
) -> None:
    w = window
    fault.mode = "stall"
    _attach(w, fault.base_url, arun)
    w.chat.submit("What is 2+2?")
    arun(until(lambda: "part2" in _reasoning(w), 10, "the first chunks"))
    started = time.monotonic()
    w.stop_button.click()
    arun(w.controller.wait_idle(), timeout=10)
    assert time.monotonic() - started < 2
    arun(until(fault.aborted.is_set, 5, "the server to see the request closed"))
    message = w.controller.message(0)
    assert message is not None
    assert message.finish_reason is FinishReason.CANCELLED
    assert not w.banner.isVisible()  # a stop is not a failure


def test_a_rejected_key_refuses_the_switch_and_keeps_the_chat_where_it_was(
    window: MainWindow, fault: FaultServer, arun: Callable[..., Any], keys: KeyStore
) -> None:
    w = window
    fault.mode = "unauthorized"
    server = SavedServer.new("Locked", fault.base_url, model=MODEL_ALIAS)
    ServerStore().put(server)
    keys.set(server.id, ApiKey("sk-wrong"))
    w.switcher.reload()
    arun(w.switcher.switch_to(remote_key(server.id)), timeout=30)
    assert w.controller.backend is None
    assert w.switcher.active == LOCAL
    assert w.switcher.box.currentText().startswith("Local:")
    assert w.banner.text.startswith("Could not switch to Locked:")
    assert "401" in w.banner.text or "key" in w.banner.text.lower()
    assert "sk-wrong" not in w.banner.text
    assert w.switcher.box.isEnabled()


def _reasoning(w: MainWindow) -> str:
    message = w.controller.message(0)
    return message.reasoning if message is not None else ""
