"""The Scaling view on the real test model: a tiny set of sums at budgets 0 and 32, K = 1."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lab.sums import SUMS, write_questions
from pytestqt.qtbot import QtBot

from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig
from s1desk.ui.lab.scaling_view import ScalingView
from support.qt import until

pytestmark = pytest.mark.model

#: Set to a directory to keep a screenshot of the finished run (the README's).
SHOT_VARIABLE = "S1DESK_SCALING_SHOT"


def test_a_sweep_of_sums_on_the_test_model(
    qtbot: QtBot, arun: Callable[..., Any], tmp_path: Path, model_path: Path
) -> None:
    questions = write_questions(tmp_path / "sums.jsonl", SUMS)
    backend = arun(
        LocalBackend.load(LocalModelConfig(path=model_path, n_ctx=1024, extra_buffers=False)),
        timeout=240,
    )
    view = ScalingView(
        lambda: backend, store_path=tmp_path / "history.sqlite3", runs_root=tmp_path / "runs"
    )
    qtbot.addWidget(view)
    try:
        view.show()
        view.form.source.setCurrentIndex(view.form.source.findData("file"))
        view.form.path.setText(str(questions))
        view.form.budgets.setText("0, 32")
        view.form.mode.setCurrentIndex(view.form.mode.findData("force"))
        view.form.run_button.click()
        arun(until(lambda: len(view.shown_items) >= 1, 240, "the first result"), timeout=250)
        assert not view.driver.running or len(view.shown_items) < 6
        arun(until(lambda: not view.driver.running, 400, "the run"), timeout=420)
        items = view.shown_items
        assert len(items) == 6
        assert view.form.status.text().startswith("Done: 6 generations")
        by_budget = {b: [i for i in items if i.budget == b] for b in (0, 32)}
        assert all(i.thinking_tokens == 0 for i in by_budget[0])
        assert all(i.thinking_tokens == 32 for i in by_budget[32])  # forced: exactly the budget
        assert all(i.correct for i in by_budget[32])  # the sums the model gets right
        (curve,) = view.chart.curves
        assert [p.budget for p in curve.points] == [0, 32]
        assert curve.points[1].tokens == 32
        assert curve.points[1].accuracy == 1.0
        assert view.runs.count() == 1
        # The last budget's point opens its first generation, reasoning and answer.
        view.chart.point_clicked.emit(32)
        shown = view.generation.item
        assert shown is not None
        assert shown.budget == 32
        assert view.generation.reasoning.toPlainText() == shown.reasoning
        assert shown.reasoning.strip()
        shots = os.environ.get(SHOT_VARIABLE)
        if shots:
            view.resize(1240, 780)
            qtbot.wait(200)
            view.grab().save(str(Path(shots) / "scaling.png"))
    finally:
        arun(view.shutdown())
        arun(backend.aclose(), timeout=60)
