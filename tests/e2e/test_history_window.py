"""Chats are saved as they stream, reopen as they were, and go on from where they stopped."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from s1desk.backends.scripted import ScriptedBackend, synthetic_reply
from s1desk.chat.recording import FLUSH_SECONDS
from s1desk.chat.restore import INTERRUPTED_NOTICE
from s1desk.events import (
    AnswerText,
    Done,
    Stats,
    StreamEvent,
    ThinkingEnd,
    ThinkingText,
    WaitInjected,
)
from s1desk.store import HistoryStore, MessageStatus
from s1desk.thinking.format import Turn
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.ui.window.main_window import MainWindow
from support.qt import Windows, until
from support.sqlwrites import counting_writes


def reply(reasoning: str, answer: str, *, wait_after: int = 0) -> list[StreamEvent]:
    """Thinking word by word (a Wait after ``wait_after`` words), then the answer."""
    events: list[StreamEvent] = []
    words = reasoning.split(" ")
    for i, word in enumerate(words):
        events.append(ThinkingText(word if i == 0 else " " + word))
        if wait_after and i + 1 == wait_after:
            events.append(WaitInjected(" Wait,", at=i + 1, index=1))
    tokens = len(words) + (1 if wait_after else 0)
    events.append(ThinkingEnd(CloseReason.NATURAL, tokens))
    events += [AnswerText(w if i == 0 else " " + w) for i, w in enumerate(answer.split(" "))]
    events.append(
        Stats(20, 0, tokens, len(answer.split()), 1 if wait_after else 0, 0.1, 1.5, 2, 40)
    )
    events.append(Done(FinishReason.STOP))
    return events


def saved(w: MainWindow) -> HistoryStore:
    assert w.history is not None
    return w.history.store


def test_a_chat_is_saved_with_reasoning_waits_policy_and_stats(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    backend = ScriptedBackend(
        reply("Let me think about primes carefully", "It is 7.", wait_after=3)
    )
    w = windows.make(backend)
    w.chat.submit("Which prime comes after 5?")
    arun(w.controller.wait_idle())
    store = saved(w)
    [conversation] = store.list_conversations()
    assert conversation.title == "Which prime comes after 5?"
    assert conversation.backend == "scripted replay"
    question, answer = store.messages(conversation.id)
    assert question.text == "Which prime comes after 5?"
    assert answer.text == "It is 7."
    assert answer.reasoning == "Let me think Wait, about primes carefully"
    assert [(m.index, m.offset, m.text) for m in answer.waits] == [(1, 12, " Wait,")]
    assert answer.thinking_end is not None
    assert answer.thinking_end.reason is CloseReason.NATURAL
    assert answer.status is MessageStatus.COMPLETE
    assert answer.policy == w.controller.policy
    assert answer.sampler == w.controller.sampler
    assert answer.stats is not None
    assert answer.stats.tokens_per_second == 40
    # The sidebar lists it, titled by the question, and marks it as the one on screen.
    assert w.history is not None
    sidebar = w.history.sidebar
    assert sidebar.model.rowCount() == 1
    assert sidebar.model.conversation(0).display_title == "Which prime comes after 5?"
    assert sidebar.list.currentIndex().row() == 0


def test_reopening_the_app_shows_the_chat_and_its_reasoning(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    backend = ScriptedBackend(reply("Consider the lemma of Zorn first", "Done.", wait_after=2))
    w = windows.make(backend)
    w.chat.submit("Prove it")
    arun(w.controller.wait_idle())
    live_summary = arun(w.transcript.evaluate("S1.summaryText(0)"))
    windows.close(w)

    w2 = windows.make()
    assert w2.history is not None
    sidebar = w2.history.sidebar
    assert sidebar.model.rowCount() == 1
    assert sidebar.model.conversation(0).display_title == "Prove it"
    sidebar.list.clicked.emit(sidebar.model.index(0))
    assert len(w2.controller.session) == 1

    async def shown() -> bool:
        return bool(await w2.transcript.evaluate("S1.answerText(0)") == "Done.")

    arun(until(shown, what="the answer"))
    summary = arun(w2.transcript.evaluate("S1.summaryText(0)"))
    assert summary == live_summary  # "Thought for 1.5 s · 7 tokens · 1 × Wait"
    stats = arun(w2.transcript.evaluate("document.querySelector('#ex-0 .stats').textContent"))
    assert "40.0 tokens/s" in stats
    w2.replies.show_reasoning(0)
    text = w2.reasoning.text.toPlainText()
    assert "Consider the" in text
    assert "⟲ Wait #1 (at 2 tokens)" in text
    assert "lemma of Zorn first" in text
    assert "the model ended its thinking at 7 tokens" in text


def test_a_reopened_chat_goes_on_with_its_history(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    w = windows.make(ScriptedBackend(reply("Simple", "Four.")))
    w.chat.submit("2+2?")
    arun(w.controller.wait_idle())
    assert w.history is not None
    first = w.history.saver.current
    assert first is not None
    w.new_chat()
    assert w.history.saver.current is None
    assert w.history.sidebar.list.selectionModel().selectedIndexes() == []
    backend = ScriptedBackend(reply("Then", "Eight."))
    w.controller.set_backend(backend)
    w.history.sidebar.open_requested.emit(first)
    w.chat.submit("And doubled?")
    arun(w.controller.wait_idle())
    assert backend.requests[0].history == (Turn("user", "2+2?"), Turn("assistant", "Four."))
    store = saved(w)
    assert store.count_conversations() == 1
    assert [m.text for m in store.messages(first)] == ["2+2?", "Four.", "And doubled?", "Eight."]


def test_regenerate_keeps_both_answers_and_reopens_with_the_last(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    answers = iter(["First try.", "Second try."])
    backend = ScriptedBackend(lambda _r: reply("Hmm", next(answers)))
    w = windows.make(backend)
    w.chat.submit("Try")
    arun(w.controller.wait_idle())
    w.controller.regenerate()
    arun(w.controller.wait_idle())
    assert w.history is not None
    conversation = w.history.saver.current
    assert conversation is not None
    texts = [m.text for m in saved(w).messages(conversation)]
    assert texts == ["Try", "First try.", "Second try."]
    windows.close(w)
    w2 = windows.make()
    assert w2.history is not None
    w2.history.saver.open_conversation(conversation)
    message = w2.controller.message(0)
    assert message is not None
    assert message.answer == "Second try."


def test_editing_an_earlier_question_drops_what_followed_in_the_saved_chat(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    backend = ScriptedBackend(lambda r: reply("Ok", f"Re: {r.question}"))
    w = windows.make(backend)
    for question in ("one", "two", "three"):
        w.chat.submit(question)
        arun(w.controller.wait_idle())
    assert w.history is not None
    before = w.history.saver.current
    w.chat.begin_edit(1)
    w.chat.submit("TWO")
    arun(w.controller.wait_idle())
    after = w.history.saver.current
    assert after is not None
    assert after != before
    store = saved(w)
    assert [m.text for m in store.messages(after)] == ["one", "Re: one", "TWO", "Re: TWO"]
    assert store.conversation(after).title == "one"
    # The conversation as it was is in the trash, not lost; the sidebar lists one.
    assert [c.id for c in store.deleted_conversations()] == [before]
    assert w.history.sidebar.model.rowCount() == 1
    assert backend.requests[-1].history == (Turn("user", "one"), Turn("assistant", "Re: one"))


def test_closing_the_window_mid_stream_keeps_the_partial_answer_marked_interrupted(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    backend = ScriptedBackend(synthetic_reply(5000), rate=400)
    w = windows.make(backend)
    w.chat.submit("Think for a long time")
    arun(until(lambda: w.controller.message(0).thinking_tokens > 150))  # type: ignore[union-attr]
    windows.close(w)  # what quitting does: stop, save, close

    w2 = windows.make()
    store = saved(w2)
    [conversation] = store.list_conversations()
    answer = store.messages(conversation.id)[1]
    assert answer.status is MessageStatus.INTERRUPTED
    assert len(answer.reasoning) > 150
    assert w2.history is not None
    w2.history.sidebar.open_requested.emit(conversation.id)
    message = w2.controller.message(0)
    assert message is not None
    assert message.notice == INTERRUPTED_NOTICE
    notice = arun(w2.transcript.evaluate("document.querySelector('#ex-0 .notice').textContent"))
    assert notice == INTERRUPTED_NOTICE
    assert "stopped" in arun(w2.transcript.evaluate("S1.summaryText(0)"))
    w2.replies.show_reasoning(0)
    assert w2.reasoning.text.toPlainText().startswith(answer.reasoning[:100])


def test_the_gui_thread_records_a_long_fast_trace_in_a_few_writes(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    backend = ScriptedBackend(synthetic_reply(6000), rate=3000)
    w = windows.make(backend)
    w.budget.max_box.setValue(8000)
    start = time.monotonic()
    with counting_writes(saved(w)) as seen:
        w.chat.submit("long")
        arun(w.controller.wait_idle(), timeout=60)
    elapsed = time.monotonic() - start
    # ~6,010 events: a write per FLUSH_SECONDS while they stream (4,096 events force one
    # more at most), one at the end of thinking and at the end, and the question, the
    # answer's start and the title. One write per event or per small batch is far above.
    assert seen.commits <= 8 + elapsed / FLUSH_SECONDS, (seen.commits, elapsed)
    assert w.history is not None
    conversation = w.history.saver.current
    assert conversation is not None
    answer = saved(w).messages(conversation)[1]
    assert answer.status is MessageStatus.COMPLETE
    message = w.controller.message(0)
    assert message is not None
    assert answer.reasoning == message.reasoning
    assert answer.stats is not None
    assert answer.stats.thinking_tokens == 6000
