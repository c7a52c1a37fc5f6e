"""Answer versions in the store: every answer kept, one chosen, the choice saved at once."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from store.recording import generation, record

from s1desk.chat.recording import start_recording
from s1desk.store import HistoryStore, Message, NotFoundError, migrations
from s1desk.thinking.format import Turn

FIXTURES = Path(__file__).parent / "fixtures"


def regenerate(store: HistoryStore, conversation_id: int, answer: str) -> None:
    """Another answer to the conversation's last question, as Regenerate saves it."""
    with start_recording(store, conversation_id) as recorder:
        for event in generation(answer=(answer,)):
            recorder.feed(event)


def answers(messages: list[Message]) -> list[tuple[str, bool]]:
    return [(m.text, m.chosen) for m in messages if m.role == "assistant"]


def test_a_new_answer_is_chosen_and_the_earlier_ones_are_kept(store: HistoryStore) -> None:
    conversation = record(store, "Which?", generation(answer=("One.",)))
    regenerate(store, conversation.id, "Two.")
    regenerate(store, conversation.id, "Three.")
    assert answers(store.messages(conversation.id)) == [
        ("One.", False),
        ("Two.", False),
        ("Three.", True),
    ]
    assert store.turns(conversation.id) == [Turn("user", "Which?"), Turn("assistant", "Three.")]


def test_choosing_a_version_changes_the_history_and_survives_reopening(
    store: HistoryStore, db_path: Path
) -> None:
    conversation = record(store, "Which?", generation(answer=("One.",)))
    regenerate(store, conversation.id, "Two.")
    record(store, "Next?", generation(answer=("Next.",)), conversation)
    first = store.messages(conversation.id)[1]
    store.choose_answer(first.id)
    assert answers(store.messages(conversation.id)) == [
        ("One.", True),
        ("Two.", False),
        ("Next.", True),  # another question's answer is left as it was
    ]
    assert store.turns(conversation.id) == [
        Turn("user", "Which?"),
        Turn("assistant", "One."),
        Turn("user", "Next?"),
        Turn("assistant", "Next."),
    ]
    # Committed at once: another connection (what a crash right after the click leaves)
    # sees it before the store is closed.
    with sqlite3.connect(db_path) as db:
        chosen = db.execute("SELECT id FROM messages WHERE chosen = 1 ORDER BY id").fetchall()
        assert [row[0] for row in chosen] == [first.id, store.messages(conversation.id)[-1].id]
    db.close()
    store.close()
    with HistoryStore.open(db_path) as again:
        assert answers(again.messages(conversation.id)) == [
            ("One.", True),
            ("Two.", False),
            ("Next.", True),
        ]


def test_only_an_answer_can_be_chosen(store: HistoryStore) -> None:
    conversation = record(store, "Which?")
    question = store.messages(conversation.id)[0]
    with pytest.raises(NotFoundError, match=f"no answer {question.id} to choose"):
        store.choose_answer(question.id)
    with pytest.raises(NotFoundError, match="no answer 999 to choose"):
        store.choose_answer(999)


def test_a_database_from_before_versions_opens_and_goes_on_from_the_last_answers(
    db_path: Path,
) -> None:
    # The schema just before m006, with a question answered twice (a regenerate then).
    with sqlite3.connect(db_path) as db:
        db.executescript((FIXTURES / "v5_m005_eval_runs.sql").read_text())
        db.execute(
            "INSERT INTO messages (id, conversation_id, position, role, text, created, updated) "
            "VALUES (9, 1, 2, 'assistant', 'Yes: no divisor up to 9.', 1764000070, 1764000080)"
        )
    db.close()
    with HistoryStore.open(db_path) as store:
        assert "m006_chosen_answers" in migrations.names()
        messages = store.messages(1)
        assert answers(messages) == [
            ("Yes, 97 is prime.", False),
            ("Yes: no divisor up to 9.", True),
        ]
        assert store.turns(1)[-1] == Turn("assistant", "Yes: no divisor up to 9.")
        store.choose_answer(messages[1].id)
        assert answers(store.messages(1)) == [
            ("Yes, 97 is prime.", True),
            ("Yes: no divisor up to 9.", False),
        ]
        # A regenerate after the upgrade unmarks the choice made and chooses the new one.
        regenerate(store, 1, "Prime.")
        assert [c for _, c in answers(store.messages(1))] == [False, False, True]


def test_a_tampered_choice_is_read_as_unmarked(
    store: HistoryStore, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    conversation = record(store, "Which?", generation(answer=("One.",)))
    regenerate(store, conversation.id, "Two.")
    first, second = (m.id for m in store.messages(conversation.id)[1:])
    with sqlite3.connect(db_path) as db:
        # A hand edit past the CHECK: the flag stored as text.
        db.execute("PRAGMA ignore_check_constraints = ON")
        db.execute("UPDATE messages SET chosen = 'yes' WHERE id = ?", (first,))
        db.execute("UPDATE messages SET chosen = 0 WHERE id = ?", (second,))
    db.close()
    with caplog.at_level(logging.WARNING):
        messages = store.messages(conversation.id)
    assert messages[1].damage
    assert messages[1].damage[0].startswith("chosen:")
    assert answers(messages) == [("One.", False), ("Two.", True)]  # none marked: the last
