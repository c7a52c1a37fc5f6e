"""The sidebar's lists: saved conversations (paged in as you scroll) and search hits."""

from __future__ import annotations

import html
import logging
from datetime import UTC, datetime

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from s1desk.store import Conversation, HistoryStore, SearchHit, StoreError

log = logging.getLogger(__name__)

#: Conversations read from the store at a time.
PAGE = 50
#: Search matches read at a time.
SEARCH_PAGE = 25

Index = QModelIndex | QPersistentModelIndex

ID_ROLE = Qt.ItemDataRole.UserRole + 1  # the conversation's id
SUBTITLE_ROLE = Qt.ItemDataRole.UserRole + 2  # second line, as HTML
MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 3  # a search hit's message id
FIELD_ROLE = Qt.ItemDataRole.UserRole + 4  # where a search hit matched


def when(moment: datetime, now: datetime | None = None) -> str:
    """A short local date: the time today, else the day (with the year if not this one)."""
    local = moment.astimezone()
    today = (now or datetime.now(UTC)).astimezone()
    if local.date() == today.date():
        return local.strftime("%H:%M")
    if local.year == today.year:
        return f"{local.day} {local:%b}"
    return f"{local.day} {local:%b %Y}"


class ConversationListModel(QAbstractListModel):
    """Conversations outside the trash, newest first, read a page at a time.

    Views ask for more (``fetchMore``) as they scroll to the end, so a history
    of thousands opens as fast as one of fifty. Titles are editable (rename).
    """

    problem = Signal(str)

    def __init__(self, store: HistoryStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._rows: list[Conversation] = []
        self._total = 0
        self.reload()

    def reload(self) -> None:
        """Read the list again (as many rows as were shown, at least a page)."""
        wanted = max(PAGE, len(self._rows))
        try:
            total = self._store.count_conversations()
            rows = self._store.list_conversations(0, wanted)
        except StoreError as exc:
            self.problem.emit(str(exc))
            return
        self.beginResetModel()
        self._total = total
        self._rows = rows
        self.endResetModel()

    @property
    def total(self) -> int:
        """Conversations in the history (loaded or not)."""
        return self._total

    def conversation(self, row: int) -> Conversation:
        return self._rows[row]

    def row_of(self, conversation_id: int) -> int | None:
        for row, conversation in enumerate(self._rows):
            if conversation.id == conversation_id:
                return row
        return None

    # -- Qt model --------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008, N802
        if parent.isValid():
            return
        try:
            more = self._store.list_conversations(len(self._rows), PAGE)
        except StoreError as exc:
            self.problem.emit(str(exc))
            return
        known = {c.id for c in self._rows}
        more = [c for c in more if c.id not in known]
        if not more:
            self._total = len(self._rows)
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
        self._rows += more
        self.endInsertRows()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        c = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return c.display_title
        if role == Qt.ItemDataRole.EditRole:
            return c.display_title
        if role == Qt.ItemDataRole.ToolTipRole:
            return c.display_title
        if role == ID_ROLE:
            return c.id
        if role == SUBTITLE_ROLE:
            model = f" · {html.escape(c.model)}" if c.model else ""
            return f"{when(c.updated)}{model}"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.isValid() else base

    def setData(  # noqa: N802 (Qt override)
        self, index: Index, value: object, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        """Rename: the new title is saved at once (blank gives back the placeholder)."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or not isinstance(value, str):
            return False
        row = index.row()
        old = self._rows[row]
        if value.strip() == old.display_title:
            return False
        try:
            renamed = self._store.rename_conversation(old.id, value)
        except StoreError as exc:
            self.problem.emit(str(exc))
            return False
        self._rows[row] = renamed
        self.dataChanged.emit(index, index)
        return True


class SearchModel(QAbstractListModel):
    """The messages that match a search, newest first, a page at a time as the view scrolls:
    the conversation's title, a snippet, and where it matched."""

    problem = Signal(str)

    def __init__(self, store: HistoryStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._query = ""
        self._hits: list[SearchHit] = []
        self._more = False

    def search(self, query: str) -> None:
        """Show the first page of matches for ``query`` (nothing for a blank one)."""
        self.beginResetModel()
        self._query = query.strip()
        self._hits = []
        self._more = bool(self._query)
        self.endResetModel()
        if self._more:
            self.fetchMore()

    def hit(self, row: int) -> SearchHit:
        return self._hits[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._hits)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802
        return not parent.isValid() and self._more

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008, N802
        if parent.isValid() or not self._more:
            return
        try:
            more = self._store.search(self._query, limit=SEARCH_PAGE, offset=len(self._hits))
        except StoreError as exc:
            self._more = False
            self.problem.emit(str(exc))
            return
        self._more = len(more) == SEARCH_PAGE
        if more:
            first = len(self._hits)
            self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
            self._hits += more
            self.endInsertRows()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return hit.conversation_title or "New conversation"
        if role == Qt.ItemDataRole.ToolTipRole:
            return hit.snippet_text
        if role == ID_ROLE:
            return hit.conversation_id
        if role == MESSAGE_ROLE:
            return hit.message_id
        if role == FIELD_ROLE:
            return hit.field
        if role == SUBTITLE_ROLE:
            parts = "".join(
                f"<b>{html.escape(p.text)}</b>" if p.match else html.escape(p.text)
                for p in hit.snippet
            )
            return f"<i>{hit.field}:</i> {parts}"
        return None
