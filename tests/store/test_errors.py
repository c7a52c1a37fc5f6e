"""A full disk, a read-only file, a file that is not ours: clear errors, nothing lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from store.recording import record

from s1desk.errors import S1DeskError
from s1desk.store import (
    HistoryStore,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreReadOnlyError,
    StoreVersionError,
    migrations,
)


def test_a_full_disk_is_a_clear_error_and_keeps_what_was_saved(
    store: HistoryStore, db_path: Path
) -> None:
    conversation = record(store, "Saved before the disk filled")
    db = store._db  # cap the file where it is: SQLite then fails with SQLITE_FULL for real
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(StoreFullError, match=r"Could not save the question: the disk .* is full"):
        store.add_question(conversation.id, "x" * 100_000)
    assert len(store.messages(conversation.id)) == 2  # the failed write left nothing behind
    store.close()
    with HistoryStore.open(db_path) as again:
        question = again.messages(conversation.id)[0]
        assert question.text == "Saved before the disk filled"
        assert len(again.search("filled")) == 1


def test_store_errors_belong_to_the_one_exception_tree() -> None:
    assert issubclass(StoreFullError, StoreError)
    assert issubclass(StoreError, S1DeskError)


def test_writing_a_read_only_database_is_a_clear_error(db_path: Path) -> None:
    with HistoryStore.open(db_path) as store:
        conversation = record(store, "Readable")
    with HistoryStore.open(db_path, read_only=True) as reader:
        assert reader.list_conversations()[0].id == conversation.id
        with pytest.raises(StoreReadOnlyError, match="read-only"):
            reader.rename_conversation(conversation.id, "New name")
        with pytest.raises(StoreReadOnlyError, match="read-only"):
            reader.create_conversation()
        assert reader.conversation(conversation.id).title == "Readable"


def test_a_file_that_is_not_a_database_is_kept_aside_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    notes = "these are my notes, not a database\n" * 200
    path.write_text(notes)
    with HistoryStore.open(path) as store:
        assert store.set_aside is not None
        kept = store.set_aside.moved_to
        assert "was not an SQLite database" in store.set_aside.message
        assert str(kept) in store.set_aside.message
        assert store.list_conversations() == []
    assert kept.read_text() == notes  # every byte kept, under a new name
    assert kept.parent == tmp_path


def test_a_damaged_sqlite_file_is_an_error_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with HistoryStore.open(path) as store:
        record(store, "Soon damaged")
    data = bytearray(path.read_bytes())
    data[100:] = b"\xa5" * (len(data) - 100)  # the SQLite header stays, the pages do not
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorruptError, match="not an s1desk history database, or it is dam"):
        HistoryStore.open(path)
    assert path.read_bytes() == bytes(data)


def test_a_database_from_a_newer_version(db_path: Path) -> None:
    with HistoryStore.open(db_path) as store:
        record(store, "Old question")
    with sqlite3.connect(db_path) as db:
        db.execute("INSERT INTO _migrations VALUES ('m999_from_the_future', 0)")
    with pytest.raises(StoreVersionError, match=r"newer s1desk .*m999_from_the_future"):
        HistoryStore.open(db_path)


def test_read_only_open_of_an_old_database_says_it_needs_an_upgrade(db_path: Path) -> None:
    with sqlite3.connect(db_path, isolation_level=None) as db:
        migrations.migrate(db, until="m001_initial")
    db.close()
    with pytest.raises(StoreError, match=r"needs an upgrade .*m002_full_text_search"):
        HistoryStore.open(db_path, read_only=True)


def test_a_missing_directory_cannot_be_opened_read_only(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open"):
        HistoryStore.open(tmp_path / "nowhere" / "history.sqlite3", read_only=True)
