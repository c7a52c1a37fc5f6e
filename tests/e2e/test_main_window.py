"""The real window driven with the scripted backend: timing-exact, no model needed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from s1desk.backends.scripted import ScriptedBackend, synthetic_reply
from s1desk.errors import BackendClosedError
from s1desk.events import ErrorEvent, ThinkingText
from s1desk.settings import load_settings
from s1desk.thinking.machine import FinishReason, Phase
from support.qt import Windows, until

ANSWER = "Seven times eight is **56**.\n\n```python\nprint(7 * 8)\n```"


def scripted(tokens: int = 300, rate: float = 2000, **kw: Any) -> ScriptedBackend:
    return ScriptedBackend(lambda r: synthetic_reply(tokens, answer=ANSWER, **kw), rate=rate)


def test_idle_window_says_no_model_and_keeps_an_unsent_message(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    w = windows.make()
    assert "no model" in w.status.label.text()
    w.composer.setPlainText("What is 7×8?")
    w.chat.submit(w.composer.toPlainText())
    assert w.banner.isVisible()
    assert "No model is loaded" in w.banner.text
    assert w.composer.toPlainText() == "What is 7×8?"  # nothing lost
    assert arun(w.transcript.evaluate("S1.count()")) == 0


def test_enter_sends_and_shift_enter_adds_a_line(
    windows: Windows, qtbot: QtBot, arun: Callable[..., Any]
) -> None:
    backend = scripted(50)
    w = windows.make(backend)
    QTest.keyClicks(w.composer, "line one")
    QTest.keyClick(w.composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClicks(w.composer, "line two")
    assert w.composer.toPlainText() == "line one\nline two"
    QTest.keyClick(w.composer, Qt.Key.Key_Return)
    assert w.composer.toPlainText() == ""
    arun(w.controller.wait_idle())
    assert backend.requests[0].question == "line one\nline two"


def test_a_reply_streams_into_the_pane_and_the_transcript(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    w = windows.make(scripted(600, rate=1000, wait_at=(200,)))
    assert "scripted replay" in w.status.label.text()
    w.chat.submit("What is 7×8?")

    async def live() -> None:
        await until(lambda: w.reasoning.text.toPlainText().count("Let") > 20, what="thinking")
        summary = await w.transcript.evaluate("S1.summaryText(0)")
        assert "Thinking…" in summary
        assert "/ 4,000 tokens" in summary
        assert 0 < w.reasoning.gauge.value() < 600
        assert w.stop_button.isEnabled()
        assert not w.send_button.isEnabled()
        await w.controller.wait_idle()

    arun(live())
    text = w.reasoning.text.toPlainText()
    assert "⟲ Wait #1 (at 200 tokens)" in text
    assert "the model ended its thinking at 600 tokens" in text
    summary = arun(w.transcript.evaluate("S1.summaryText(0)"))
    assert "Thought for" in summary
    assert "600 tokens · 1 × Wait" in summary
    html = arun(w.transcript.evaluate("S1.answerHtml(0)"))
    assert "<strong>56</strong>" in html
    assert 'class="language-python"' in html
    stats = arun(w.transcript.evaluate("document.querySelector('#ex-0 .stats').textContent"))
    assert "tokens/s" in stats
    assert "first token" in stats
    assert w.reasoning.gauge.format().startswith("600 / 4,000")


def test_budget_cut_is_marked_in_the_reasoning(windows: Windows, arun: Callable[..., Any]) -> None:
    w = windows.make(scripted(120, cap=True))
    w.chat.submit("q")
    arun(w.controller.wait_idle())
    assert "✂ Budget reached at 120 tokens" in w.reasoning.text.toPlainText()
    assert "cut at budget" in arun(w.transcript.evaluate("S1.summaryText(0)"))


def test_escape_stops_and_the_chat_goes_on(
    windows: Windows, qtbot: QtBot, arun: Callable[..., Any]
) -> None:
    w = windows.make(scripted(5000, rate=500))
    w.chat.submit("think long")

    async def stop_midway() -> None:
        await until(lambda: w.controller.message(0).thinking_tokens > 50)  # type: ignore[union-attr]
        QTest.keyClick(w.composer, Qt.Key.Key_Escape)
        await w.controller.wait_idle()

    arun(stop_midway())
    message = w.controller.message(0)
    assert message is not None
    assert message.finish_reason is FinishReason.CANCELLED
    assert message.thinking_tokens < 1000
    assert "Stopped." in arun(
        w.transcript.evaluate("document.querySelector('#ex-0 .note').textContent")
    )
    assert "stopped" in arun(w.transcript.evaluate("S1.summaryText(0)"))
    w.controller.set_backend(scripted(10))
    w.chat.submit("again")
    arun(w.controller.wait_idle())
    assert arun(w.transcript.evaluate("S1.count()")) == 2


def test_regenerate_and_think_longer_rerun_the_last_message(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    backend = scripted(40)
    w = windows.make(backend)
    w.chat.submit("q1")
    arun(w.controller.wait_idle())
    w.actions_by_name["regenerate"].trigger()
    arun(w.controller.wait_idle())
    assert [r.question for r in backend.requests] == ["q1", "q1"]
    assert arun(w.transcript.evaluate("S1.count()")) == 1
    w.actions_by_name["think_longer"].trigger()
    arun(w.controller.wait_idle())
    assert backend.requests[-1].policy.max_thinking == 8000
    assert w.budget.max_box.value() == 8000  # the control shows the larger budget


def test_edit_a_previous_message_and_resend(windows: Windows, arun: Callable[..., Any]) -> None:
    backend = scripted(20)
    w = windows.make(backend)
    for q in ("first", "second"):
        w.chat.submit(q)
        arun(w.controller.wait_idle())
    assert backend.requests[1].history[0].text == "first"
    # The Edit link of message 1, clicked in the page itself.
    arun(w.transcript.evaluate("document.querySelector('#ex-0 .user a').click()"))
    arun(until(lambda: w.edit_banner.isVisible(), what="editing"))
    assert w.composer.toPlainText() == "first"
    w.composer.setPlainText("first, edited")
    w.chat.submit(w.composer.toPlainText())
    arun(w.controller.wait_idle())
    assert backend.requests[-1].question == "first, edited"
    assert backend.requests[-1].history == ()
    assert arun(w.transcript.evaluate("S1.count()")) == 1


def test_clicking_a_summary_opens_the_pane_on_that_message(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    w = windows.make(scripted(30))
    for q in ("a", "b"):
        w.chat.submit(q)
        arun(w.controller.wait_idle())
    w.replies.set_visible(False)
    assert w.reasoning.index == 1
    arun(w.transcript.evaluate("document.querySelector('#ex-0 .summary').click()"))
    arun(until(lambda: w.reasoning.isVisible() and w.reasoning.index == 0, what="pane on 0"))
    assert "reply 1" in w.reasoning.title.text()


def test_copy_answer_and_reasoning(windows: Windows, arun: Callable[..., Any]) -> None:
    w = windows.make(scripted(25, wait_at=(10,)))
    w.chat.submit("q")
    arun(w.controller.wait_idle())
    w.actions_by_name["copy_answer"].trigger()
    assert QGuiApplication.clipboard().text() == ANSWER
    w.actions_by_name["copy_reasoning"].trigger()
    copied = QGuiApplication.clipboard().text()
    assert "Wait" in copied
    assert "⟲" not in copied  # the model's text, not the markers


def test_untrusted_output_never_becomes_markup(windows: Windows, arun: Callable[..., Any]) -> None:
    evil = (
        '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> '
        "[x](javascript:alert(1))"
    )
    w = windows.make(ScriptedBackend(lambda r: synthetic_reply(5, answer=evil), rate=5000))
    w.chat.submit("q")
    arun(w.controller.wait_idle())
    html = arun(w.transcript.evaluate("S1.answerHtml(0)"))
    assert "&lt;script&gt;" in html
    assert "<img" not in html
    assert "href" not in html
    assert arun(w.transcript.evaluate("String(window.pwned)")) == "undefined"


def test_new_chat_clears_everything(windows: Windows, arun: Callable[..., Any]) -> None:
    w = windows.make(scripted(10))
    w.chat.submit("q")
    arun(w.controller.wait_idle())
    w.actions_by_name["new_chat"].trigger()
    assert len(w.controller.session) == 0
    assert arun(w.transcript.evaluate("S1.count()")) == 0
    assert w.reasoning.index is None


def test_auto_collapse_when_the_answer_starts(windows: Windows, arun: Callable[..., Any]) -> None:
    w = windows.make(scripted(200, rate=1000))
    w.actions_by_name["auto_collapse"].setChecked(True)
    w.chat.submit("q")
    arun(until(lambda: w.controller.message(0).phase is Phase.THINKING))  # type: ignore[union-attr]
    assert w.reasoning.isVisible()
    arun(w.controller.wait_idle())
    assert not w.reasoning.isVisible()
    w.chat.submit("again")  # the pane opens again for the next reply's thinking
    arun(until(lambda: w.reasoning.isVisible(), what="pane reopened"))
    arun(w.controller.wait_idle())


def test_pane_follows_unless_scrolled_up(windows: Windows, arun: Callable[..., Any]) -> None:
    w = windows.make(scripted(8000, rate=1500))
    w.chat.submit("q")
    bar = w.reasoning.text.verticalScrollBar()

    async def check() -> None:
        # (QPlainTextEdit scrolls by lines)
        await until(lambda: bar.maximum() > 10, what="a scrollable pane")
        assert bar.value() == bar.maximum()  # following
        bar.setValue(0)  # the user scrolls up to read
        first = bar.maximum()
        await until(lambda: bar.maximum() > first + 15, what="more text")
        assert bar.value() == 0
        bar.setValue(bar.maximum())  # back to the end: follows again
        before = bar.maximum()
        await until(lambda: bar.maximum() > before + 15, what="more text")
        assert bar.value() == bar.maximum()
        w.controller.stop()
        await w.controller.wait_idle()

    arun(check())


def test_pane_state_and_geometry_are_remembered(windows: Windows) -> None:
    w = windows.make()
    w.resize(760, 520)
    size = (w.width(), w.height())
    assert size != (1200, 780)  # not the default
    w.actions_by_name["toggle_reasoning"].trigger()
    assert not w.reasoning.isVisible()
    windows.close(w)
    assert load_settings().reasoning_collapsed
    again = windows.make()
    assert not again.reasoning.isVisible()
    assert (again.width(), again.height()) == size


def test_closing_while_streaming_stops_and_closes_the_backend(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    backend = scripted(20_000, rate=500)
    w = windows.make(backend)
    w.chat.submit("q")
    arun(until(lambda: w.reasoning.text.toPlainText() != "", what="thinking"))
    w.close()  # the window stops the reply, closes the backend, then closes
    arun(until(lambda: not w.isVisible(), what="the window to close"))
    message = w.controller.message(0)
    assert message is not None
    assert message.finish_reason is FinishReason.CANCELLED
    assert w.controller.backend is None
    with pytest.raises(BackendClosedError):
        arun(anext(aiter(backend.stream(backend.requests[0]))))


def test_a_generation_error_is_shown_and_the_chat_goes_on(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    failing = ScriptedBackend(
        [ThinkingText(" hmm"), ErrorEvent(message="the server went away", kind="connection")]
    )
    w = windows.make(failing)
    w.chat.submit("q")
    arun(w.controller.wait_idle())
    error = arun(w.transcript.evaluate("document.querySelector('#ex-0 .error').textContent"))
    assert error == "Error: the server went away"
    w.controller.set_backend(scripted(10))
    w.actions_by_name["regenerate"].trigger()
    arun(w.controller.wait_idle())
    assert arun(w.transcript.evaluate("document.querySelector('#ex-0 .error').textContent")) == ""
    assert "56" in arun(w.transcript.evaluate("S1.answerText(0)"))
