"""A Qt-free signal: a model announces a change, its subscribers are called in order."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")

log = logging.getLogger(__name__)


class Signal(Generic[P]):
    """Callbacks to call with the same arguments, in the order they were connected.

    The core's models (the chat controller, the saver) announce through these
    and the Qt widgets subscribe, as napari's evented models do: the core needs
    no ``QObject`` and its tests no ``QApplication``. Everything runs on one
    thread (the event loop's); a subscriber that raises is logged and the
    others are still called.
    """

    def __init__(self) -> None:
        self._slots: list[Callable[P, object]] = []

    def connect(self, slot: Callable[P, object]) -> None:
        self._slots.append(slot)

    def disconnect(self, slot: Callable[P, object]) -> None:
        """Stop calling ``slot`` (nothing happens if it was not connected)."""
        if slot in self._slots:
            self._slots.remove(slot)

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for slot in list(self._slots):
            try:
                slot(*args, **kwargs)
            except Exception:
                log.exception("a subscriber of %r failed", slot)
