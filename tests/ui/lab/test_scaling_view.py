"""The Scaling view on the replay backend: the curve as results arrive, Stop, past runs,
a clicked point opening its generation, and the chat's "compare budgets"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from s1desk.backends.base import GenerationRequest
from s1desk.backends.scripted import ScriptedBackend
from s1desk.events import AnswerText, Done, Stats, StreamEvent, ThinkingEnd, ThinkingText
from s1desk.lab.run_store import EvalRunStore
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.ui.lab.chart import RIGHT, WRONG
from s1desk.ui.lab.scaling_view import NO_BACKEND, ScalingView
from support.qt import Windows, until

QUESTION = "What is 6 + 1?"


def reply(request: GenerationRequest) -> list[StreamEvent]:
    """Thinks up to the budget (at most 24 tokens); right (7) from 16 thinking tokens on."""
    thinking = min(request.policy.max_thinking, 24)
    return [
        *(ThinkingText(f" step{i}") for i in range(thinking)),
        ThinkingEnd(
            reason=CloseReason.CAP
            if thinking == request.policy.max_thinking
            else CloseReason.NATURAL,
            thinking_tokens=thinking,
        ),
        AnswerText(f"Answer: {7 if thinking >= 16 else 3}"),
        Stats(0, 0, thinking, 2, 0, 0.0, 0.0, 0.0, 0.0),
        Done(FinishReason.STOP),
    ]


@pytest.fixture
def make_view(qtbot: QtBot, tmp_path: Path, arun: Callable[..., Any]) -> Any:
    views: list[ScalingView] = []

    def make(backend: ScriptedBackend | None) -> ScalingView:
        view = ScalingView(
            lambda: backend, store_path=tmp_path / "history.sqlite3", runs_root=tmp_path / "runs"
        )
        qtbot.addWidget(view)
        view.show()
        views.append(view)
        return view

    yield make
    for view in views:
        arun(view.shutdown())


def start(view: ScalingView, budgets: str, samples: int = 1) -> None:
    view.form.prefill(QUESTION, "7")
    view.form.budgets.setText(budgets)
    view.form.samples.setValue(samples)
    view.form.run_button.click()


def points(view: ScalingView) -> list[tuple[int, float, float]]:
    return [(p.budget, p.tokens, p.accuracy) for c in view.chart.curves for p in c.points]


def test_points_appear_as_results_arrive(make_view: Any, arun: Callable[..., Any]) -> None:
    view = make_view(ScriptedBackend(reply, rate=400))
    start(view, "0, 8, 16, 32")
    assert view.driver.running
    assert not view.form.run_button.isEnabled()
    assert view.form.stop_button.isEnabled()
    seen: list[int] = []
    view.driver.item_finished.connect(lambda _item: seen.append(len(points(view))))
    arun(until(lambda: not view.driver.running, 30, "the run"))
    # One more point with each result, drawn as it came.
    assert seen == [1, 2, 3, 4]
    assert points(view) == [(0, 0, 0.0), (8, 8, 0.0), (16, 16, 1.0), (32, 24, 1.0)]
    (curve,) = view.chart.curves
    assert not curve.intervals  # one question, one sample: right or wrong, no band
    markers = view.chart.markers[0]
    assert markers.count() == 4
    colors = [
        markers.pointConfiguration(i)[markers.PointConfiguration.Color].name() for i in range(4)
    ]
    assert colors == [WRONG, WRONG, RIGHT, RIGHT]
    assert view.form.progress.value() == 4
    assert view.form.status.text().startswith("Done: 4 generations")
    assert view.items.topLevelItemCount() == 4
    assert [view.items.topLevelItem(i).text(5) for i in range(4)] == ["✗", "✗", "✓", "✓"]
    assert view.runs.count() == 1  # listed as soon as it was recorded


def test_progress_says_how_much_is_left(make_view: Any, arun: Callable[..., Any]) -> None:
    view = make_view(ScriptedBackend(reply, rate=300))
    start(view, "16, 24, 32")
    arun(until(lambda: view.form.progress.value() == 1, 30, "the first result"))
    status = view.form.status.text()
    assert status.startswith("1 of 3 generations")
    assert "left" in status
    arun(until(lambda: not view.driver.running, 30, "the run"))


def test_stop_keeps_what_was_finished(
    make_view: Any, arun: Callable[..., Any], tmp_path: Path
) -> None:
    view = make_view(ScriptedBackend(reply, rate=100))  # 0.25 s a generation
    start(view, "20, 22, 24, 16, 8, 0")
    arun(until(lambda: len(view.shown_items) == 1, 30, "the first result"))
    view.form.stop_button.click()
    arun(until(lambda: not view.driver.running, 30, "the stop"))
    assert len(view.shown_items) < 6
    assert view.form.status.text().startswith(f"Stopped after {len(view.shown_items)} of 6")
    assert view.form.run_button.isEnabled()
    with EvalRunStore.open(tmp_path / "history.sqlite3") as store:
        (record,) = store.runs()
        assert record.status == "interrupted"
        assert len(store.items(record.id)) == len(view.shown_items)


def test_a_past_run_reopens_with_its_curve_and_generations(
    make_view: Any, arun: Callable[..., Any]
) -> None:
    first = make_view(ScriptedBackend(reply, rate=2000))
    start(first, "0, 16", samples=1)
    arun(until(lambda: not first.driver.running, 30, "the run"))
    start(first, "0, 8, 32", samples=2)
    arun(until(lambda: not first.driver.running, 30, "the second run"))
    drawn = points(first)
    assert len(drawn) == 3  # two samples of one question: the share right per budget
    assert first.chart.curves[0].intervals

    # Another view (the app opened again): the runs are listed, newest first.
    view = make_view(None)
    view.refresh_runs()
    assert view.runs.count() == 2
    view.runs.choose(view.runs.ids()[0])
    assert points(view) == drawn
    assert view.chart.curves[0].name == "share of 2 samples right"
    assert view.items.topLevelItemCount() == 6
    # The first generation is open at once, its texts from the history.
    shown = view.generation.item
    assert shown is not None
    assert (shown.budget, shown.sample) == (0, 0)
    assert view.generation.answer.toPlainText().strip() == "Answer: 3"
    view.runs.choose(view.runs.ids()[1])
    assert points(view) == [(0, 0, 0.0), (16, 16, 1.0)]


def test_clicking_a_point_opens_that_generation(
    make_view: Any, arun: Callable[..., Any], qtbot: QtBot
) -> None:
    view = make_view(ScriptedBackend(reply, rate=2000))
    start(view, "0, 8, 16, 32")
    arun(until(lambda: not view.driver.running, 30, "the run"))
    view.items.setCurrentItem(None)
    view.generation.clear_item()
    qtbot.wait(50)
    where = view.chart.position_of(0, 16).toPoint()
    QTest.mouseClick(view.chart.viewport(), Qt.MouseButton.LeftButton, pos=where)
    shown = view.generation.item
    assert shown is not None
    assert shown.budget == 16
    assert shown.thinking_tokens == 16
    assert view.generation.reasoning.toPlainText() == "".join(f" step{i}" for i in range(16))
    assert view.generation.answer.toPlainText().strip() == "Answer: 7"
    heading = view.generation.heading.text()
    assert "Budget 16" in heading
    assert QUESTION in heading
    assert "right" in heading
    assert view.items.currentItem() is view.items.topLevelItem(2)
    # A row opens its generation too.
    view.items.select_index(0)
    assert view.generation.item is not None
    assert view.generation.item.budget == 0


def test_bad_input_and_no_backend_get_one_message(
    make_view: Any, arun: Callable[..., Any], tmp_path: Path
) -> None:
    view = make_view(None)
    messages: list[str] = []
    view.problem.connect(messages.append)
    start(view, "0, 16")
    assert messages == [NO_BACKEND]
    assert view.message.text() == NO_BACKEND
    view.form.budgets.setText("0, lots")
    view.form.run_button.click()
    assert "whole numbers" in messages[-1]
    view.form.budgets.setText("0, 16, 16")
    view.form.run_button.click()
    assert "repeated" in messages[-1]
    view.form.budgets.setText("0, 16")
    view.form.expected.clear()
    view.form.run_button.click()
    assert "answer you expect" in messages[-1]
    # A file that is not there: the run does not start, and says why.
    view = make_view(ScriptedBackend(reply))
    view.problem.connect(messages.append)
    view.form.source.setCurrentIndex(view.form.source.findData("file"))
    assert view.form.pages.currentIndex() == 1
    view.form.path.setText(str(tmp_path / "missing.jsonl"))
    view.form.run_button.click()
    arun(until(lambda: not view.driver.running, 30, "the refusal"))
    assert "neither a question file nor a built-in set" in messages[-1]
    assert view.form.status.text() == "The run did not start."
    assert view.form.run_button.isEnabled()


def test_compare_budgets_from_the_chat(windows: Windows, arun: Callable[..., Any]) -> None:
    def chat_reply(request: GenerationRequest) -> list[StreamEvent]:
        return reply(request) if request.question == QUESTION else []

    w = windows.make(ScriptedBackend(chat_reply, rate=5000))
    compare = w.actions_by_name["compare_budgets"]
    assert not compare.isEnabled()  # nothing asked yet
    w.chat.submit(QUESTION)
    arun(w.controller.wait_idle(), timeout=30)
    assert compare.isEnabled()
    compare.trigger()
    view = w.scaling.view
    assert view is not None
    assert view.isVisible()
    assert view.form.question.toPlainText() == QUESTION
    assert view.form.expected.text() == "7"  # what the chat's reply answered, offered to fix
    assert view.form.note.isVisible()
    view.form.budgets.setText("0, 16")
    view.form.run_button.click()
    arun(until(lambda: not view.driver.running, 30, "the run"))
    assert points(view) == [(0, 0, 0.0), (16, 16, 1.0)]  # on the window's backend
