"""History end to end on the real local backend (llama.cpp on the test model)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s1desk.settings import AppSettings, save_settings
from s1desk.store import MessageStatus
from s1desk.thinking.machine import CloseReason
from s1desk.thinking.policy import BudgetPolicy
from s1desk.ui.window.main_window import MainWindow
from support.qt import Windows, until

pytestmark = pytest.mark.model


def loaded(windows: Windows, arun: Callable[..., Any], model_path: Path) -> MainWindow:
    w = windows.make()
    w.open_model_file(model_path)
    arun(until(lambda: w.controller.backend is not None, 180, "the model"), timeout=200)
    return w


def test_a_real_chat_is_saved_reopened_searched_and_continued(
    windows: Windows, arun: Callable[..., Any], model_path: Path
) -> None:
    save_settings(
        AppSettings(context_size=2048, policy=BudgetPolicy(max_thinking=20, max_answer=12))
    )
    w = loaded(windows, arun, model_path)
    w.chat.submit("Name one prime number between 10 and 20.")
    arun(w.controller.wait_idle(), timeout=300)
    live = w.controller.message(0)
    assert live is not None
    assert live.close_reason is CloseReason.CAP
    assert w.history is not None
    conversation = w.history.saver.current
    assert conversation is not None
    question, answer = w.history.store.messages(conversation)
    assert question.text == "Name one prime number between 10 and 20."
    assert answer.status is MessageStatus.COMPLETE
    assert answer.reasoning == live.reasoning
    assert answer.text == live.answer
    assert answer.model == model_path.name
    assert answer.backend is not None
    assert "local" in answer.backend
    assert answer.thinking_end is not None
    assert answer.thinking_end.at_token == 20
    assert answer.stats is not None
    first_prompt = answer.stats.prompt_tokens
    windows.close(w)

    w2 = loaded(windows, arun, model_path)
    assert w2.history is not None
    sidebar = w2.history.sidebar
    assert sidebar.model.conversation(0).display_title == "Name one prime number between 10 and 20."
    word = next(t for t in answer.reasoning.split() if t.isalpha() and len(t) > 3)
    sidebar.search_box.setText(word)
    sidebar.run_search()
    hits = [sidebar.results.hit(r) for r in range(sidebar.results.rowCount())]
    assert any(h.conversation_id == conversation for h in hits)
    sidebar.search_box.clear()
    sidebar.list.clicked.emit(sidebar.model.index(0))
    reopened = w2.controller.message(0)
    assert reopened is not None
    assert reopened.reasoning == live.reasoning
    assert "✂ Budget reached at 20 tokens" in w2.reasoning.text.toPlainText()

    w2.chat.submit("And one more?")
    arun(w2.controller.wait_idle(), timeout=300)
    messages = w2.history.store.messages(conversation)
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    follow_up = messages[3]
    assert follow_up.stats is not None
    # The model saw the earlier question and answer: a longer prompt than the first.
    assert follow_up.stats.prompt_tokens > first_prompt + 10
