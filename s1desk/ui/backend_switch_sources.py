"""Which backend wrote each reply of the conversation ("backend · model" in its stats)."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject

from s1desk.chat.message import AssistantMessage
from s1desk.ui.chat_controller import ChatController


class ReplySources(QObject):
    """Remembers the backend's name for every reply generated in this window.

    A reply is recorded when its generation starts (``busy_changed(True)``),
    by the identity of its message, so edits and truncations that move
    indices do not mislabel it. Replies restored from history have none.
    """

    def __init__(self, controller: ChatController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._names: dict[int, tuple[weakref.ref[AssistantMessage], str]] = {}
        controller.busy_changed.connect(self._busy_changed)

    def of(self, message: AssistantMessage | None) -> str:
        """The name of the backend that wrote ``message`` ("" when unknown)."""
        if message is None:
            return ""
        entry = self._names.get(id(message))
        return entry[1] if entry is not None and entry[0]() is message else ""

    def _busy_changed(self, busy: bool) -> None:
        c = self._controller
        index = c.streaming_index
        backend = c.backend
        if not busy or index is None or backend is None:
            return
        message = c.message(index)
        if message is None:
            return
        self._names = {k: v for k, v in self._names.items() if v[0]() is not None}
        self._names[id(message)] = (weakref.ref(message), backend.name)
