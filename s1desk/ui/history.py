"""The window's conversation history: the store, recording, the sidebar, export and import."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from s1desk.chat.saving import ChatSaver
from s1desk.store import HistoryStore, SearchHit, StoreError
from s1desk.ui.export_actions import ExportActions
from s1desk.ui.sidebar import Sidebar

if TYPE_CHECKING:
    from s1desk.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class WindowHistory(QObject):
    """Saves the window's chats and lists them in its sidebar.

    Owns the store: :meth:`close` (from the window's shutdown, once no reply
    streams) finishes the recordings and closes the database.
    """

    def __init__(self, window: MainWindow, store: HistoryStore) -> None:
        super().__init__(window)
        self.window = window
        self.store = store
        self.binding = ChatSaver(store, window.controller)
        self.binding.attach()
        self.sidebar = Sidebar(store)
        self.exports = ExportActions(store, window)
        self._closed = False
        window.set_sidebar(self.sidebar)
        self._wire()

    def _wire(self) -> None:
        w = self.window
        b = self.binding
        s = self.sidebar
        show = w.banner.show_message
        b.changed.connect(lambda _id: s.refresh())
        b.opened.connect(s.select)
        b.problem.connect(show)
        s.open_requested.connect(b.open_conversation)
        s.hit_requested.connect(self.open_hit)
        s.new_chat_requested.connect(w.new_chat)
        s.deleted.connect(b.forget)
        s.export_requested.connect(self.export)
        s.problem.connect(show)
        self.exports.problem.connect(show)
        self.exports.done.connect(lambda text: w.statusBar().showMessage(text, 5000))
        self.exports.imported.connect(self._imported)
        a = w.actions_by_name
        a["export"].triggered.connect(lambda: self.export(b.current))
        a["import"].triggered.connect(self.exports.ask_import)
        a["find"].triggered.connect(self.focus_search)

    def focus_search(self) -> None:
        """Ctrl+F: the sidebar's search box (the sidebar shown if it was hidden)."""
        sizes = self.window.splitter.sizes()
        if sizes[0] == 0:
            self.window.splitter.setSizes([220, max(sizes[1] - 220, 300), sizes[2]])
        self.sidebar.focus_search()

    def export(self, conversation_id: int | None) -> None:
        """File ▸ Export…: the conversation as it stands, a streaming answer included."""
        self.binding.flush()
        self.exports.ask_export(conversation_id)

    def open_hit(self, hit: SearchHit) -> None:
        """Open a search hit's conversation at the message that matched."""
        if not self.binding.open_conversation(hit.conversation_id):
            return
        index = self.binding.exchange_of(hit.message_id)
        if index is None:
            return
        if hit.field == "reasoning" and self.window.controller.message(index) is not None:
            self.window.show_reasoning(index)
        else:
            self.window.transcript.select(index)

    def _imported(self, conversation_id: int) -> None:
        self.sidebar.refresh()
        if not self.window.controller.busy:
            self.binding.open_conversation(conversation_id)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.sidebar.undo_notice.dismiss()
            self.binding.close()


def attach_history(window: MainWindow, store: HistoryStore | None = None) -> WindowHistory | None:
    """Give ``window`` its history (the default database unless ``store``); ``None``, with a
    message in the window, when the database cannot be opened: chats then go unsaved."""
    if store is None:
        try:
            store = HistoryStore.open()
        except StoreError as exc:
            log.error("history unavailable: %s", exc)
            window.banner.show_message(f"Conversations will not be saved: {exc}")
            return None
    return WindowHistory(window, store)
