"""The conversation sidebar: New chat, search, saved conversations; rename and delete."""

from __future__ import annotations

import logging

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from s1desk.store import HistoryStore, SearchHit, StoreError
from s1desk.ui.history.sidebar_delegate import SidebarDelegate
from s1desk.ui.history.sidebar_model import ID_ROLE, ConversationListModel, SearchModel
from s1desk.ui.history.sidebar_undo import UndoNotice

log = logging.getLogger(__name__)

#: Typing pauses this long (ms) before a search runs.
SEARCH_DELAY_MS = 150


class Sidebar(QWidget):
    """Lists the saved conversations, newest first, and searches them.

    Clicking a conversation asks to open it (``open_requested``); a search hit
    asks to open its conversation at that message (``hit_requested``).
    Rename is inline (double-click, F2 or the context menu); Delete (the key
    or the menu) moves a conversation to the trash and offers Undo.
    """

    open_requested = Signal(int)
    hit_requested = Signal(SearchHit)
    new_chat_requested = Signal()
    export_requested = Signal(int)
    deleted = Signal(int)
    problem = Signal(str)

    def __init__(self, store: HistoryStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        # No minimum of its own: a narrow window squeezes the list (the splitter
        # handle brings it back) instead of refusing to get narrower.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._store = store
        self._current: int | None = None

        self.new_button = QPushButton("+  New chat")
        self.new_button.setObjectName("newChatButton")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.search_box = QLineEdit()
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText("Search questions, answers, reasoning")
        self.search_box.setToolTip("Search every conversation (Ctrl+F)")
        self.search_box.setClearButtonEnabled(True)

        self.model = ConversationListModel(store, self)
        self.list = QListView()
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setObjectName("conversationList")
        self.list.setModel(self.model)
        self.list.setItemDelegate(SidebarDelegate(1, self.list))
        self.list.setUniformItemSizes(True)
        self.list.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.DoubleClicked
        )
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

        self.results = SearchModel(store, self)
        self.result_list = QListView()
        self.result_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.result_list.setObjectName("searchResults")
        self.result_list.setModel(self.results)
        self.result_list.setItemDelegate(SidebarDelegate(2, self.result_list))
        self.result_list.setUniformItemSizes(True)
        self.result_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

        self.empty = QLabel("")
        self.empty.setObjectName("sidebarEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.empty.setWordWrap(True)
        self.empty.setContentsMargins(8, 16, 8, 8)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.list)
        self.stack.addWidget(self.result_list)
        self.stack.addWidget(self.empty)

        self.undo_notice = UndoNotice()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.setSpacing(6)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search_box)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.undo_notice)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.run_search)

        delete = QAction("Delete", self.list)
        delete.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self._delete_selected)
        self.list.addAction(delete)

        self.new_button.clicked.connect(self.new_chat_requested)
        self.search_box.textChanged.connect(self._search_changed)
        self.search_box.returnPressed.connect(self.run_search)
        self.list.clicked.connect(self._list_clicked)
        self.list.activated.connect(self._list_clicked)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.result_list.clicked.connect(self._hit_clicked)
        self.result_list.activated.connect(self._hit_clicked)
        self.undo_notice.undo.connect(self.restore)
        self.model.problem.connect(self.problem)
        self.results.problem.connect(self.problem)
        self.model.modelReset.connect(self._update_empty)
        self._update_empty()

    # -- list ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the conversations again (after one was saved, renamed or deleted)."""
        if self.list.state() is QAbstractItemView.State.EditingState:
            return  # a rename in progress: the next change refreshes
        self.model.reload()
        self.select(self._current)
        if self.search_box.text().strip():
            self._search_timer.start()

    def select(self, conversation_id: int | None) -> None:
        """Mark the conversation on screen (``None`` or 0: none)."""
        self._current = conversation_id or None
        row = self.model.row_of(conversation_id) if conversation_id else None
        selection = self.list.selectionModel()
        if row is None:
            selection.clearSelection()
            return
        index = self.model.index(row)
        self.list.setCurrentIndex(index)
        self.list.scrollTo(index)

    def rename(self, conversation_id: int) -> None:
        """Start renaming a conversation in place."""
        row = self.model.row_of(conversation_id)
        if row is not None:
            self.list.setFocus()
            self.list.edit(self.model.index(row))

    def delete(self, conversation_id: int) -> None:
        """Move a conversation to the trash and offer Undo."""
        try:
            conversation = self._store.conversation(conversation_id)
            self._store.delete_conversation(conversation_id)
        except StoreError as exc:
            self.problem.emit(str(exc))
            return
        self.model.reload()
        self.select(self._current)
        self.undo_notice.offer(conversation_id, conversation.display_title)
        self.deleted.emit(conversation_id)
        if self.search_box.text().strip():
            self.run_search()

    def restore(self, conversation_id: int) -> None:
        """Undo a delete."""
        try:
            self._store.restore_conversation(conversation_id)
        except StoreError as exc:
            self.problem.emit(str(exc))
            return
        self.refresh()

    # -- search ----------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    def run_search(self) -> None:
        """Search now for the text in the box (an empty box shows the list again)."""
        self._search_timer.stop()
        self.results.search(self.search_box.text())
        self._update_empty()

    def _search_changed(self, text: str) -> None:
        if text.strip():
            self._search_timer.start()
        else:
            self.run_search()

    # -- internals -------------------------------------------------------------------

    def _update_empty(self) -> None:
        searching = bool(self.search_box.text().strip())
        if searching and self.results.rowCount():
            self.stack.setCurrentWidget(self.result_list)
        elif searching:
            self.empty.setText("No matches.")
            self.stack.setCurrentWidget(self.empty)
        elif self.model.rowCount():
            self.stack.setCurrentWidget(self.list)
        else:
            self.empty.setText("No conversations yet.\nAsk something: it is saved here.")
            self.stack.setCurrentWidget(self.empty)

    def _list_clicked(self, index: QModelIndex) -> None:
        conversation_id = index.data(ID_ROLE)
        if isinstance(conversation_id, int):
            self.open_requested.emit(conversation_id)

    def _hit_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.hit_requested.emit(self.results.hit(index.row()))

    def _delete_selected(self) -> None:
        index = self.list.currentIndex()
        conversation_id = index.data(ID_ROLE) if index.isValid() else None
        if isinstance(conversation_id, int):
            self.delete(conversation_id)

    def _context_menu(self, at: QPoint) -> None:
        index = self.list.indexAt(at)
        conversation_id = index.data(ID_ROLE) if index.isValid() else None
        if not isinstance(conversation_id, int):
            return
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.open_requested.emit(conversation_id))
        menu.addAction("Rename", lambda: self.rename(conversation_id))
        menu.addAction("Export…", lambda: self.export_requested.emit(conversation_id))
        menu.addSeparator()
        menu.addAction("Delete", lambda: self.delete(conversation_id))
        menu.popup(self.list.viewport().mapToGlobal(at))
