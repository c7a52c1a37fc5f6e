"""What a person notices: where the menus put things, the pane's collapse control, copies
that need something to copy, sizes the layout holds at, the dark theme's markers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication

from s1desk.backends.scripted import ScriptedBackend, synthetic_reply
from s1desk.ui.kit import theme
from support.qt import Windows


def scripted(**kw: Any) -> ScriptedBackend:
    return ScriptedBackend(lambda r: synthetic_reply(80, **kw), rate=4000)


def test_quit_is_under_file_and_settings_under_edit(windows: Windows) -> None:
    w = windows.make()
    file_menu, edit_menu = w.menus["&File"], w.menus["&Edit"]
    assert w.actions_by_name["quit"] in file_menu.actions()
    assert w.actions_by_name["export"] in file_menu.actions()
    assert w.actions_by_name["settings"] in edit_menu.actions()
    assert w.actions_by_name["copy_answer"] in edit_menu.actions()
    assert w.actions_by_name["quit"] not in w.menus["&Chat"].actions()
    titles = [a.text() for a in w.menuBar().actions()]
    assert titles[:2] == ["&File", "&Edit"]


def test_the_collapse_control_says_what_it_does(windows: Windows) -> None:
    w = windows.make()
    assert w.reasoning.collapse_button.text() != "⟩"
    assert "Hide" in w.reasoning.collapse_button.text()


def test_copies_are_offered_only_with_something_to_copy(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    w = windows.make(scripted())
    a = w.actions_by_name
    assert not a["copy_answer"].isEnabled()
    assert not a["copy_reasoning"].isEnabled()
    w.chat.submit("q")
    arun(w.controller.wait_idle())
    assert a["copy_answer"].isEnabled()
    assert a["copy_reasoning"].isEnabled()
    a["new_chat"].trigger()
    assert not a["copy_answer"].isEnabled()


def test_the_layout_holds_at_small_sizes(windows: Windows) -> None:
    w = windows.make()
    w.resize(900, 600)
    QApplication.processEvents()
    assert w.history is not None
    sidebar_list = w.history.sidebar.list
    assert not sidebar_list.horizontalScrollBar().isVisible()
    w.resize(700, 450)
    QApplication.processEvents()
    assert w.width() >= 720
    assert w.height() >= 520
    assert w.sidebar_area.width() >= 180 or w.splitter.sizes()[0] == 0
    budget = w.budget
    assert budget.slider.geometry().right() <= budget.width()


def test_wait_markers_follow_the_dark_theme(windows: Windows, arun: Callable[..., Any]) -> None:
    w = windows.make(scripted(wait_at=(20,)))
    w.chat.submit("q")
    arun(w.controller.wait_idle())
    w.replies.show_reasoning(0)

    def wait_background() -> str:
        doc = w.reasoning.text.document()
        at = doc.toPlainText().index("⟲ Wait")
        cursor = QTextCursor(doc)
        cursor.setPosition(at + 2)
        return cursor.charFormat().background().color().name()

    w.apply_theme("light")
    assert wait_background() == theme.LIGHT.wait_bg
    w.apply_theme("dark")
    assert wait_background() == theme.DARK.wait_bg
    w.apply_theme("light")


def test_think_longer_doubles_the_budget_and_says_so(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    backend = scripted()
    w = windows.make(backend)
    w.budget.max_box.setValue(150)
    w.chat.submit("q")
    arun(w.controller.wait_idle())
    w.actions_by_name["think_longer"].trigger()
    assert "150 → 300" in w.statusBar().currentMessage()
    arun(w.controller.wait_idle())
    assert backend.requests[-1].policy.max_thinking == 300  # twice, as the label says
    assert w.budget.max_box.value() == 300


def test_a_streaming_answer_shows_its_count_its_cap_and_how_to_stop(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    from support.qt import until

    long_answer = " ".join(["loop"] * 400)
    backend = ScriptedBackend(lambda r: synthetic_reply(5, answer=long_answer), rate=200)
    w = windows.make(backend)
    w.chat.submit("q")
    stats = "document.querySelector('#ex-0 .stats').textContent"

    async def answering() -> str:
        await until(lambda: (w.controller.message(0) or None) is not None)
        await until(lambda: w.controller.message(0).answer_tokens > 20, 30, "the answer")  # type: ignore[union-attr]
        text: str = await w.transcript.evaluate(stats)
        return text

    live = arun(answering())
    assert "Answering…" in live
    assert "/ 4,096 answer tokens" in live
    assert "Esc stops" in live
    w.stop_button.click()
    arun(w.controller.wait_idle())
    assert "Answering…" not in arun(w.transcript.evaluate(stats))
