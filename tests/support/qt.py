"""Helpers for driving the real window in tests: waiting on the event loop, clean windows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from s1desk.backends.base import Backend
from s1desk.settings import load_settings
from s1desk.ui.app import build_window
from s1desk.ui.window.main_window import MainWindow


async def until(
    predicate: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0, what: str = ""
) -> None:
    """Wait (without blocking the loop) until ``predicate`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)


class Windows:
    """Makes main windows and shuts each down cleanly at the end of the test."""

    def __init__(self, run: Callable[..., Any]) -> None:
        self._run = run
        self._open: list[tuple[MainWindow, Backend | None]] = []

    def make(self, backend: Backend | None = None, shared: bool = False) -> MainWindow:
        """A shown window; ``shared`` backends are detached, not closed, at the end."""
        window = build_window(load_settings())
        if backend is not None:
            window.controller.set_backend(backend)
        window.show()
        self._run(until(lambda: window.transcript.is_ready, 20, "the transcript page"))
        self._open.append((window, backend if shared else None))
        return window

    def close(self, window: MainWindow) -> None:
        for i, (w, shared) in enumerate(self._open):
            if w is window:
                del self._open[i]
                if shared is not None:
                    w.controller.set_backend(None)
                self._run(w.shutdown())
                w.close()
                w.deleteLater()
                QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
                return

    def close_all(self) -> None:
        while self._open:
            self.close(self._open[-1][0])
