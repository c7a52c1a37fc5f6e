"""A cancellation flag that crosses from the event loop to a worker thread or process."""

from __future__ import annotations

import threading
from collections.abc import Callable


class CancelToken:
    """Set once to stop a generation; checked by the backend before every token.

    Waiters need not poll it: :meth:`on_cancel` runs a callback when it is set,
    on the thread that sets it.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        # Reentrant: cancel() may run in a signal handler on a thread inside on_cancel().
        self._lock = threading.RLock()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` once when the token is set (at once if it is already);
        returns a function that withdraws it."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._withdraw(callback)
        callback()
        return lambda: None

    def _withdraw(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    @property
    def event(self) -> threading.Event:
        return self._event
