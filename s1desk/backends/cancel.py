"""A cancellation flag that crosses from the event loop to a worker thread."""

from __future__ import annotations

import threading


class CancelToken:
    """Set once to stop a generation; checked by the backend before every token."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    @property
    def event(self) -> threading.Event:
        return self._event
