"""Helpers for driving the real window in tests: waiting on the event loop, clean windows."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from s1desk.backends.base import Backend
from s1desk.settings import load_settings
from s1desk.ui.app import build_window
from s1desk.ui.chat.transcript_view import TranscriptView
from s1desk.ui.window.main_window import MainWindow

Rect = tuple[int, int, int, int]


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


def rects(view: TranscriptView, arun: Callable[..., Any], selector: str) -> list[Rect]:
    """Where the elements matching ``selector`` are drawn, in view pixels."""
    script = (
        f"JSON.stringify([...document.querySelectorAll({json.dumps(selector)})].map((e) => {{"
        "const r = e.getBoundingClientRect();"
        "return [Math.round(r.left), Math.round(r.top), Math.round(r.width),"
        " Math.round(r.height)]; }))"
    )
    found: list[list[int]] = json.loads(arun(view.evaluate(script)))
    return [(x, y, width, height) for x, y, width, height in found]


def one_rect(view: TranscriptView, arun: Callable[..., Any], selector: str) -> Rect:
    found = rects(view, arun, selector)
    assert len(found) == 1, f"{selector}: {found}"
    assert found[0][2] > 0, f"{selector} is not drawn: {found}"
    assert found[0][3] > 0, f"{selector} is not drawn: {found}"
    return found[0]


def click(view: TranscriptView, arun: Callable[..., Any], selector: str) -> None:
    """A real mouse click in the middle of the element."""
    x, y, width, height = one_rect(view, arun, selector)
    target = view.focusProxy()
    assert target is not None
    QTest.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(x + width // 2, y + height // 2))


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
