"""One problem bus: every feature's messages for the user reach the banner by one road."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, Signal


class ProblemSource(Protocol):
    """A signal carrying a message for the user (a Qt ``Signal(str)`` or a core one)."""

    def connect(self, slot: Callable[[str], object]) -> object: ...


class ProblemBus(QObject):
    """Collects what the user should read (no model, a failed save, a refused server).

    Features keep their own ``problem`` signal, so each can be used and
    tested alone; the window hands them all to :meth:`collect` in one place
    and the banner subscribes once, to ``problem``.
    """

    problem = Signal(str)

    def report(self, message: str) -> None:
        self.problem.emit(message)

    def collect(self, *sources: ProblemSource) -> None:
        for source in sources:
            source.connect(self.report)
