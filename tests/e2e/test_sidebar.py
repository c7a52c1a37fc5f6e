"""The conversation sidebar: titles, search, rename, delete and undo, keyboard, paging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from e2e.test_history_window import reply
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from s1desk.backends.scripted import ScriptedBackend
from s1desk.store import Conversation, HistoryStore, Message, MessageStatus
from s1desk.ui.history.sidebar import Sidebar
from s1desk.ui.history.sidebar_model import PAGE, SEARCH_PAGE
from s1desk.ui.window.main_window import MainWindow
from support.qt import Windows, until


def sidebar_of(w: MainWindow) -> Sidebar:
    assert w.history is not None
    return w.history.sidebar


def titles(w: MainWindow) -> list[str]:
    model = sidebar_of(w).model
    return [model.conversation(row).display_title for row in range(model.rowCount())]


def ask(w: MainWindow, arun: Callable[..., Any], *questions: str) -> None:
    for question in questions:
        w.new_chat()
        w.chat.submit(question)
        arun(w.controller.wait_idle())


def answering(reasoning: str = "Let me see", answer: str = "Yes.") -> ScriptedBackend:
    return ScriptedBackend(lambda _r: reply(reasoning, answer), rate=5000)


def test_conversations_are_listed_newest_first_titled_by_their_first_question(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    w = windows.make(answering("A long reasoning that must never become the title"))
    assert sidebar_of(w).empty.text().startswith("No conversations yet")
    ask(w, arun, "## What is a  group\nin algebra?", "Second question")
    w.chat.submit("a follow-up does not rename it")
    arun(w.controller.wait_idle())
    assert titles(w) == ["Second question", "What is a group in algebra?"]
    assert sidebar_of(w).stack.currentWidget() is sidebar_of(w).list


def test_search_finds_a_word_that_only_the_reasoning_holds_and_opens_it_there(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    w = windows.make(answering("Consider the quaternion trick here", "Use rotations."))
    ask(w, arun, "How do I rotate in 3D?")
    w.controller.set_backend(answering("Nothing special", "Plain."))
    ask(w, arun, "Something else")
    sidebar = sidebar_of(w)
    QTest.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is sidebar.search_box
    QTest.keyClicks(sidebar.search_box, "quatern")  # a prefix, as it is typed
    arun(until(lambda: sidebar.results.rowCount() > 0, what="search results"))
    assert sidebar.stack.currentWidget() is sidebar.result_list
    assert sidebar.results.rowCount() == 1
    hit = sidebar.results.hit(0)
    assert hit.field == "reasoning"
    assert hit.conversation_title == "How do I rotate in 3D?"
    assert [p.text for p in hit.snippet if p.match] == ["quaternion"]
    assert "<b>quaternion</b>" in sidebar.results.index(0).data(Qt.ItemDataRole.UserRole + 2)

    sidebar.result_list.clicked.emit(sidebar.results.index(0))
    assert w.controller.session.exchanges[0].user == "How do I rotate in 3D?"
    assert w.reasoning.isVisible()
    assert w.reasoning.index == 0
    assert "quaternion" in w.reasoning.text.toPlainText()

    sidebar.search_box.setText("zzznothing")
    sidebar.run_search()
    assert sidebar.stack.currentWidget() is sidebar.empty
    assert sidebar.empty.text() == "No matches."
    sidebar.search_box.clear()
    assert sidebar.stack.currentWidget() is sidebar.list


def test_rename_in_place_is_saved_and_kept_when_reopened(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    w = windows.make(answering())
    ask(w, arun, "Original question")
    sidebar = sidebar_of(w)
    sidebar.rename(sidebar.model.conversation(0).id)
    editor = sidebar.list.findChild(QLineEdit)
    assert editor is not None
    assert editor.text() == "Original question"
    editor.selectAll()
    QTest.keyClicks(editor, "My own title")
    QTest.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next loop turn
    arun(until(lambda: titles(w) == ["My own title"], what="the new title"))
    windows.close(w)
    w2 = windows.make()
    assert titles(w2) == ["My own title"]


def test_delete_then_undo_and_deleting_the_open_chat_clears_the_window(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    w = windows.make(answering())
    ask(w, arun, "keep me", "delete me")
    sidebar = sidebar_of(w)
    assert titles(w) == ["delete me", "keep me"]
    sidebar.list.setFocus()
    sidebar.list.setCurrentIndex(sidebar.model.index(0))
    QTest.keyClick(sidebar.list, Qt.Key.Key_Delete)
    assert titles(w) == ["keep me"]
    assert sidebar.undo_notice.isVisible()
    assert sidebar.undo_notice.label.text() == "Deleted “delete me”"
    assert len(w.controller.session) == 0  # it was open: a new chat took its place
    QTest.mouseClick(sidebar.undo_notice.undo_button, Qt.MouseButton.LeftButton)
    assert titles(w) == ["delete me", "keep me"]
    assert not sidebar.undo_notice.isVisible()

    # Without undo it stays in the trash, gone from the list and from search.
    keep = sidebar.model.conversation(1).id
    sidebar.delete(keep)
    sidebar.undo_notice.dismiss()
    assert titles(w) == ["delete me"]
    sidebar.search_box.setText("keep")
    sidebar.run_search()
    assert sidebar.results.rowCount() == 0
    assert w.history is not None
    assert [c.title for c in w.history.store.deleted_conversations()] == ["keep me"]


def test_new_chat_button_and_ctrl_n_start_an_unsaved_chat(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    w = windows.make(answering())
    ask(w, arun, "first")
    sidebar = sidebar_of(w)
    assert sidebar.list.currentIndex().row() == 0
    QTest.mouseClick(sidebar.new_button, Qt.MouseButton.LeftButton)
    assert len(w.controller.session) == 0
    assert sidebar.list.selectionModel().selectedIndexes() == []
    sidebar.list.clicked.emit(sidebar.model.index(0))
    assert len(w.controller.session) == 1
    QTest.keyClick(w, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert len(w.controller.session) == 0
    assert sidebar.model.rowCount() == 1  # an empty chat is not saved


def test_a_conversation_cannot_be_switched_while_a_reply_streams(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    w = windows.make(answering())
    ask(w, arun, "first")
    w.controller.set_backend(ScriptedBackend(reply("slow " * 400, "ok"), rate=200))
    w.new_chat()
    w.chat.submit("second")
    sidebar = sidebar_of(w)
    row = next(r for r in range(2) if sidebar.model.conversation(r).title == "first")
    sidebar.list.clicked.emit(sidebar.model.index(row))
    assert w.banner.isVisible()
    assert "stop it first" in w.banner.text
    assert w.controller.session.exchanges[0].user == "second"
    w.chat.stop()
    arun(w.controller.wait_idle())


def build_history(count: int, exchanges: int = 10) -> None:
    """``count`` conversations of ``exchanges`` questions and answers, with the store's API."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with HistoryStore.open() as store:
        for i in range(count):
            at = start + timedelta(minutes=i)
            messages = []
            for k in range(2 * exchanges):
                messages.append(
                    Message(
                        id=0,
                        conversation_id=0,
                        position=k,
                        role="user" if k % 2 == 0 else "assistant",
                        text=f"question {i}.{k}" if k % 2 == 0 else f"answer {i}.{k}",
                        created=at,
                        updated=at,
                        status=MessageStatus.COMPLETE,
                        reasoning="" if k % 2 == 0 else f"thinking {i}.{k}",
                    )
                )
            conversation = Conversation(0, f"conversation {i}", at, at)
            store.insert_conversation(conversation, messages)


def test_a_history_of_a_thousand_conversations_opens_one_page_and_pages_in(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    build_history(1000)
    w = windows.make(answering())
    sidebar = sidebar_of(w)
    assert sidebar.model.total == 1000
    assert sidebar.model.rowCount() == PAGE
    assert titles(w)[:2] == ["conversation 999", "conversation 998"]
    bar = sidebar.list.verticalScrollBar()

    async def scroll_to_end() -> bool:
        bar.setValue(bar.maximum())
        return sidebar.model.rowCount() >= 3 * PAGE

    arun(until(scroll_to_end, what="more pages"))
    assert titles(w)[PAGE] == f"conversation {999 - PAGE}"
    assert len(set(titles(w))) == sidebar.model.rowCount()
    # A new chat goes on top; the pages already shown stay shown.
    shown = sidebar.model.rowCount()
    ask(w, arun, "brand new")
    assert titles(w)[0] == "brand new"
    assert sidebar.model.rowCount() >= shown
    assert sidebar.model.total == 1001

    # Search results page in the same way: thousands match, one page is read.
    sidebar.search_box.setText("thinking")
    sidebar.run_search()
    assert sidebar.results.rowCount() == SEARCH_PAGE
    assert sidebar.results.hit(0).conversation_title == "conversation 999"
    bar = sidebar.result_list.verticalScrollBar()

    async def scroll_results() -> bool:
        bar.setValue(bar.maximum())
        return sidebar.results.rowCount() >= 2 * SEARCH_PAGE

    arun(until(scroll_results, what="more matches"))
    ids = [sidebar.results.hit(r).message_id for r in range(sidebar.results.rowCount())]
    assert len(set(ids)) == len(ids)
