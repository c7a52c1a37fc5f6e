"""Answer versions in the window: Regenerate adds one, "‹ 1/2 ›" switches, reopening keeps it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

from s1desk.backends.scripted import ScriptedBackend
from s1desk.events import AnswerText, Done, Stats, StreamEvent, ThinkingEnd, ThinkingText
from s1desk.thinking.format import Turn
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.ui.window.main_window import MainWindow
from support.qt import Windows, click, until


def reply(reasoning: str, answer: str, rate: float) -> list[StreamEvent]:
    """Thinking word by word, then the answer, with statistics saying ``rate`` tokens/s."""
    words = reasoning.split(" ")
    events: list[StreamEvent] = [
        ThinkingText(w if i == 0 else " " + w) for i, w in enumerate(words)
    ]
    events.append(ThinkingEnd(CloseReason.NATURAL, len(words)))
    events.append(AnswerText(answer))
    events.append(Stats(20, 0, len(words), 1, 0, 0.1, 1.0, 1.2, rate))
    events.append(Done(FinishReason.STOP))
    return events


FIRST = reply("Two socks make a pair", "A pair is two socks.", 40)
SECOND = reply(" ".join(["Count", "them", "one", "by", "one"] * 8), "Two, counted twice.", 25)
THEN = reply(" ".join(["Then", "more"] * 10), "Four socks.", 30)


def page(w: MainWindow, arun: Callable[..., Any], script: str) -> Any:
    return arun(w.transcript.evaluate(script))


def switcher(w: MainWindow, arun: Callable[..., Any], index: int = 0) -> str:
    """What reply ``index``'s version switcher shows ("" while hidden)."""
    return str(page(w, arun, f"S1.versionsText({index})"))


def shows(w: MainWindow, arun: Callable[..., Any], versions: str, answer: str) -> None:
    async def ready() -> bool:
        return bool(
            await w.transcript.evaluate("S1.versionsText(0)") == versions
            and await w.transcript.evaluate("S1.answerText(0)") == answer
        )

    arun(until(ready, what=f"{versions} showing {answer!r}"))


def test_regenerate_then_switch_back_to_the_first_answer_and_reopen_with_it(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    script: Iterator[list[StreamEvent]] = iter([FIRST, SECOND, THEN])
    backend = ScriptedBackend(lambda _r: next(script), rate=60)
    w = windows.make(backend)
    w.resize(1100, 700)
    w.chat.submit("How many socks make a pair?")
    arun(w.controller.wait_idle())
    shows(w, arun, "", "A pair is two socks.")  # one version: no switcher
    assert page(w, arun, "document.querySelectorAll('#ex-0 .versions a[href]').length") == 0

    # Regenerate, clicked in the page as a person does; the switcher stays hidden meanwhile.
    click(w.transcript, arun, "#ex-0 .tools > a[href^='s1desk:regenerate/']")
    arun(until(lambda: w.controller.busy, what="the regenerated reply streaming"))
    assert switcher(w, arun) == ""
    arun(w.controller.wait_idle())
    shows(w, arun, "‹ 2/2 ›", "Two, counted twice.")
    stats = "document.querySelector('#ex-0 .stats').textContent"
    assert "25.0 tokens/s" in page(w, arun, stats)
    assert "40 tokens" in page(w, arun, "S1.summaryText(0)")
    # Labelled for keyboard and screen-reader users; the end it cannot go past is disabled.
    prev = "document.querySelector('#ex-0 .versions a.prev')"
    nxt = "document.querySelector('#ex-0 .versions a.next')"
    assert page(w, arun, f"{prev}.getAttribute('aria-label')") == (
        "Previous answer: version 1 of 2"
    )
    assert page(w, arun, f"{prev}.title") == "Previous answer: version 1 of 2"
    assert page(w, arun, f"{nxt}.getAttribute('aria-disabled')") == "true"
    assert page(w, arun, f"{nxt}.hasAttribute('href')") is False
    assert page(
        w, arun, "document.querySelector('#ex-0 .versions').getAttribute('aria-label')"
    ) == ("Answer version 2 of 2")

    # Back to the first answer: its text, its figures, its reasoning in the pane.
    w.replies.show_reasoning(0)
    click(w.transcript, arun, "#ex-0 .versions a.prev")
    shows(w, arun, "‹ 1/2 ›", "A pair is two socks.")
    assert "40.0 tokens/s" in page(w, arun, stats)
    assert "5 tokens" in page(w, arun, "S1.summaryText(0)")
    assert page(w, arun, f"{prev}.getAttribute('aria-disabled')") == "true"
    assert page(w, arun, f"{nxt}.title") == "Next answer: version 2 of 2"
    assert w.reasoning.title.text() == "Reasoning · reply 1 · version 1 of 2"
    assert w.reasoning.text.toPlainText().startswith("Two socks make a pair")
    assert len(w.controller.session.exchanges[0].versions) == 2  # nothing lost

    # The next question goes on from the answer chosen; no switching while it streams.
    w.chat.submit("And two pairs?")
    arun(until(lambda: w.controller.busy))
    assert switcher(w, arun) == ""
    arun(w.controller.wait_idle())
    assert backend.requests[-1].history == (
        Turn("user", "How many socks make a pair?"),
        Turn("assistant", "A pair is two socks."),
    )
    shows(w, arun, "‹ 1/2 ›", "A pair is two socks.")
    assert switcher(w, arun, 1) == ""  # one version: no switcher

    # Reopened from the history: still the first answer, chosen, and the second kept.
    assert w.history is not None
    conversation = w.history.saver.current
    assert conversation is not None
    windows.close(w)
    w2 = windows.make()
    assert w2.history is not None
    sidebar = w2.history.sidebar
    sidebar.list.clicked.emit(sidebar.model.index(0))
    assert w2.history.saver.current == conversation
    shows(w2, arun, "‹ 1/2 ›", "A pair is two socks.")
    click(w2.transcript, arun, "#ex-0 .versions a.next")
    shows(w2, arun, "‹ 2/2 ›", "Two, counted twice.")
    arun(asyncio.sleep(0))


def test_a_search_hit_in_an_earlier_version_opens_that_version(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    script: Iterator[list[StreamEvent]] = iter(
        [reply("Think of patterns", "Argyle socks.", 40), reply("Plain", "Plain socks.", 30)]
    )
    w = windows.make(ScriptedBackend(lambda _r: next(script), rate=2000))
    w.chat.submit("Which socks?")
    arun(w.controller.wait_idle())
    assert w.controller.regenerate()
    arun(w.controller.wait_idle())
    shows(w, arun, "‹ 2/2 ›", "Plain socks.")
    assert w.history is not None
    sidebar = w.history.sidebar
    sidebar.search_box.setText("argyle")
    sidebar.run_search()
    arun(until(lambda: sidebar.results.rowCount() == 1, what="the first answer found"))
    assert sidebar.results.hit(0).field == "answer"
    sidebar.result_list.clicked.emit(sidebar.results.index(0))
    shows(w, arun, "‹ 1/2 ›", "Argyle socks.")
    conversation = w.history.saver.current
    assert conversation is not None
    chosen = [m.text for m in w.history.store.messages(conversation) if m.chosen]
    assert chosen == ["Argyle socks."]
