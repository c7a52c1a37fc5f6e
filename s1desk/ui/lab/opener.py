"""Opens the Scaling view as a window of its own, made on first use and kept (runs go on)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from s1desk.backends.base import Backend
from s1desk.lab.extract import extract
from s1desk.ui.lab.scaling_view import ScalingView

PREFILL_NOTE = (
    "The expected answer is the one extracted from the chat's reply: correct it if it is wrong."
)


class ScalingOpener(QObject):
    """Shows the Scaling view over ``parent``; ``compare`` prefills it with a question.

    The view's messages come out of ``problem`` (forwarded once it exists).
    """

    problem = Signal(str)

    def __init__(
        self,
        parent: QWidget,
        backend: Callable[[], Backend | None],
        dark: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._backend = backend
        self._dark = dark
        self.view: ScalingView | None = None

    def show(self) -> ScalingView:
        if self.view is None:
            self.view = ScalingView(self._backend, dark=self._dark(), parent=self._parent)
            self.view.setWindowFlag(Qt.WindowType.Window)
            self.view.problem.connect(self.problem)
            self.view.refresh_runs()
        self.view.show()
        self.view.raise_()
        self.view.activateWindow()
        return self.view

    def compare(self, question: str, answer: str = "") -> ScalingView:
        """Open the view on ``question``; the answer the chat got (``answer``) is offered as
        the one to expect."""
        view = self.show()
        expected = extract(answer).text if answer else None
        view.prefill(question, expected or "", PREFILL_NOTE if expected else "")
        return view

    async def shutdown(self) -> None:
        if self.view is not None:
            await self.view.shutdown()
