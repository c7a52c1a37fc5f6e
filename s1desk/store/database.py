"""Opening the SQLite file, transactions, and turning SQLite errors into clear ones."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from s1desk import paths
from s1desk.store.errors import (
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreReadOnlyError,
)

log = logging.getLogger(__name__)

FILENAME = "history.sqlite3"

#: How long a write waits for another process's transaction before giving up.
BUSY_TIMEOUT_MS = 5000


def default_path() -> Path:
    """The history database under the data directory (``S1DESK_HOME`` moves it)."""
    return paths.data_dir() / FILENAME


def translate(exc: sqlite3.Error, path: Path, doing: str) -> StoreError:
    """A store error whose message says what failed, where, and what to do."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == sqlite3.SQLITE_FULL:
        return StoreFullError(
            f"Could not {doing}: the disk holding {path} is full (or the database reached "
            "its size limit). Free some space and try again; what was saved before is kept."
        )
    if primary == sqlite3.SQLITE_READONLY:
        return StoreReadOnlyError(
            f"Could not {doing}: the history database {path} is read-only. "
            "Check the file's permissions and the disk it is on."
        )
    if primary in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return StoreCorruptError(
            f"Could not {doing}: {path} is not an s1desk history database, or it is damaged "
            f"({exc}). Move it aside to start a new history."
        )
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreError(
            f"Could not {doing}: the history database {path} is locked by another program."
        )
    if primary == sqlite3.SQLITE_CANTOPEN:
        return StoreError(f"Could not {doing}: cannot open {path} ({exc}).")
    if primary == sqlite3.SQLITE_IOERR:
        return StoreError(f"Could not {doing}: a disk error on {path} ({exc}).")
    return StoreError(f"Could not {doing} in {path}: {exc}")


@contextlib.contextmanager
def errors(path: Path, doing: str) -> Iterator[None]:
    """Raise SQLite errors inside as :class:`StoreError` with a clear message."""
    try:
        yield
    except sqlite3.Error as exc:
        raise translate(exc, path, doing) from exc


@contextlib.contextmanager
def transaction(db: sqlite3.Connection, path: Path, doing: str) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed when the block ends, rolled back on error."""
    with errors(path, doing):
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            # After SQLITE_FULL SQLite may have rolled back already.
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """Open ``path`` in WAL mode with foreign keys on, in autocommit mode.

    Transactions are explicit (:func:`transaction`). ``synchronous=NORMAL``
    in WAL mode survives a killed process; only a power cut can lose the last
    commits.
    """
    uri = path.resolve().as_uri() + ("?mode=ro" if read_only else "")
    doing = "open the history database"
    with errors(path, doing):
        db = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        with errors(path, doing):
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Reading the schema first makes "not a database" fail here, clearly.
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if not read_only:
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode != "wal":
                    log.warning("%s: WAL journal unavailable, using %s", path, mode)
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        db.close()
        raise
    return db
