"""Conversations and messages: create, reopen, list, rename, delete, restore."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from store.recording import POLICY, SAMPLER, generation, record

from s1desk.store import HistoryStore, MessageStatus, NotFoundError, WaitMark
from s1desk.store.database import FILENAME
from s1desk.thinking.format import Turn
from s1desk.thinking.machine import CloseReason, FinishReason


def test_the_default_file_lives_under_s1desk_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("S1DESK_HOME", str(tmp_path))
    with HistoryStore.open() as store:
        store.create_conversation("kept")
        assert store.path == tmp_path / "data" / FILENAME
    assert (tmp_path / "data" / FILENAME).is_file()


def test_the_database_is_in_wal_mode(store: HistoryStore, db_path: Path) -> None:
    with sqlite3.connect(db_path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_recorded_exchange_survives_reopening(db_path: Path) -> None:
    with HistoryStore.open(db_path) as store:
        conversation = record(store, "Is 97 prime?")
    with HistoryStore.open(db_path) as store:
        question, answer = store.messages(conversation.id)
    assert (question.role, question.text, question.position) == ("user", "Is 97 prime?", 0)
    assert question.status is MessageStatus.COMPLETE
    assert (answer.role, answer.position) == ("assistant", 1)
    assert answer.text == "The answer is 42."
    assert answer.reasoning == "Let me think about Waitprime numbers."
    assert answer.waits == (WaitMark(index=1, at_token=3, offset=19, text="Wait"),)
    assert answer.reasoning[19:23] == "Wait"
    assert answer.thinking_end is not None
    assert answer.thinking_end.reason is CloseReason.NATURAL
    assert answer.thinking_end.at_token == 7
    assert answer.thinking_end.offset == len(answer.reasoning)
    assert answer.policy == POLICY
    assert answer.sampler == SAMPLER
    assert answer.stats is not None
    assert answer.stats.tokens_per_second == 38.5
    assert (answer.backend, answer.model) == ("local", "test.gguf")
    assert answer.status is MessageStatus.COMPLETE
    assert answer.finish_reason is FinishReason.STOP
    assert answer.created <= answer.updated


def test_the_first_question_titles_the_conversation(store: HistoryStore) -> None:
    conversation = store.create_conversation()
    assert conversation.title == ""
    assert conversation.display_title == "New conversation"
    question = "How many   primes are\nthere below one hundred, and which of them are twin primes?"
    events = generation(reasoning=("Secret reasoning title words",))
    record(store, question, events, conversation)
    record(store, "A second question", conversation=conversation)
    title = store.conversation(conversation.id).title
    assert title.startswith("How many primes are there below one hundred")
    assert len(title) <= 60
    assert title.endswith("…")
    assert "reasoning" not in title.lower()


def test_a_given_title_is_kept(store: HistoryStore) -> None:
    conversation = store.create_conversation("Number theory")
    record(store, "Is 91 prime?", conversation=conversation)
    assert store.conversation(conversation.id).title == "Number theory"


def test_rename(store: HistoryStore) -> None:
    conversation = record(store, "Is 91 prime?")
    renamed = store.rename_conversation(conversation.id, "  Primes  ")
    assert renamed.title == "Primes"
    assert store.list_conversations()[0].title == "Primes"


def test_list_is_newest_first_and_paginated(store: HistoryStore) -> None:
    ids = [store.create_conversation(f"c{i}").id for i in range(7)]
    record(store, "Bring me to the top", conversation=store.conversation(ids[2]))
    first = store.list_conversations(offset=0, limit=3)
    second = store.list_conversations(offset=3, limit=3)
    third = store.list_conversations(offset=6, limit=3)
    order = [c.id for c in first + second + third]
    assert order == [ids[2], ids[6], ids[5], ids[4], ids[3], ids[1], ids[0]]
    assert store.count_conversations() == 7


def test_delete_hides_restore_brings_back(store: HistoryStore) -> None:
    keep = record(store, "Keep me")
    gone = record(store, "Delete me")
    store.delete_conversation(gone.id)
    assert [c.id for c in store.list_conversations()] == [keep.id]
    assert store.count_conversations() == 1
    trashed = store.deleted_conversations()
    assert [c.id for c in trashed] == [gone.id]
    assert trashed[0].deleted is not None
    restored = store.restore_conversation(gone.id)
    assert restored.deleted is None
    assert {c.id for c in store.list_conversations()} == {keep.id, gone.id}
    assert len(store.messages(gone.id)) == 2


def test_purge_removes_for_good(store: HistoryStore, db_path: Path) -> None:
    gone = record(store, "Delete me for good")
    kept = record(store, "Stay")
    store.delete_conversation(gone.id)
    assert store.purge_deleted(older_than=timedelta(days=30)) == 0
    assert store.purge_deleted() == 1
    with pytest.raises(NotFoundError, match=f"no conversation {gone.id}"):
        store.messages(gone.id)
    with pytest.raises(NotFoundError):
        store.restore_conversation(gone.id)
    assert len(store.messages(kept.id)) == 2
    with sqlite3.connect(db_path) as other:
        assert other.execute("SELECT count(*) FROM messages").fetchone()[0] == 2


def test_unknown_ids_are_clear_errors(store: HistoryStore) -> None:
    with pytest.raises(NotFoundError, match="no conversation 404"):
        store.add_question(404, "hello?")
    with pytest.raises(NotFoundError, match="no conversation 404"):
        store.rename_conversation(404, "x")
    with pytest.raises(NotFoundError, match="no message 404"):
        store.message(404)


def test_turns_give_the_history_for_the_next_request(store: HistoryStore) -> None:
    conversation = record(store, "Is 97 prime?")
    record(store, "And 91?", generation(answer=()), conversation)  # no answer text
    record(store, "And 89?", conversation=conversation)
    assert store.turns(conversation.id) == [
        Turn("user", "Is 97 prime?"),
        Turn("assistant", "The answer is 42."),
        Turn("user", "And 89?"),
        Turn("assistant", "The answer is 42."),
    ]
