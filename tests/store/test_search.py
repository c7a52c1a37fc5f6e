"""Full-text search over questions, answers and reasoning."""

from __future__ import annotations

import pytest
from store.recording import generation, record

from s1desk.chat.recording import start_recording
from s1desk.events import AnswerText, ThinkingText
from s1desk.store import HistoryStore
from s1desk.store.search import fts_query


@pytest.fixture
def filled(store: HistoryStore) -> HistoryStore:
    record(
        store,
        "What is the derivative of sine?",
        generation(reasoning=("Recall the limit of sin(h)/h ", "as h goes to zero."),
                   answer=("The derivative is cosine.",)),
    )  # fmt: skip
    record(
        store,
        "Sort a list in Python",
        generation(reasoning=("Timsort is stable; ", "use sorted()."),
                   answer=("Use `sorted(items)` or `items.sort()`.",)),
    )  # fmt: skip
    return store


def test_finds_words_in_questions(filled: HistoryStore) -> None:
    (hit,) = filled.search("derivative of sine")
    assert hit.field == "question"
    assert hit.role == "user"
    assert hit.conversation_title == "What is the derivative of sine?"
    assert [p.text for p in hit.snippet if p.match] == ["derivative", "of", "sine"]


def test_finds_words_in_answers(filled: HistoryStore) -> None:
    (hit,) = filled.search("cosine")
    assert (hit.field, hit.role) == ("answer", "assistant")
    assert hit.snippet_text == "The derivative is cosine."


def test_finds_words_in_reasoning(filled: HistoryStore) -> None:
    (hit,) = filled.search("timsort")
    assert (hit.field, hit.role) == ("reasoning", "assistant")
    assert [p.text for p in hit.snippet if p.match] == ["Timsort"]
    assert "Timsort is stable" in hit.snippet_text


def test_the_last_word_matches_as_a_prefix_while_typing(filled: HistoryStore) -> None:
    assert [h.field for h in filled.search("timso")] == ["reasoning"]
    assert filled.search("timso ") == []  # a finished word must match whole


def test_results_are_newest_first(store: HistoryStore) -> None:
    for i in range(5):
        record(store, f"Question {i} about matrices")
    hits = store.search("matrices")
    assert [h.snippet_text for h in hits] == [
        f"Question {i} about matrices" for i in range(4, -1, -1)
    ]
    assert [h.created for h in hits] == sorted((h.created for h in hits), reverse=True)
    page = store.search("matrices", limit=2, offset=2)
    assert [h.message_id for h in page] == [h.message_id for h in hits[2:4]]


def test_deleted_conversations_are_not_found(filled: HistoryStore) -> None:
    (hit,) = filled.search("cosine")
    filled.delete_conversation(hit.conversation_id)
    assert filled.search("cosine") == []
    assert filled.search("derivative") == []
    filled.restore_conversation(hit.conversation_id)
    assert len(filled.search("cosine")) == 1
    filled.delete_conversation(hit.conversation_id)
    filled.purge_deleted()
    assert filled.search("cosine") == []


def test_renamed_or_edited_text_is_searched_as_it_is_now(store: HistoryStore) -> None:
    conversation = store.create_conversation()
    store.add_question(conversation.id, "quaternions")
    with start_recording(store, conversation.id) as recorder:
        recorder.feed(ThinkingText("octonions"))
        recorder.flush()
        # Still streaming: not indexed yet, so a growing answer costs no re-indexing.
        assert store.search("octonions") == []
        recorder.feed(AnswerText("sedenions"))
    assert [h.field for h in store.search("octonions")] == ["reasoning"]
    assert [h.field for h in store.search("sedenions")] == ["answer"]


@pytest.mark.parametrize(
    "typed",
    ['"unbalanced', "NEAR(a b)", "a AND OR NOT", "col:x", "*", "^start", "x -y", "(((", "'"],
)
def test_operators_and_punctuation_are_plain_text(filled: HistoryStore, typed: str) -> None:
    assert isinstance(filled.search(typed), list)  # never an FTS5 syntax error


def test_a_query_without_words_finds_nothing(filled: HistoryStore) -> None:
    assert fts_query("  ?! ") is None
    assert filled.search("  ?! ") == []


def test_quoted_phrases(filled: HistoryStore) -> None:
    assert len(filled.search('"derivative is cosine"')) == 1
    assert filled.search('"cosine is derivative"') == []
    assert fts_query('say "hello world" twice') == '"say" "hello world" "twice"*'


def test_search_ignores_accents_and_case(store: HistoryStore) -> None:
    record(store, "Über die Primzahlen von Erdős")
    assert len(store.search("uber erdos")) == 1
    assert len(store.search("PRIMZAHLEN")) == 1


def test_snippets_of_long_reasoning_are_a_window_around_the_match(store: HistoryStore) -> None:
    reasoning = "filler words here. " * 500 + "The hidden quokka appears. " + "more text. " * 500
    record(store, "Animals?", generation(reasoning=(reasoning,), wait_after=0))
    (hit,) = store.search("quokka")
    assert hit.field == "reasoning"
    assert hit.snippet[0].text == "…"
    assert hit.snippet[-1].text == "…"
    assert [p.text for p in hit.snippet if p.match] == ["quokka"]
    assert len(hit.snippet_text) < 200


def test_matches_through_stemming_and_accents_still_get_a_snippet(store: HistoryStore) -> None:
    record(store, "Über die Primzahlen", generation(reasoning=("We integrate by parts.",)))
    (accent,) = store.search("uber")
    assert accent.field == "question"
    assert [p.text for p in accent.snippet if p.match] == ["Über"]
    (stem,) = store.search("integration")  # porter: integration ~ integrate
    assert stem.field == "reasoning"
    assert [p.text for p in stem.snippet if p.match] == ["integrate"]
