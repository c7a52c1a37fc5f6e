"""Export to Markdown and JSON, with or without reasoning; import JSON back."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from store.recording import generation, record

from s1desk.chat.recording import start_recording
from s1desk.events import ErrorEvent, ThinkingText
from s1desk.store import HistoryStore, ImportFormatError, Message, MessageStatus
from s1desk.store.export import SCHEMA, VERSION
from s1desk.thinking.machine import FinishReason

REASONING = ("Consider $x^2$ and <b>bold</b> claims; ", "check the limit.")


@pytest.fixture
def conversation_id(store: HistoryStore) -> int:
    conversation = record(
        store, "What is $\\int_0^1 x^2\\,dx$?", generation(REASONING, ("It is $1/3$.",))
    )
    record(store, "And with `code`?", generation(finish=FinishReason.CANCELLED), conversation)
    store.add_question(conversation.id, "Third, failing")
    with start_recording(store, conversation.id) as recorder:
        recorder.feed(ThinkingText("Hmm"))
        recorder.feed(ErrorEvent("the server went away", "connection"))
    return conversation.id


def comparable(messages: list[Message]) -> list[Message]:
    return [dataclasses.replace(m, id=0, conversation_id=0) for m in messages]


def test_json_round_trip_is_exact(store: HistoryStore, conversation_id: int) -> None:
    exported = store.export_json(conversation_id)
    imported = store.import_json(exported)
    assert imported.id != conversation_id
    original = store.conversation(conversation_id)
    assert dataclasses.replace(imported, id=original.id) == original
    assert comparable(store.messages(imported.id)) == comparable(store.messages(conversation_id))
    assert store.export_json(imported.id) == exported


def test_json_round_trip_through_a_file_and_another_store(
    store: HistoryStore, conversation_id: int, tmp_path: Path
) -> None:
    file = tmp_path / "conversation.json"
    file.write_bytes(store.export_json(conversation_id).encode())
    with HistoryStore.open(tmp_path / "other.sqlite3") as other:
        imported = other.import_json(file.read_bytes())
        assert comparable(other.messages(imported.id)) == comparable(
            store.messages(conversation_id)
        )
        assert len(other.search("limit")) == 1  # the imported reasoning is searchable


def test_json_without_reasoning(store: HistoryStore, conversation_id: int) -> None:
    document = json.loads(store.export_json(conversation_id, reasoning=False))
    assert document["schema"] == SCHEMA
    assert document["version"] == VERSION
    assert document["reasoning_included"] is False
    text = json.dumps(document)
    assert "check the limit" not in text
    assert "It is $1/3$." in text
    answer = document["messages"][1]
    assert {"reasoning", "waits", "thinking_end"}.isdisjoint(answer)
    assert answer["policy"]["min_thinking"] == 50
    imported = store.import_json(json.dumps(document))
    answers = [m for m in store.messages(imported.id) if m.role == "assistant"]
    assert [m.reasoning for m in answers] == ["", "", ""]
    assert [m.text for m in answers] == ["It is $1/3$.", "The answer is 42.", ""]
    assert [m.status for m in answers] == [
        MessageStatus.COMPLETE,
        MessageStatus.INTERRUPTED,
        MessageStatus.ERROR,
    ]


def test_markdown_with_reasoning(store: HistoryStore, conversation_id: int) -> None:
    markdown = store.export_markdown(conversation_id)
    assert markdown.startswith("# What is $\\int_0^1 x^2\\,dx$?\n")
    assert "## Question\n\nWhat is $\\int_0^1 x^2\\,dx$?\n" in markdown
    assert "> **Reasoning** (7 thinking tokens, extended 1× with “Wait”)" in markdown
    # The Wait is marked where it came, as the window marks it, not fused into the text.
    assert "> Consider $x^2$ and <b>bold</b> claims;\n>\n> **⟲ Wait #1 (at 3 tokens)** Wait" in (
        markdown
    )
    # The figures and where they came from are kept.
    assert "*38.5 tokens/s · 7 thinking + 2 answer tokens · 0.6 s in all · test.gguf" in markdown
    assert "\nIt is $1/3$.\n" in markdown
    assert "*This answer was interrupted before it finished.*" in markdown
    assert "*The answer failed: the server went away*" in markdown
    assert markdown.index("It is $1/3$.") < markdown.index("And with `code`?")


def test_markdown_without_reasoning(store: HistoryStore, conversation_id: int) -> None:
    markdown = store.export_markdown(conversation_id, reasoning=False)
    assert "Reasoning" not in markdown
    assert "check the limit" not in markdown
    assert "It is $1/3$." in markdown


def _export(store: HistoryStore, conversation_id: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(store.export_json(conversation_id))
    return data


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: "{not json", r"not valid JSON: .* line 1, column 2"),
        (lambda d: b"\xff\xfe\x00garbage", "not UTF-8|not valid JSON"),
        (lambda d: json.dumps([1, 2]), "not an s1desk conversation export"),
        (lambda d: json.dumps({**d, "schema": "other"}), "not an s1desk conversation export"),
        (lambda d: json.dumps({**d, "version": 99}), "version 99, newer than this s1desk"),
        (lambda d: json.dumps({**d, "version": "1"}), 'no valid "version"'),
        (lambda d: json.dumps({**d, "messages": {}}), "messages: expected a list"),
        (
            lambda d: json.dumps({**d, "conversation": {**d["conversation"], "created": "soon"}}),
            r"conversation.created: not an ISO 8601 time: 'soon'",
        ),
        (
            lambda d: json.dumps({**d, "messages": [{**d["messages"][0], "role": "bot"}]}),
            r"messages\[0\].role: expected 'user' or 'assistant', got 'bot'",
        ),
        (
            lambda d: json.dumps({**d, "messages": [{**d["messages"][1], "text": 3}]}),
            r"messages\[0\].text: expected a string, got 3",
        ),
        (
            lambda d: json.dumps(
                {**d, "messages": [{**d["messages"][1], "policy": {"max_thinking": -1}}]}
            ),
            r"messages\[0\].policy: maximum thinking must be 0 or more",
        ),
        (
            lambda d: json.dumps(
                {**d, "messages": [{**d["messages"][1], "stats": {"waits": "many"}}]}
            ),
            r"messages\[0\].stats.waits: expected an integer, got 'many'",
        ),
        (
            lambda d: json.dumps(
                {**d, "messages": [{**d["messages"][1], "waits": [{"index": 1}]}]}
            ),
            r"messages\[0\].waits\[0\]: .*missing",
        ),
        (
            lambda d: json.dumps({**d, "messages": [{**d["messages"][1], "reasoning": "ab"}]}),
            r"messages\[0\]: a mark at character \d+ lies outside the reasoning \(2 characters\)",
        ),
        (
            lambda d: json.dumps({**d, "messages": [{**d["messages"][1], "colour": "red"}]}),
            r"messages\[0\]: unknown field\(s\) colour",
        ),
    ],
)
def test_malformed_files_are_refused_clearly(
    store: HistoryStore, conversation_id: int, damage: Any, message: str
) -> None:
    before = store.count_conversations()
    with pytest.raises(ImportFormatError, match=message):
        store.import_json(damage(_export(store, conversation_id)))
    assert store.count_conversations() == before  # nothing half-imported


def test_markdown_marks_the_cut_and_keeps_the_notes(store: HistoryStore) -> None:
    from s1desk.events import AnswerText, Done, StreamEvent, ThinkingEnd
    from s1desk.thinking.machine import CloseReason

    cut: list[StreamEvent] = [ThinkingText("Long thought "), ThinkingEnd(CloseReason.CAP, 500)]
    cut += [AnswerText("Final Answer: 3"), Done(FinishReason.LENGTH)]
    conversation = record(store, "Cut?", cut)
    empty: list[StreamEvent] = [
        ThinkingText("Short"),
        ThinkingEnd(CloseReason.NATURAL, 19),
        Done(FinishReason.STOP),
    ]
    record(store, "Empty?", empty, conversation)
    markdown = store.export_markdown(conversation.id)
    assert "**✂ Budget reached at 500 tokens**" in markdown
    assert "*The answer reached its token limit.*" in markdown
    assert "*The model ended without an answer.*" in markdown


def test_markdown_keeps_every_version_of_a_regenerated_answer(store: HistoryStore) -> None:
    conversation = record(store, "Versions?", generation(answer=("First answer.",)))
    with start_recording(store, conversation.id) as recorder:
        for event in generation(answer=("Second answer.",)):
            recorder.feed(event)
    markdown = store.export_markdown(conversation.id)
    assert "## Answer (version 1 of 2)\n" in markdown
    assert "## Answer (version 2 of 2, chosen)\n" in markdown  # the regenerated one, newest
    assert markdown.index("First answer.") < markdown.index("Second answer.")
    first = store.messages(conversation.id)[1]
    store.choose_answer(first.id)
    markdown = store.export_markdown(conversation.id)
    assert "## Answer (version 1 of 2, chosen)\n" in markdown
    assert "## Answer (version 2 of 2)\n" in markdown


def _two_versions(store: HistoryStore) -> tuple[int, list[Message]]:
    """A question answered twice, the first answer chosen, then a second question."""
    conversation = record(store, "Versions?", generation(answer=("First answer.",)))
    with start_recording(store, conversation.id) as recorder:
        for event in generation(answer=("Second answer.",)):
            recorder.feed(event)
    record(store, "And then?", generation(answer=("Then.",)), conversation)
    messages = store.messages(conversation.id)
    store.choose_answer(messages[1].id)
    return conversation.id, store.messages(conversation.id)


def test_json_says_which_answer_version_is_chosen_and_import_keeps_it(
    store: HistoryStore,
) -> None:
    conversation_id, messages = _two_versions(store)
    document = json.loads(store.export_json(conversation_id))
    assert document["version"] == 2
    chosen = [(m["text"], m.get("chosen")) for m in document["messages"]]
    assert chosen == [
        ("Versions?", None),
        ("First answer.", True),
        ("Second answer.", False),
        ("And then?", None),
        ("Then.", True),
    ]
    imported = store.import_json(json.dumps(document))
    again = store.messages(imported.id)
    assert [(m.text, m.chosen) for m in again] == [(m.text, m.chosen) for m in messages]
    assert store.turns(imported.id)[:2] == store.turns(conversation_id)[:2]
    assert store.turns(imported.id)[1].text == "First answer."
    assert store.export_json(imported.id).count('"chosen": true') == 2


def test_an_export_from_before_versions_goes_on_from_the_last_answer(
    store: HistoryStore,
) -> None:
    conversation_id, _ = _two_versions(store)
    document = json.loads(store.export_json(conversation_id))
    document["version"] = 1
    for message in document["messages"]:
        message.pop("chosen", None)
    imported = store.import_json(json.dumps(document))
    answers = [m for m in store.messages(imported.id) if m.role == "assistant"]
    assert [(m.text, m.chosen) for m in answers] == [
        ("First answer.", False),
        ("Second answer.", True),
        ("Then.", True),
    ]


def test_a_chosen_flag_that_is_not_true_or_false_is_refused(store: HistoryStore) -> None:
    conversation_id, _ = _two_versions(store)
    document = json.loads(store.export_json(conversation_id))
    document["messages"][1]["chosen"] = "yes"
    with pytest.raises(ImportFormatError, match=r"messages\[1\].chosen: expected true or false"):
        store.import_json(json.dumps(document))
