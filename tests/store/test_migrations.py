"""Migrations: from an empty database, and from every earlier schema version."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from s1desk.store import HistoryStore, MessageStatus, migrations
from s1desk.thinking.machine import CloseReason

FIXTURES = Path(__file__).parent / "fixtures"


def schema(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """Every table, index and trigger with its SQL, FTS5's own tables left out."""
    rows = db.execute(
        "SELECT type, name, sql FROM sqlite_master "
        "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return sorted(
        (t, n, re.sub(r"\s+", " ", s))
        for t, n, s in rows
        if not (t == "table" and n.startswith("messages_search_"))
    )


def fresh(until: str | None = None) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", isolation_level=None)
    migrations.migrate(db, until=until)
    return db


def load(path: Path, fixture: Path) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(fixture.read_text())
    db.close()


def fixture_for(version: int) -> Path:
    (path,) = FIXTURES.glob(f"v{version}_*.sql")
    return path


EARLIER = list(range(1, len(migrations.MIGRATIONS)))


def test_every_earlier_version_has_a_fixture() -> None:
    found = sorted(p.name for p in FIXTURES.glob("v*.sql"))
    expected = [f"v{n}_{name}.sql" for n, name in enumerate(migrations.names()[:-1], start=1)]
    assert found == expected


def test_migration_names_are_numbered_in_order() -> None:
    names = migrations.names()
    assert names[0] == "m001_initial"
    for i, name in enumerate(names, start=1):
        assert re.fullmatch(rf"m{i:03d}_[a-z0-9_]+", name), name


def test_an_empty_database_gets_every_migration(db_path: Path) -> None:
    with HistoryStore.open(db_path) as store:
        assert store.list_conversations() == []
    with sqlite3.connect(db_path) as db:
        assert [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY rowid")] == (
            migrations.names()
        )
        assert schema(db) == schema(fresh())
    db.close()


def test_opening_again_changes_nothing(db_path: Path) -> None:
    HistoryStore.open(db_path).close()
    with sqlite3.connect(db_path, isolation_level=None) as db:
        assert migrations.migrate(db) == []
        assert migrations.pending(db) == []
    db.close()


@pytest.mark.parametrize("version", EARLIER)
def test_old_migrations_were_not_edited(version: int) -> None:
    """The frozen fixture's schema is what the migrations up to that version make today."""
    with sqlite3.connect(":memory:") as frozen:
        frozen.executescript(fixture_for(version).read_text())
        name = migrations.names()[version - 1]
        assert schema(frozen) == schema(fresh(until=name))
    frozen.close()


@pytest.mark.parametrize("version", EARLIER)
def test_upgrade_from_an_earlier_version_keeps_the_data(db_path: Path, version: int) -> None:
    load(db_path, fixture_for(version))
    with HistoryStore.open(db_path) as store:
        conversations = store.list_conversations()
        assert [c.title for c in conversations] == ["Integrate x squared", "Is 97 prime?"]
        assert all(c.deleted is None for c in conversations)
        question, answer = store.messages(1)
        assert question.text == "Is 97 prime?"
        assert answer.text == "Yes, 97 is prime."
        assert answer.reasoning[answer.waits[0].offset :].startswith("Wait")
        assert answer.thinking_end is not None
        assert answer.thinking_end.reason is CloseReason.NATURAL
        assert answer.thinking_end.offset == len(answer.reasoning)
        assert answer.policy is not None
        assert answer.policy.min_thinking == 40
        assert answer.stats is not None
        assert answer.stats.waits == 1
        # Left streaming by a process long gone: interrupted, and now searchable.
        unfinished = store.messages(2)[1]
        assert unfinished.status is MessageStatus.INTERRUPTED
        assert [h.message_id for h in store.search("divisors")] == [2]
        assert [h.message_id for h in store.search("cubed")] == [4]
        assert [h.message_id for h in store.search("antiderivative")] == [4]
        # The newest schema's features work on the upgraded data.
        store.delete_conversation(1)
        assert store.search("divisors") == []
        assert store.restore_conversation(1).deleted is None
    with sqlite3.connect(db_path) as db:
        assert schema(db) == schema(fresh())
        # FTS5 checks the structure of its index; it raises if it is damaged.
        db.execute("INSERT INTO messages_search (messages_search) VALUES ('integrity-check')")
    db.close()
