"""The real window on the real local backend (llama.cpp on the test model)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s1desk.settings import AppSettings, load_settings, save_settings
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.thinking.policy import BudgetPolicy
from s1desk.ui.window.main_window import MainWindow
from support.qt import Windows, until

pytestmark = pytest.mark.model

CONTEXT = 2048


@pytest.fixture
def small_context() -> None:
    policy = BudgetPolicy(max_thinking=24, max_answer=16)
    save_settings(AppSettings(context_size=CONTEXT, policy=policy))


def _load(w: MainWindow, path: Path, arun: Callable[..., Any]) -> None:
    w.open_model_file(path)
    assert w.status.bar.isVisible()
    assert w.status.cancel.isVisible()  # busy, cancellable
    arun(until(lambda: w.controller.backend is not None, 180, "the model"), timeout=200)
    assert not w.status.bar.isVisible()


@pytest.mark.usefixtures("small_context")
def test_load_send_stop_regenerate_and_budget(
    windows: Windows, arun: Callable[..., Any], model_path: Path
) -> None:
    w = windows.make()
    _load(w, model_path, arun)
    assert model_path.name in w.status.label.text()
    assert w.budget.limit == CONTEXT
    assert load_settings().last_model == str(model_path)  # reopened next time

    # A capped reply: the pane fills while it streams, thinking obeys the budget.
    w.chat.submit("Explain in detail, step by step, how a hash table handles collisions.")
    arun(until(lambda: len(w.reasoning.text.toPlainText()) > 10, 120, "live thinking"), timeout=300)
    arun(w.controller.wait_idle(), timeout=300)
    first = w.controller.message(0)
    assert first is not None
    assert first.stats is not None
    assert first.thinking_tokens == 24
    assert first.close_reason is CloseReason.CAP
    assert first.answer.startswith("Final Answer:")
    assert "✂ Budget reached at 24 tokens" in w.reasoning.text.toPlainText()
    assert "tokens/s" in arun(
        w.transcript.evaluate("document.querySelector('#ex-0 .stats').textContent")
    )

    # A larger budget, stopped from the window while it thinks.
    w.budget.max_box.setValue(1500)
    w.actions_by_name["regenerate"].trigger()
    arun(until(lambda: (w.controller.message(0) or first).thinking_tokens > 5, 120), timeout=150)
    w.stop_button.click()
    arun(w.controller.wait_idle(), timeout=60)
    stopped = w.controller.message(0)
    assert stopped is not None
    assert stopped.finish_reason is FinishReason.CANCELLED

    # Budget 0 in a new chat: the model answers at once, and the reply says so.
    w.budget.max_box.setValue(0)
    w.actions_by_name["new_chat"].trigger()
    w.chat.submit("What is 2+2? Reply with just the number.")
    arun(w.controller.wait_idle(), timeout=300)
    direct = w.controller.message(0)
    assert direct is not None
    assert direct.thinking_tokens == 0
    assert direct.close_reason is CloseReason.NONE
    assert "4" in direct.answer
    assert "Answered without thinking" in arun(w.transcript.evaluate("S1.summaryText(0)"))
    assert "Thinking off" in w.reasoning.text.toPlainText()


@pytest.mark.usefixtures("small_context")
def test_a_file_that_is_not_a_model_shows_an_error_and_the_window_goes_on(
    windows: Windows, arun: Callable[..., Any], tmp_path: Path
) -> None:
    bogus = tmp_path / "notes.gguf"
    bogus.write_text("this is not a model")
    w = windows.make()
    w.open_model_file(bogus)
    arun(until(lambda: w.banner.isVisible(), 30, "the error"))
    assert "Could not load the model" in w.banner.text
    assert w.controller.backend is None
    assert not w.status.bar.isVisible()
    w.open_model_file(tmp_path / "missing.gguf")
    arun(until(lambda: "no model file" in w.banner.text, 10))


@pytest.mark.usefixtures("small_context")
def test_cancelled_load_discards_the_model(
    windows: Windows, arun: Callable[..., Any], model_path: Path
) -> None:
    w = windows.make()
    w.open_model_file(model_path)
    w.status.cancel.click()
    assert not w.status.bar.isVisible()
    assert "no model" in w.status.label.text()
    arun(w.loader.shutdown(), timeout=200)  # the late model arrives and is closed
    assert w.controller.backend is None
