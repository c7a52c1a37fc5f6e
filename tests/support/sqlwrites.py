"""Count the SQL statements a history store sends to SQLite, writes and commits apart."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from s1desk.store import HistoryStore

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class CountingConnection:
    """Stands in for a store's ``sqlite3.Connection`` and records each statement run through it.

    (sqlite3's trace callback would also see statements, but it reports each trigger
    program with its parent's text again, so one UPDATE there looks like three.)
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.statements: list[str] = []

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self.statements.append(sql)
        return self._db.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self.statements.append(sql)
        return self._db.executemany(sql, *args)

    def executescript(self, script: str) -> sqlite3.Cursor:
        self.statements.append(script)
        return self._db.executescript(script)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    @property
    def writes(self) -> list[str]:
        """The INSERT/UPDATE/DELETE/REPLACE statements."""
        return [s for s in self.statements if s.lstrip().upper().startswith(_WRITES)]

    @property
    def commits(self) -> int:
        """Write transactions committed."""
        return sum(1 for s in self.statements if s.strip().upper() == "COMMIT")


@contextmanager
def counting_writes(store: HistoryStore) -> Iterator[CountingConnection]:
    """Count every statement ``store`` runs on its connection while the block runs."""
    real = store._db
    counter = CountingConnection(real)
    store._db = counter  # type: ignore[assignment]  # the same methods, counted
    try:
        yield counter
    finally:
        store._db = real
