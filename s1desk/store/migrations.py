"""Named, append-only schema migrations, each recorded in the ``_migrations`` table.

Never edit or reorder a migration once released: add a new one at the end.
Each runs in its own transaction with its record, so a crash leaves the
database at a version boundary.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable

from s1desk.store.errors import StoreVersionError

log = logging.getLogger(__name__)

Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register ``fn`` as the next migration; its name is its identity."""
    MIGRATIONS.append(fn)
    return fn


def _run(db: sqlite3.Connection, *statements: str) -> None:
    for statement in statements:
        db.execute(statement)


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    _run(
        db,
        """
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL,
            updated REAL NOT NULL,
            backend TEXT,
            model TEXT
        )
        """,
        "CREATE INDEX conversations_by_updated ON conversations (updated DESC, id DESC)",
        """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL
                REFERENCES conversations (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('streaming', 'complete', 'interrupted', 'error')),
            created REAL NOT NULL,
            updated REAL NOT NULL,
            writer TEXT,
            finish_reason TEXT,
            thinking_end_reason TEXT,
            thinking_end_token INTEGER,
            thinking_end_offset INTEGER,
            backend TEXT,
            model TEXT,
            policy TEXT,
            sampler TEXT,
            stats TEXT,
            budget_adjusted TEXT,
            error TEXT,
            waits TEXT NOT NULL DEFAULT '[]',
            -- Long texts last: SQLite reads a row's columns in order, and the
            -- columns after a long text live at the end of its overflow pages.
            text TEXT NOT NULL DEFAULT '',
            reasoning TEXT NOT NULL DEFAULT '',
            UNIQUE (conversation_id, position)
        )
        """,
        "CREATE INDEX messages_streaming ON messages (writer) WHERE status = 'streaming'",
    )


@migration
def m002_full_text_search(db: sqlite3.Connection) -> None:
    # An external-content index over messages. A message is indexed once it
    # stops streaming: a streamed answer rewrites its text every flush, and
    # re-indexing it each time would cost the writer for nothing.
    _run(
        db,
        """
        CREATE VIRTUAL TABLE messages_search USING fts5 (
            text, reasoning,
            content = 'messages', content_rowid = 'id',
            tokenize = 'porter unicode61 remove_diacritics 2'
        )
        """,
        """
        CREATE TRIGGER messages_search_insert AFTER INSERT ON messages
        WHEN new.status != 'streaming' BEGIN
            INSERT INTO messages_search (rowid, text, reasoning)
            VALUES (new.id, new.text, new.reasoning);
        END
        """,
        """
        CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
        WHEN old.status != 'streaming' BEGIN
            INSERT INTO messages_search (messages_search, rowid, text, reasoning)
            VALUES ('delete', old.id, old.text, old.reasoning);
        END
        """,
        """
        CREATE TRIGGER messages_search_update_old AFTER UPDATE OF text, reasoning, status
        ON messages WHEN old.status != 'streaming' BEGIN
            INSERT INTO messages_search (messages_search, rowid, text, reasoning)
            VALUES ('delete', old.id, old.text, old.reasoning);
        END
        """,
        """
        CREATE TRIGGER messages_search_update_new AFTER UPDATE OF text, reasoning, status
        ON messages WHEN new.status != 'streaming' BEGIN
            INSERT INTO messages_search (rowid, text, reasoning)
            VALUES (new.id, new.text, new.reasoning);
        END
        """,
        """
        INSERT INTO messages_search (rowid, text, reasoning)
        SELECT id, text, reasoning FROM messages WHERE status != 'streaming'
        """,
    )


@migration
def m003_trash(db: sqlite3.Connection) -> None:
    # Deleting moves a conversation to the trash (undo restores it); purging
    # removes it for good. The sidebar lists only what is not in the trash.
    _run(
        db,
        "ALTER TABLE conversations ADD COLUMN deleted REAL",
        "DROP INDEX conversations_by_updated",
        """
        CREATE INDEX conversations_live ON conversations (updated DESC, id DESC)
        WHERE deleted IS NULL
        """,
        "CREATE INDEX conversations_deleted ON conversations (deleted) WHERE deleted IS NOT NULL",
    )


@migration
def m004_search_order(db: sqlite3.Connection) -> None:
    # Search lists matches newest first. Walking this small index in order and
    # keeping the rows that matched stops after one page, instead of reading
    # every matching message (each on its own pages, next to its long texts).
    _run(
        db,
        "CREATE INDEX messages_by_created ON messages (created, id, conversation_id, role)",
    )


@migration
def m005_eval_runs(db: sqlite3.Connection) -> None:
    # The scaling lab's runs (see s1desk/store/eval_runs.py): one row per run
    # directory, and every judged generation, so the window can list and reopen them.
    _run(
        db,
        """
        CREATE TABLE eval_runs (
            id INTEGER PRIMARY KEY,
            out_dir TEXT NOT NULL UNIQUE,
            created REAL NOT NULL,
            updated REAL NOT NULL,
            source TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL DEFAULT '',
            backend TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'finished', 'interrupted', 'failed')),
            spec TEXT NOT NULL,
            points TEXT NOT NULL DEFAULT '[]',
            message TEXT NOT NULL DEFAULT ''
        )
        """,
        "CREATE INDEX eval_runs_by_updated ON eval_runs (updated DESC, id DESC)",
        """
        CREATE TABLE eval_items (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
            question_id TEXT NOT NULL,
            budget INTEGER NOT NULL,
            sample INTEGER NOT NULL,
            thinking_tokens INTEGER NOT NULL,
            answer_tokens INTEGER NOT NULL,
            waits INTEGER NOT NULL,
            thinking_end TEXT,
            finish TEXT NOT NULL,
            extracted TEXT,
            correct INTEGER NOT NULL,
            why TEXT NOT NULL,
            vote TEXT,
            seconds REAL NOT NULL,
            answer TEXT NOT NULL DEFAULT '',
            reasoning TEXT NOT NULL DEFAULT '',
            UNIQUE (run_id, budget, question_id, sample)
        )
        """,
    )


@migration
def m006_chosen_answers(db: sqlite3.Connection) -> None:
    # Answer versions: which of a question's answers (a regenerated answer is stored after
    # the earlier ones) the conversation goes on from. Rows from before have none marked:
    # the last answer of each question is taken (s1desk/store/versions.py).
    _run(
        db,
        "ALTER TABLE messages ADD COLUMN chosen INTEGER NOT NULL DEFAULT 0 "
        "CHECK (chosen IN (0, 1))",
    )


def names() -> list[str]:
    return [fn.__name__ for fn in MIGRATIONS]


def applied(db: sqlite3.Connection) -> list[str]:
    """Names of the migrations applied to ``db``, in the order they ran."""
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'"
    ).fetchone()
    if not exists:
        return []
    return [row[0] for row in db.execute("SELECT name FROM _migrations ORDER BY rowid")]


def pending(db: sqlite3.Connection) -> list[str]:
    """Migrations ``db`` still needs; raises if it has some this program does not know."""
    done = applied(db)
    unknown = [name for name in done if name not in names()]
    if unknown:
        raise StoreVersionError(
            "This history database was written by a newer s1desk (it has the "
            f"migration(s) {', '.join(unknown)}); update s1desk to open it."
        )
    return [name for name in names() if name not in done]


def migrate(db: sqlite3.Connection, until: str | None = None) -> list[str]:
    """Apply every pending migration (or those up to and including ``until``).

    ``db`` must be in autocommit mode (``isolation_level=None``). Returns the
    names applied; a database already up to date is not written to.
    """
    if until is not None and until not in names():
        raise ValueError(f"no migration named {until!r}")
    wanted = names()[: names().index(until) + 1] if until else names()
    ran: list[str] = []
    for fn in MIGRATIONS:
        name = fn.__name__
        if name not in wanted or name not in pending(db):
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            if name in pending(db):
                db.execute(
                    "CREATE TABLE IF NOT EXISTS _migrations "
                    "(name TEXT PRIMARY KEY, applied REAL NOT NULL)"
                )
                fn(db)
                db.execute(
                    "INSERT INTO _migrations (name, applied) VALUES (?, ?)", (name, time.time())
                )
                ran.append(name)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    if ran:
        log.info("database migrated: %s", ", ".join(ran))
    return ran
