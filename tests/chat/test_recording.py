"""A recording writes what a streaming message says in batches, and how it ended."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path

import pytest
from store.recording import generation

from s1desk.backends.base import GenerationRequest
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig
from s1desk.backends.scripted import synthetic_reply
from s1desk.chat.message import AssistantMessage, PieceKind
from s1desk.chat.recording import FLUSH_EVENTS, Recording, snapshot, start_recording
from s1desk.chat.restore import reply_from_message
from s1desk.events import (
    AnswerText,
    BudgetAdjusted,
    Done,
    ErrorEvent,
    Stats,
    StreamEvent,
    ThinkingEnd,
    ThinkingText,
    WaitInjected,
)
from s1desk.sampling import SamplerSettings
from s1desk.store import HistoryStore, Message, MessageStatus, StoreFullError
from s1desk.store.records import ThinkingEndMark, WaitMark
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.thinking.policy import BudgetPolicy
from support.events import Transcript
from support.sqlwrites import counting_writes


class Clock:
    """Time that moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def saved(path: Path, message_id: int) -> Message:
    """The message as another reader of the database sees it now."""
    with HistoryStore.open(path, read_only=True) as reader:
        return reader.message(message_id)


def test_writes_in_batches_by_count(store: HistoryStore, db_path: Path) -> None:
    conversation = store.create_conversation()
    recorder = start_recording(store, conversation.id, flush_events=3, flush_seconds=60)
    assert saved(db_path, recorder.message_id).status is MessageStatus.STREAMING
    recorder.feed(ThinkingText("a"))
    recorder.feed(ThinkingText("b"))
    assert saved(db_path, recorder.message_id).reasoning == ""
    assert recorder.pending == 2
    recorder.feed(ThinkingText("c"))
    assert saved(db_path, recorder.message_id).reasoning == "abc"
    assert recorder.pending == 0
    recorder.close()


def test_writes_in_batches_by_time(store: HistoryStore, db_path: Path) -> None:
    clock = Clock()
    conversation = store.create_conversation()
    message_id = start_recording(store, conversation.id).message_id
    message = AssistantMessage(BudgetPolicy())
    recorder = Recording(
        store, message_id, message, flush_seconds=0.5, flush_events=1000, clock=clock
    )
    recorder.feed(ThinkingText("slow "))
    clock.now = 0.4
    recorder.feed(ThinkingText("thoughts"))
    assert saved(db_path, recorder.message_id).reasoning == ""
    clock.now = 0.5
    recorder.feed(ThinkingText("!"))
    assert saved(db_path, recorder.message_id).reasoning == "slow thoughts!"
    recorder.feed(ThinkingText(" more"))
    recorder.flush_if_due()  # not due yet
    assert recorder.pending == 1
    clock.now = 1.2
    recorder.flush_if_due()  # a timer's call while the stream stalls
    assert saved(db_path, recorder.message_id).reasoning == "slow thoughts! more"
    recorder.close()


def test_a_long_fast_trace_is_saved_in_few_writes(store: HistoryStore) -> None:
    """10,000 thinking tokens and 200 answer tokens while the clock stands still: counted."""
    assert FLUSH_EVENTS == 4096
    conversation = store.create_conversation()
    message_id = start_recording(store, conversation.id).message_id
    recorder = Recording(store, message_id, AssistantMessage(BudgetPolicy()), clock=Clock())
    with counting_writes(store) as seen:
        for i in range(10_000):
            recorder.feed(ThinkingText(f"t{i} "))
        recorder.feed(ThinkingEnd(CloseReason.NATURAL, 10_000))
        for i in range(200):
            recorder.feed(AnswerText(f"a{i} "))
        recorder.feed(Done(FinishReason.STOP))
        recorder.close()
    # Thinking: two batches of 4096, then the end of thinking writes the last 1808 with it;
    # the answer's 200 wait for Done, which writes them. One transaction each, one UPDATE
    # of the message in each, and the conversation's time once, with the last.
    assert seen.commits == recorder.flushes == 4
    assert len(seen.writes) == 5
    assert sum(w.lstrip().startswith("UPDATE messages") for w in seen.writes) == 4
    message = store.message(message_id)
    assert message.reasoning.endswith("t9999 ")
    assert message.text.endswith("a199 ")
    assert message.status is MessageStatus.COMPLETE


def test_nothing_new_writes_nothing(store: HistoryStore) -> None:
    conversation = store.create_conversation()
    recorder = start_recording(store, conversation.id, flush_events=2, flush_seconds=60)
    recorder.feed(ThinkingText("a"))
    recorder.feed(ThinkingText("b"))
    assert (recorder.flushes, recorder.pending) == (1, 0)
    with counting_writes(store) as seen:
        recorder.flush()
        recorder.flush_if_due()
        recorder.update()
    assert seen.statements == []
    recorder.close()


def test_marks_point_into_the_saved_reasoning(store: HistoryStore) -> None:
    stats = Stats(12, 3, 9, 2, 2, 0.05, 0.4, 0.6, 38.5)
    conversation = store.create_conversation()
    with start_recording(store, conversation.id, flush_events=1000, flush_seconds=60) as recorder:
        for event in (
            ThinkingText("ab"),
            WaitInjected("Wait", 2, 1),
            ThinkingText("cd"),
            WaitInjected(" Hmm", 5, 2),
            ThinkingEnd(CloseReason.CAP, 9),
            AnswerText("Final Answer: "),
            AnswerText("4"),
            stats,
            Done(FinishReason.LENGTH),
        ):
            recorder.feed(event)
    message = store.message(recorder.message_id)
    assert message.reasoning == "abWaitcd Hmm"
    assert message.waits == (WaitMark(1, 2, 2, "Wait"), WaitMark(2, 5, 8, " Hmm"))
    assert message.thinking_end == ThinkingEndMark(CloseReason.CAP, 9, 12)
    assert message.text == "Final Answer: 4"
    assert message.stats == stats
    assert (message.status, message.finish_reason) == (
        MessageStatus.COMPLETE,
        FinishReason.LENGTH,
    )
    assert recorder.flushes == 2  # the end of thinking, and Done


def test_events_after_the_end_are_logged_and_ignored(
    store: HistoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    conversation = store.create_conversation()
    recorder = start_recording(store, conversation.id)
    recorder.feed(Done(FinishReason.STOP))
    with (
        caplog.at_level(logging.WARNING, logger="s1desk.chat.message"),
        counting_writes(store) as seen,
    ):
        recorder.feed(AnswerText("late"))
        recorder.close()
    assert caplog.messages == ["answer after the end of the stream, ignored"]
    assert seen.statements == []
    assert recorder.pending == 0
    assert store.message(recorder.message_id).text == ""


def test_a_stalled_stream_is_written_when_its_time_comes(store: HistoryStore) -> None:
    clock = Clock()
    conversation = store.create_conversation()
    message_id = start_recording(store, conversation.id).message_id
    message = AssistantMessage(BudgetPolicy())
    recorder = Recording(
        store, message_id, message, flush_seconds=0.5, flush_events=1000, clock=clock
    )
    clock.now = 0.5
    assert recorder.seconds_to_due() == 0.0
    with counting_writes(store) as seen:
        recorder.flush_if_due()  # due, but nothing to write
    assert seen.statements == []
    recorder.feed(ThinkingText("x"))  # due: written at once
    assert (recorder.flushes, recorder.pending) == (1, 0)
    recorder.feed(ThinkingText("y"))
    clock.now = 0.75
    assert recorder.seconds_to_due() == 0.25
    clock.now = 0.99
    recorder.flush_if_due()
    assert recorder.pending == 1
    clock.now = 1.0  # exactly flush_seconds after the last write
    recorder.flush_if_due()
    assert (recorder.flushes, recorder.pending) == (2, 0)
    assert store.message(message_id).reasoning == "xy"
    clock.now = 9.0
    assert recorder.seconds_to_due() == 0.0
    recorder.close()


def test_end_of_thinking_and_done_write_at_once(store: HistoryStore, db_path: Path) -> None:
    conversation = store.create_conversation()
    recorder = start_recording(store, conversation.id, flush_events=1000, flush_seconds=60)
    recorder.feed(ThinkingText("think"))
    recorder.feed(ThinkingEnd(CloseReason.CAP, 4))
    message = saved(db_path, recorder.message_id)
    assert message.reasoning == "think"
    assert message.thinking_end is not None
    assert message.thinking_end.reason is CloseReason.CAP
    recorder.feed(AnswerText("Final Answer: 3"))
    assert saved(db_path, recorder.message_id).text == ""
    recorder.feed(Done(FinishReason.STOP))
    message = saved(db_path, recorder.message_id)
    assert (message.text, message.status) == ("Final Answer: 3", MessageStatus.COMPLETE)
    assert recorder.message.finished


def test_a_cancelled_generation_is_interrupted(store: HistoryStore) -> None:
    conversation = store.create_conversation()
    with start_recording(store, conversation.id) as recorder:
        for event in generation(finish=FinishReason.CANCELLED):
            recorder.feed(event)
    message = store.message(recorder.message_id)
    assert message.status is MessageStatus.INTERRUPTED
    assert message.finish_reason is FinishReason.CANCELLED
    assert message.text == "The answer is 42."


def test_a_recording_starts_with_what_made_the_answer(store: HistoryStore, db_path: Path) -> None:
    policy = BudgetPolicy(max_thinking=300, min_thinking=20, max_waits=2)
    sampler = SamplerSettings(temperature=0.0, seed=7)
    conversation = store.create_conversation()
    recorder = start_recording(
        store,
        conversation.id,
        backend="local",
        model="s1-32B-Q4_K_M.gguf",
        policy=policy,
        sampler=sampler,
        flush_seconds=0,  # every change is due at once
        flush_events=1000,
    )
    assert (recorder.message.policy, recorder.message.source) == (policy, "local")
    assert recorder.closed is False
    message = saved(db_path, recorder.message_id)
    assert (message.backend, message.model) == ("local", "s1-32B-Q4_K_M.gguf")
    assert (message.policy, message.sampler) == (policy, sampler)
    recorder.feed(ThinkingText("at once"))
    assert saved(db_path, recorder.message_id).reasoning == "at once"
    assert snapshot(recorder.message).status is MessageStatus.STREAMING
    recorder.close()
    assert recorder.closed is True


def test_a_recording_without_a_backend_has_an_unknown_source(store: HistoryStore) -> None:
    conversation = store.create_conversation()
    with start_recording(store, conversation.id) as recorder:
        assert (recorder.message.source, recorder.message.policy) == ("", BudgetPolicy())
    assert store.message(recorder.message_id).backend is None


def test_a_reply_closed_before_anything_came_is_interrupted(
    store: HistoryStore, db_path: Path
) -> None:
    conversation = store.create_conversation()
    recorder = start_recording(store, conversation.id)
    assert saved(db_path, recorder.message_id).status is MessageStatus.STREAMING
    recorder.close()
    assert saved(db_path, recorder.message_id).status is MessageStatus.INTERRUPTED
    assert recorder.flushes == 1


def test_closing_a_reply_saved_up_to_date_still_marks_it_interrupted(
    store: HistoryStore, db_path: Path
) -> None:
    conversation = store.create_conversation()
    recorder = start_recording(store, conversation.id, flush_events=1)
    recorder.feed(ThinkingText("all of it written"))
    assert recorder.pending == 0
    recorder.close()
    message = saved(db_path, recorder.message_id)
    assert (message.status, message.reasoning) == (MessageStatus.INTERRUPTED, "all of it written")
    assert recorder.flushes == 2


def test_an_abandoned_stream_is_interrupted(store: HistoryStore) -> None:
    conversation = store.create_conversation()
    with start_recording(store, conversation.id) as recorder:
        recorder.feed(ThinkingText("half a thou"))
    message = store.message(recorder.message_id)
    assert message.status is MessageStatus.INTERRUPTED
    assert message.reasoning == "half a thou"
    assert message.finish_reason is None
    assert len(store.search("thou")) == 1  # indexed once no longer streaming


def test_an_error_is_kept_with_what_came_before(store: HistoryStore) -> None:
    conversation = store.create_conversation()
    with start_recording(store, conversation.id) as recorder:
        recorder.feed(BudgetAdjusted(100, 0, "lowered to fit"))
        recorder.feed(WaitInjected("Wait", 0, 1))
        recorder.feed(AnswerText("partial"))
        recorder.feed(ErrorEvent("the model crashed", "backend"))
        recorder.feed(AnswerText("ignored: nothing follows an error"))
    message = store.message(recorder.message_id)
    assert message.status is MessageStatus.ERROR
    assert message.error == ErrorEvent("the model crashed", "backend")
    assert message.budget_adjusted == BudgetAdjusted(100, 0, "lowered to fit")
    assert message.text == "partial"
    assert message.reasoning == "Wait"


def test_a_full_disk_loses_nothing_fed(store: HistoryStore, db_path: Path) -> None:
    conversation = store.create_conversation()
    recorder = start_recording(store, conversation.id, flush_events=1)
    recorder.feed(ThinkingText("kept before the disk filled. "))
    # Provoke SQLITE_FULL for real: cap the file at the pages it has now.
    db = store._db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    chunk = "x" * 20_000
    with pytest.raises(StoreFullError, match="full"):
        recorder.feed(ThinkingText(chunk))
    assert saved(db_path, recorder.message_id).reasoning == "kept before the disk filled. "
    assert recorder.pending == 1
    db.execute("PRAGMA max_page_count = 1073741823")
    recorder.feed(Done(FinishReason.STOP))
    message = saved(db_path, recorder.message_id)
    assert message.reasoning == "kept before the disk filled. " + chunk
    assert message.status is MessageStatus.COMPLETE


def test_an_error_is_written_at_once(store: HistoryStore, db_path: Path) -> None:
    conversation = store.create_conversation()
    recorder = start_recording(store, conversation.id, flush_events=1000, flush_seconds=60)
    recorder.feed(AnswerText("partial"))
    recorder.feed(ErrorEvent("the server went away", "backend"))
    message = saved(db_path, recorder.message_id)
    assert (message.status, message.text) == (MessageStatus.ERROR, "partial")
    assert recorder.pending == 0


def test_a_close_that_cannot_write_keeps_its_changes_pending(
    store: HistoryStore, db_path: Path
) -> None:
    conversation = store.create_conversation()
    recorder = start_recording(store, conversation.id, flush_events=1000, flush_seconds=60)
    chunk = "y" * 20_000
    recorder.feed(ThinkingText(chunk))
    db = store._db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreFullError):
        recorder.close()
    assert recorder.closed
    assert recorder.pending == 1  # the text fed; the close is still to be saved too
    assert saved(db_path, recorder.message_id).status is MessageStatus.STREAMING
    db.execute("PRAGMA max_page_count = 1073741823")
    recorder.flush()
    message = saved(db_path, recorder.message_id)
    assert (message.status, message.reasoning) == (MessageStatus.INTERRUPTED, chunk)
    with counting_writes(store) as seen:
        recorder.flush()
        recorder.close()
    assert seen.statements == []


@pytest.mark.model
def test_a_real_generation_is_recorded_exactly(
    store: HistoryStore, runner: asyncio.Runner, model_path: Path
) -> None:
    """Offsets of each Wait and of the end of thinking point into the stored reasoning."""
    policy = BudgetPolicy(max_thinking=48, min_thinking=40, max_waits=3, max_answer=24)
    question = "What is 2+2? Reply with just the number."

    async def generate() -> list[StreamEvent]:
        async with await LocalBackend.load(LocalModelConfig(path=model_path, n_ctx=1024)) as llm:
            return [e async for e in llm.stream(GenerationRequest(question, policy=policy))]

    events = runner.run(generate())
    transcript = Transcript(events)
    conversation = store.create_conversation()
    store.add_question(conversation.id, question)
    with start_recording(store, conversation.id, policy=policy, backend="local") as recorder:
        for event in events:
            recorder.feed(event)
    message = store.message(recorder.message_id)
    assert message.status is MessageStatus.COMPLETE
    assert message.reasoning == transcript.reasoning
    assert message.text == transcript.answer
    assert message.stats == transcript.stats
    assert transcript.waits, "the minimum should have forced at least one Wait"
    assert [(w.index, w.at_token) for w in message.waits] == [
        (w.index, w.at) for w in transcript.waits
    ]
    for mark in message.waits:
        assert message.reasoning[mark.offset :].startswith(mark.text)
    assert message.thinking_end is not None
    assert message.thinking_end.at_token == transcript.thinking_end.thinking_tokens
    assert message.thinking_end.offset == len(message.reasoning)
    assert message.policy == policy


@pytest.mark.parametrize(
    "events",
    [
        synthetic_reply(50, wait_at=(10, 30), cap=True),
        synthetic_reply(0, answer="At once."),
        [*generation(finish=FinishReason.CANCELLED)],
        [BudgetAdjusted(9, 0, "lowered"), ThinkingText("Hm"), ErrorEvent("gone", "connection")],
    ],
    ids=["waits-and-cap", "no-thinking", "cancelled", "error"],
)
def test_restoring_is_the_inverse_of_recording(
    store: HistoryStore, events: list[StreamEvent]
) -> None:
    conversation = store.create_conversation()
    store.add_question(conversation.id, "q")
    with start_recording(store, conversation.id, policy=BudgetPolicy()) as recorder:
        for event in events:
            recorder.feed(event)
    live = recorder.message
    restored = reply_from_message(store.message(recorder.message_id))
    assert snapshot(restored) == snapshot(live)
    assert restored.reasoning == live.reasoning
    assert [(p.kind, p.index, p.at) for p in restored.pieces if p.kind is not PieceKind.TEXT] == [
        (p.kind, p.index, p.at) for p in live.pieces if p.kind is not PieceKind.TEXT
    ]
    assert (restored.waits, restored.thinking_tokens, restored.answer_tokens) == (
        live.waits,
        live.thinking_tokens,
        live.answer_tokens,
    )
    assert (restored.close_reason, restored.finish_reason, restored.error) == (
        live.close_reason,
        live.finish_reason,
        live.error,
    )


def test_a_reply_cut_short_reopens_with_its_true_figures_and_source(
    store: HistoryStore, db_path: Path
) -> None:
    conversation = store.create_conversation()
    recorder = start_recording(
        store, conversation.id, flush_events=1, flush_seconds=60, backend="test.gguf · local CPU"
    )
    for word in ("one ", "two ", "three ", "four "):
        recorder.feed(ThinkingText(word))
    # The process is killed here: nothing else is written. What a reader finds:
    found = saved(db_path, recorder.message_id)
    assert found.stats is not None
    assert found.stats.thinking_tokens == 4
    reopened = reply_from_message(dataclasses.replace(found, status=MessageStatus.INTERRUPTED))
    assert reopened.thinking_tokens == 4  # not one per run of text
    assert reopened.stats is not None
    assert reopened.source == "test.gguf · local CPU"
    recorder.close()
