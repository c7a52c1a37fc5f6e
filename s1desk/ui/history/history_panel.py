"""Saved conversations in the window: the sidebar, export and import, over the chat's saver."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from s1desk.chat.saving import ChatSaver
from s1desk.store import SearchHit
from s1desk.ui.history.export_actions import ExportActions
from s1desk.ui.history.sidebar import Sidebar
from s1desk.ui.kit.problems import ProblemSource

log = logging.getLogger(__name__)


class HistoryPanel(QObject):
    """Lists the saver's conversations in a sidebar and opens, exports and imports them.

    Takes what it works with: the :class:`~s1desk.chat.saving.ChatSaver`
    (which owns the store), and ``show_message(index, reasoning)``, which
    shows message ``index`` of the chat (in the reasoning pane when the hit
    was in the reasoning). ``new_chat_requested``, ``status`` (a status-bar
    line) and ``problem`` are for the window. :meth:`close` (from the
    window's shutdown, once no reply streams) closes the saver and the store.
    """

    new_chat_requested = Signal()
    status = Signal(str)
    problem = Signal(str)

    def __init__(
        self,
        saver: ChatSaver,
        show_message: Callable[[int, bool], None],
        dialog_parent: QWidget,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.saver = saver
        self.store = saver.store
        self._show_message = show_message
        self.sidebar = Sidebar(self.store)
        self.exports = ExportActions(self.store, dialog_parent)
        self._closed = False

    def attach(self) -> None:
        """Connect the sidebar, the exports and the saver to each other."""
        saver, sidebar = self.saver, self.sidebar
        saver.changed.connect(lambda _id: sidebar.refresh())
        saver.opened.connect(sidebar.select)
        sidebar.open_requested.connect(saver.open_conversation)
        sidebar.hit_requested.connect(self.open_hit)
        sidebar.new_chat_requested.connect(self.new_chat_requested)
        sidebar.deleted.connect(saver.forget)
        sidebar.export_requested.connect(self.export)
        self.exports.done.connect(self.status)
        self.exports.imported.connect(self._imported)

    def problems(self) -> tuple[ProblemSource, ...]:
        """Every signal here that carries a message for the user."""
        return (self.saver.problem, self.sidebar.problem, self.exports.problem)

    def export_current(self) -> None:
        """File ▸ Export…: the conversation on screen."""
        self.export(self.saver.current)

    def export(self, conversation_id: int | None) -> None:
        """Export a conversation as it stands, a streaming answer included."""
        self.saver.flush()
        self.exports.ask_export(conversation_id)

    def open_hit(self, hit: SearchHit) -> None:
        """Open a search hit's conversation at the message that matched; an answer version
        that matched is the one shown (and chosen)."""
        if not self.saver.open_conversation(hit.conversation_id):
            return
        found = self.saver.version_of(hit.message_id)
        if found is not None:
            self.saver.controller.choose_version(*found)
        index = self.saver.exchange_of(hit.message_id)
        if index is None:
            return
        in_reasoning = hit.field == "reasoning"
        self._show_message(index, in_reasoning and self.saver.controller.message(index) is not None)

    def _imported(self, conversation_id: int) -> None:
        self.sidebar.refresh()
        if not self.saver.controller.busy:
            self.saver.open_conversation(conversation_id)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.sidebar.undo_notice.dismiss()
            self.saver.close()
