"""Qt fixtures shared by tests/ui and tests/e2e: one QApplication with asyncio on it (qasync),
windows, hygiene."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import pytest
import qasync
import shiboken6
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from s1desk.ui.app import create_application, install_asyncgen_hooks
from support.qt import Windows

T = TypeVar("T")


@pytest.fixture(scope="session")
def qapp() -> QApplication:
    """The app as s1desk creates it (Chromium flags, URL scheme), shared by every UI test."""
    return create_application()


@pytest.fixture(scope="session")
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """asyncio on Qt's loop, as in the app.

    The app runs ``QApplication.exec()`` once; tests instead spin local Qt
    event loops (see ``arun``), because QtWebEngine shuts down for good when
    ``exec()`` returns. qasync's ``already_running`` mode is made for that.
    """
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    hooks = sys.get_asyncgen_hooks()
    install_asyncgen_hooks(loop)
    yield loop
    sys.set_asyncgen_hooks(*hooks)
    loop.stop()
    asyncio.events._set_running_loop(None)
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def arun(qloop: qasync.QEventLoop) -> Callable[..., Any]:
    """Run a coroutine on the app's event loop until it is done (with a time limit)."""

    def run(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        task = qloop.create_task(asyncio.wait_for(coro, timeout))
        spin = QEventLoop()
        task.add_done_callback(lambda _task: spin.quit())
        if not task.done():
            spin.exec()
        result: T = task.result()
        return result

    return run


@pytest.fixture(autouse=True)
def s1desk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """All user state (settings) goes to the test's own directory."""
    home = tmp_path / "home"
    monkeypatch.setenv("S1DESK_HOME", str(home))
    monkeypatch.delenv("S1DESK_MODEL", raising=False)
    return home


@pytest.fixture(autouse=True)
def _no_leftover_timers_or_tasks(qloop: qasync.QEventLoop) -> Iterator[None]:
    """Fail a test that leaves a Qt timer running or an asyncio task pending."""
    before = {id(o) for o in gc.get_objects() if isinstance(o, QTimer)}
    yield
    gc.collect()
    timers = [
        o
        for o in gc.get_objects()
        if isinstance(o, QTimer) and id(o) not in before and shiboken6.isValid(o) and o.isActive()
    ]
    tasks = [t for t in asyncio.all_tasks(qloop) if not t.done()]
    assert not timers, f"timers left running: {timers}"
    assert not tasks, f"asyncio tasks left pending: {tasks}"


@pytest.fixture
def windows(arun: Callable[..., Any]) -> Iterator[Windows]:
    made = Windows(arun)
    yield made
    made.close_all()
