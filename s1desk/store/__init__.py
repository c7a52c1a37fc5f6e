"""Conversation history in SQLite: conversations, streamed answers, search, export."""

from s1desk.store.errors import (
    ImportFormatError,
    NotFoundError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreReadOnlyError,
    StoreVersionError,
)
from s1desk.store.history import HistoryStore
from s1desk.store.records import (
    Conversation,
    Message,
    MessageStatus,
    SearchHit,
    SnippetPart,
    ThinkingEndMark,
    WaitMark,
)

__all__ = [
    "Conversation",
    "HistoryStore",
    "ImportFormatError",
    "Message",
    "MessageStatus",
    "NotFoundError",
    "SearchHit",
    "SnippetPart",
    "StoreCorruptError",
    "StoreError",
    "StoreFullError",
    "StoreReadOnlyError",
    "StoreVersionError",
    "ThinkingEndMark",
    "WaitMark",
]
