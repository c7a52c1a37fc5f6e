"""Opening the history file: an unusable one set aside, then connected and migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from s1desk.store import database, dbfile, migrations
from s1desk.store.errors import StoreCorruptError, StoreError


def open_database(
    path: Path, *, read_only: bool
) -> tuple[sqlite3.Connection, dbfile.SetAside | None]:
    """The history at ``path`` connected and migrated, and the unusable file set aside there.

    Writable: the folder and file are created as needed, and a file that is
    empty or not an SQLite database is renamed, not overwritten (the second
    value says where it went). Read-only: such a file is refused, and so is a
    database that needs an upgrade.
    """
    set_aside = None
    if read_only:
        reason = dbfile.unusable(path) if path.is_file() else None
        if reason is not None:
            raise StoreCorruptError(
                f"Cannot read the history: {path} {reason}. Open it for writing to keep "
                "it aside and start a new history."
            )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        with database.errors(path, "create the history database"):
            try:
                set_aside = dbfile.prepare(path)
            except OSError as exc:
                raise StoreError(
                    f"Could not create the history database {path}: {exc.strerror or exc}."
                ) from exc
    db = database.connect(path, read_only=read_only)
    try:
        with database.errors(path, "prepare the history database"):
            waiting = migrations.pending(db)
            if waiting and read_only:
                raise StoreError(
                    f"The history database {path} needs an upgrade "
                    f"({', '.join(waiting)}) but was opened read-only."
                )
            migrations.migrate(db)
    except BaseException:
        db.close()
        raise
    return db, set_aside
