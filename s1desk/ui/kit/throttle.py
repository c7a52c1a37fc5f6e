"""A throttle for calls that may come faster than a view should be redrawn."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer


class Throttle(QObject):
    """Calls ``func`` at most once every ``delay_ms``.

    A call inside the interval is held and made at its end with the latest
    arguments, so the last state is always shown; :meth:`now` calls at once
    (a final state) and drops what was held. After qutebrowser's
    ``misc/throttle.py``.
    """

    def __init__(
        self, func: Callable[..., None], delay_ms: int, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._func = func
        self._delay = delay_ms / 1000
        self._last = -float("inf")
        self._held: tuple[Any, ...] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._release)

    def __call__(self, *args: Any) -> None:
        wait = self._last + self._delay - time.monotonic()
        if wait <= 0 and not self._timer.isActive():
            self.now(*args)
            return
        self._held = args
        if not self._timer.isActive():
            self._timer.start(max(0, round(wait * 1000)))

    def now(self, *args: Any) -> None:
        self.cancel()
        self._last = time.monotonic()
        self._func(*args)

    def cancel(self) -> None:
        """Drop a held call."""
        self._held = None
        self._timer.stop()

    def _release(self) -> None:
        args, self._held = self._held, None
        if args is not None:
            self._last = time.monotonic()
            self._func(*args)
