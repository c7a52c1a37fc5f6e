"""The history file and what it holds as hostile input: private files, a file that is not a
database kept aside, tampered columns read back one by one, imports out of range or too deep."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from store.recording import record

from s1desk.store import (
    HistoryStore,
    ImportFormatError,
    MessageStatus,
    StoreCorruptError,
)
from s1desk.store.rows import EPOCH


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The common default: without our care, new files would be world-readable."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_its_wal_and_shm_are_private(db_path: Path, umask_022: None) -> None:
    with HistoryStore.open(db_path) as store:
        record(store, "Private question")
        wal = db_path.with_name(db_path.name + "-wal")
        shm = db_path.with_name(db_path.name + "-shm")
        assert wal.exists()
        assert shm.exists()
        assert [_mode(p) for p in (db_path, wal, shm)] == [0o600, 0o600, 0o600]
    assert not list(db_path.parent.glob(".*.new*"))  # the temporary build is gone


def test_an_existing_world_readable_database_is_made_private(
    db_path: Path, umask_022: None
) -> None:
    with HistoryStore.open(db_path) as store:
        record(store, "Old question")
    db_path.chmod(0o644)
    with HistoryStore.open(db_path) as store:
        assert _mode(db_path) == 0o600
        assert store.list_conversations()[0].title == "Old question"


def test_a_zero_byte_database_is_kept_aside_and_the_user_told(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.touch()
    wal = db_path.with_name(db_path.name + "-wal")
    wal.write_bytes(b"whatever was left in the log")
    with caplog.at_level(logging.WARNING), HistoryStore.open(db_path) as store:
        aside = store.set_aside
        assert aside is not None
        assert aside.reason == "was empty (0 bytes)"
        assert aside.moved_to.name.startswith("history.sqlite3.set-aside-")
        assert aside.message == (
            f"The history database {db_path} was empty (0 bytes). It was kept as "
            f"{aside.moved_to} and a new, empty history was started."
        )
        assert store.list_conversations() == []
        record(store, "A fresh start")
    assert aside.message in caplog.text
    assert aside.moved_to.stat().st_size == 0
    assert aside.moved_to.with_name(aside.moved_to.name + "-wal").read_bytes() == (
        b"whatever was left in the log"
    )
    with HistoryStore.open(db_path) as again:  # the new history is a real one now
        assert again.set_aside is None
        assert [c.title for c in again.list_conversations()] == ["A fresh start"]


def test_a_zero_byte_database_opened_read_only_is_a_clear_error(db_path: Path) -> None:
    db_path.touch()
    with pytest.raises(StoreCorruptError, match=r"history.sqlite3 was empty \(0 bytes\)"):
        HistoryStore.open(db_path, read_only=True)
    assert db_path.exists()
    assert db_path.stat().st_size == 0


def test_two_set_asides_in_the_same_second_do_not_collide(db_path: Path) -> None:
    kept = []
    for _ in range(2):
        db_path.write_bytes(b"")
        with HistoryStore.open(db_path) as store:
            assert store.set_aside is not None
            kept.append(store.set_aside.moved_to)
        db_path.unlink()
    assert kept[0] != kept[1]
    assert all(p.exists() for p in kept)


# -- tampered columns ---------------------------------------------------------------


def _tamper(path: Path, sql: str, *args: Any) -> None:
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("PRAGMA ignore_check_constraints = ON")  # as another tool might
        db.execute(sql, args)
    db.close()


def _answer_id(store: HistoryStore, conversation_id: int) -> int:
    return store.messages(conversation_id)[1].id


@pytest.mark.parametrize(
    ("column", "value", "said"),
    [
        ("waits", "{{ not json", "waits: Expecting property name"),
        ("waits", "[" * 100_000 + "]" * 100_000, "waits: nested too deeply"),
        ("stats", "[1", "stats: Expecting"),
        ("policy", '{"max_thinking": "x"}', "policy: BudgetPolicy.max_thinking: expected an int"),
        ("sampler", '{"temperature": -3}', "sampler: SamplerSettings: temperature must be 0 or"),
        ("error", '{"message": 1e999999}', "error: ErrorEvent.message: expected a string"),
        ("budget_adjusted", "null!", "budget_adjusted: Extra data"),
        ("created", 1e300, "created: timestamp out of range"),
        ("updated", "yesterday", "updated: expected a number, got 'yesterday'"),
        ("status", "bogus", "status: 'bogus' is not a valid MessageStatus"),
        ("finish_reason", "zzz", "finish_reason: 'zzz' is not a valid FinishReason"),
        ("thinking_end_reason", "bogus", "thinking_end: 'bogus' is not a valid CloseReason"),
        ("thinking_end_offset", 10**6, "marks: a mark at character 1000000 lies outside"),
        ("text", b"\xff\xfe", "text: stored as bytes, not text"),
        (
            "reasoning",
            b"Let me think about prime numbers, and more.",
            "reasoning: stored as bytes, not text",
        ),
        ("reasoning", "short", "marks: a mark at character 19 lies outside the reasoning"),
        ("position", "first", "position: expected an integer, got 'first'"),
    ],
)
def test_a_tampered_column_costs_that_column_only(
    store: HistoryStore,
    db_path: Path,
    column: str,
    value: Any,
    said: str | tuple[str, ...],
    caplog: pytest.LogCaptureFixture,
) -> None:
    conversation = record(store, "First question")
    record(store, "Second question", conversation=conversation)
    target = _answer_id(store, conversation.id)
    _tamper(db_path, f"UPDATE messages SET {column} = ? WHERE id = ?", value, target)
    with caplog.at_level(logging.WARNING):
        messages = store.messages(conversation.id)
    assert sorted(m.role for m in messages) == ["assistant", "assistant", "user", "user"]
    damaged = next(m for m in messages if m.id == target)
    expected = (said,) if isinstance(said, str) else said
    assert len(damaged.damage) == len(expected), damaged.damage
    for note, start in zip(damaged.damage, expected, strict=True):
        assert note.startswith(start), damaged.damage
    assert f"message {target} is damaged" in caplog.text
    intact = sorted((m for m in messages if m.id != target), key=lambda m: m.id)
    assert all(m.damage == () for m in intact)
    assert intact[-1].text == "The answer is 42."
    assert intact[-1].stats is not None
    assert intact[-1].policy is not None
    # What the rest of the store does with it still works.
    assert store.message(target).id == target
    assert "First question" in [t.text for t in store.turns(conversation.id)]
    json.loads(store.export_json(conversation.id))
    store.export_markdown(conversation.id)
    assert store.search("Second")[0].conversation_id == conversation.id


def test_a_damaged_message_keeps_its_readable_parts(store: HistoryStore, db_path: Path) -> None:
    conversation = record(store, "Question")
    target = _answer_id(store, conversation.id)
    _tamper(
        db_path,
        "UPDATE messages SET stats = '{', created = 1e300, status = 'bogus' WHERE id = ?",
        target,
    )
    answer = store.message(target)
    assert answer.text == "The answer is 42."
    assert answer.reasoning.startswith("Let me think about ")
    assert answer.stats is None
    assert answer.created == EPOCH
    assert answer.status is MessageStatus.INTERRUPTED
    assert [d.split(":")[0] for d in answer.damage] == ["created", "status", "stats"]


def test_a_message_with_an_unknown_role_is_skipped_and_the_rest_opens(
    store: HistoryStore, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    conversation = record(store, "Question")
    target = _answer_id(store, conversation.id)
    _tamper(db_path, "UPDATE messages SET role = 'robot' WHERE id = ?", target)
    with caplog.at_level(logging.WARNING):
        assert [m.role for m in store.messages(conversation.id)] == ["user"]
    assert f"message {target} has an unknown role 'robot'; it is skipped" in caplog.text
    with pytest.raises(StoreCorruptError, match=f"Message {target} .* is damaged"):
        store.message(target)


def test_tampered_conversation_columns_keep_the_list_open(
    store: HistoryStore, db_path: Path
) -> None:
    first = record(store, "Damaged one")
    second = record(store, "Intact one")
    _tamper(
        db_path,
        "UPDATE conversations SET updated = 1e300, created = -1e300, title = x'ff' WHERE id = ?",
        first.id,
    )
    listed = {c.id: c for c in store.list_conversations()}
    assert listed[second.id].title == "Intact one"
    assert listed[second.id].damage == ()
    damaged = listed[first.id]
    assert damaged.updated == damaged.created == EPOCH
    assert damaged.title == "\ufffd"
    assert [d.split(":")[0] for d in damaged.damage] == ["title", "created", "updated"]


def test_a_tampered_timestamp_does_not_break_search(store: HistoryStore, db_path: Path) -> None:
    conversation = record(store, "Findable question")
    question = store.messages(conversation.id)[0]
    _tamper(db_path, "UPDATE messages SET created = 1e300 WHERE id = ?", question.id)
    [hit] = store.search("Findable")
    assert hit.created == EPOCH


# -- hostile imports ----------------------------------------------------------------


@pytest.fixture
def exported(store: HistoryStore) -> dict[str, Any]:
    conversation = record(store, "To export")
    data: dict[str, Any] = json.loads(store.export_json(conversation.id))
    return data


def _with_answer(document: dict[str, Any], **fields: Any) -> str:
    messages = [document["messages"][0], {**document["messages"][1], **fields}]
    return json.dumps({**document, "messages": messages})


def _with_conversation(document: dict[str, Any], **fields: Any) -> str:
    return json.dumps({**document, "conversation": {**document["conversation"], **fields}})


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (
            lambda d: '{"schema": "s1desk.conversation", "x": ' + "[" * 200_000 + "]" * 200_000,
            "nested too deeply",
        ),
        (
            lambda d: _with_conversation(d, created="0001-01-01T00:00:00+05:00"),
            r"conversation.created: the time '0001-01-01T00:00:00\+05:00' is out of range",
        ),
        (
            lambda d: _with_conversation(d, updated="9999-12-31T23:59:59-05:00"),
            r"conversation.updated: the time .* is out of range",
        ),
        (
            lambda d: _with_conversation(d, updated="9999-12-31T23:59:59.999999+00:00"),
            r"conversation.updated: the time .* is out of range",
        ),
        (
            lambda d: _with_answer(d, created="0001-01-01T00:30:00+01:00"),
            r"messages\[1\].created: the time .* is out of range",
        ),
        (
            lambda d: _with_answer(
                d, waits=[{"index": 1, "at_token": 10**30, "offset": 0, "text": "Wait"}]
            ),
            r"messages\[1\].waits\[0\].at_token: the integer 10{30} is out of range",
        ),
        (
            lambda d: _with_answer(
                d, thinking_end={"reason": "natural", "at_token": 10**30, "offset": 0}
            ),
            r"messages\[1\].thinking_end.at_token: the integer 10{30} is out of range",
        ),
        (
            lambda d: _with_answer(
                d, waits=[{"index": 1, "at_token": -5, "offset": 0, "text": "Wait"}]
            ),
            r"messages\[1\]: a mark at token -5 \(below 0\)",
        ),
        (
            lambda d: _with_answer(d, stats={**d["messages"][1]["stats"], "waits": -(2**70)}),
            r"messages\[1\].stats.waits: the integer .* is out of range",
        ),
        (
            lambda d: _with_answer(d, text="bad \ud800 text"),
            r"messages\[1\].text: not valid Unicode text \(a lone surrogate at character 4\)",
        ),
        (
            lambda d: _with_answer(d, error={"message": "\udfff", "kind": "x"}),
            r"messages\[1\].error.message: not valid Unicode text",
        ),
        (
            lambda d: _with_answer(d, policy={"max_thinking": [[[[[[1]]]]]]}),
            r"messages\[1\].policy.max_thinking: expected an integer, got \[\[\[",
        ),
    ],
)
def test_hostile_imports_are_refused_clearly_and_change_nothing(
    store: HistoryStore, exported: dict[str, Any], make: Any, said: str
) -> None:
    before = store.count_conversations()
    with pytest.raises(ImportFormatError, match=said):
        store.import_json(make(exported))
    assert store.count_conversations() == before


def test_the_extremes_of_time_that_fit_import_and_read_back(
    store: HistoryStore, exported: dict[str, Any]
) -> None:
    text = _with_conversation(
        exported, created="0001-01-01T00:00:00+00:00", updated="9999-12-31T00:00:00-05:00"
    )
    imported = store.import_json(text)
    again = store.conversation(imported.id)
    assert again.created.year == 1
    assert again.updated.year == 9999
    assert again.damage == ()
