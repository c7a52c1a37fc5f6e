"""The Scaling view: sweep the thinking budget on the window's backend and watch the curve."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from s1desk.backends.base import Backend
from s1desk.lab.events import RunFinished
from s1desk.lab.items import ScoredItem
from s1desk.lab.recorded_run import typed_question
from s1desk.lab.run_store import EvalRunStore
from s1desk.lab.sources import LoadedSource, load_source
from s1desk.store.errors import StoreError
from s1desk.ui.lab.chart import ScalingChart
from s1desk.ui.lab.curve_data import curves
from s1desk.ui.lab.generation_view import GenerationView
from s1desk.ui.lab.items_table import ItemsTable
from s1desk.ui.lab.past_runs import PastRuns
from s1desk.ui.lab.run_driver import RunDriver
from s1desk.ui.lab.scaling_form import FILE, QUESTION, RunChoice, ScalingForm

log = logging.getLogger(__name__)

NO_BACKEND = "No model is loaded: open a model (Ctrl+O) or pick a server, then run."


class ScalingView(QWidget):
    """Form, past runs, the live curve, the run's generations and the one chosen.

    ``backend`` says which backend the window uses now (``None``: none); the
    run goes through it, so a chat reply waits for the generation in flight.
    Runs are kept in the history database at ``store_path`` (default: the
    app's) and in a directory under ``runs_root``. Messages for the user go
    to ``problem``.
    """

    problem = Signal(str)

    def __init__(
        self,
        backend: Callable[[], Backend | None],
        *,
        dark: bool = False,
        store_path: Path | None = None,
        runs_root: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("scalingView")
        self.setWindowTitle("Scaling — s1desk")
        self._backend = backend
        self._store_path = store_path
        self._store: EvalRunStore | None = None
        self._store_failed = False
        self.form = ScalingForm()
        self.runs = PastRuns()
        self.chart = ScalingChart(dark)
        self.items = ItemsTable()
        self.generation = GenerationView()
        self.driver = RunDriver(runs_root, self)
        self.message = QLabel("")
        self.message.setObjectName("scalingMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.shown_items: list[ScoredItem] = []
        self.shown_run: int | None = None
        self._samples = 1
        self._questions = 1
        self._title = ""
        self._texts: dict[str, str] = {}

        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.form)
        column.addWidget(QLabel("Past runs"))
        column.addWidget(self.runs, 1)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.items)
        lower.addWidget(self.generation)
        lower.setSizes([380, 520])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.chart)
        right.addWidget(lower)
        right.setSizes([430, 330])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        main.setSizes([330, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        row.addWidget(main)
        layout.addLayout(row, 1)
        self.resize(1240, 780)

        self.form.run_requested.connect(self.run)
        self.form.stop_requested.connect(self.driver.stop)
        self.form.problem.connect(self.problem)
        self.driver.started.connect(self._started)
        self.driver.item_finished.connect(self._item_finished)
        self.driver.progress.connect(self.form.show_progress)
        self.driver.finished.connect(self._finished)
        self.driver.run_recorded.connect(self._recorded)
        self.driver.problem.connect(self.problem)
        self.runs.run_chosen.connect(self.open_run)
        self.chart.point_clicked.connect(self.items.select_budget)
        self.items.item_chosen.connect(self._item_chosen)
        self.problem.connect(self._show_message)

    # -- what the window calls ------------------------------------------------------------

    def prefill(self, question: str, expected: str = "", note: str = "") -> None:
        self.form.prefill(question, expected, note)

    def refresh_runs(self) -> None:
        store = self.store()
        if store is None:
            return
        try:
            self.runs.set_runs(store.runs())
        except StoreError as exc:
            self.problem.emit(f"Past runs cannot be listed: {exc}")

    def store(self) -> EvalRunStore | None:
        """The history database, opened on first use (``None`` if it cannot be)."""
        if self._store is None and not self._store_failed:
            try:
                self._store = EvalRunStore.open(self._store_path)
            except StoreError as exc:
                self._store_failed = True
                self.problem.emit(f"Runs will not be kept in the history: {exc}")
        return self._store

    def run(self, choice: RunChoice) -> bool:
        """Start ``choice`` on the window's backend; False (with a message) if it cannot."""
        backend = self._backend()
        if backend is None:
            self.problem.emit(NO_BACKEND)
            return False
        if self.driver.running:
            self.problem.emit("A run is going on: stop it first.")
            return False
        self.message.hide()
        self._texts = {}
        self.form.set_running(True)
        self.form.status.setText("Preparing the questions…")
        return self.driver.start(_loader(choice), choice.plan, backend, self.store())

    def open_run(self, run_id: int) -> None:
        """Show a past run from the history: its curve and generations."""
        store = self.store()
        if store is None:
            return
        try:
            record = store.run(run_id)
            items = store.items(run_id)
        except StoreError as exc:
            self.problem.emit(f"The run cannot be opened: {exc}")
            return
        plan = record.spec.get("plan", {})
        samples = plan.get("samples", 1) if isinstance(plan, dict) else 1
        questions = record.spec.get("questions", [])
        self._show(
            run_id,
            record.title,
            samples if isinstance(samples, int) and samples > 0 else 1,
            len(questions) if isinstance(questions, list) else 0,
            items,
        )
        self._texts = {}
        if record.source == "typed question" and record.title:
            self._texts = {"1": record.title}
        if items:
            self.items.select_index(0)

    async def shutdown(self) -> None:
        await self.driver.shutdown()
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- slots -------------------------------------------------------------------------

    def _show(
        self, run_id: int | None, title: str, samples: int, questions: int, items: list[ScoredItem]
    ) -> None:
        self.shown_run = run_id
        self._title, self._samples, self._questions = title, samples, questions
        self.shown_items = list(items)
        self.items.set_items(items)
        self.generation.clear_item()
        self._redraw()

    def _redraw(self) -> None:
        self.chart.set_curves(curves(self.shown_items, self._samples, self._questions), self._title)

    def _started(self, source: LoadedSource, total: int) -> None:
        backend = self._backend()
        self._show(None, source.title, self.form.samples.value(), len(source.questions), [])
        self._texts = {q.id: q.prompt for q in source.questions}
        self.form.started(total, backend.name if backend is not None else "the backend")

    def _recorded(self, run_id: int) -> None:
        self.shown_run = run_id
        self.refresh_runs()

    def _item_finished(self, item: ScoredItem) -> None:
        self.shown_items.append(item)
        self.items.add(item)
        self._redraw()

    def _finished(self, finished: RunFinished | None) -> None:
        if finished is None:
            self.form.finished("The run did not start.")
        elif finished.status == "finished":
            self.form.finished(
                f"Done: {finished.done} generations, results in {Path(finished.out_dir).name}",
                finished.out_dir,
            )
        elif finished.status == "interrupted":
            self.form.finished(f"Stopped after {finished.done} of {finished.total} generations.")
        else:
            self.form.finished(f"Stopped after {finished.done} of {finished.total}.")
            self.problem.emit(f"The run stopped: {finished.message}")
        self.refresh_runs()

    def _item_chosen(self, item: ScoredItem) -> None:
        self.generation.show_item(item, self._texts.get(item.question_id, ""))

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()


def _loader(choice: RunChoice) -> Callable[[], LoadedSource]:
    def load() -> LoadedSource:
        if choice.kind == QUESTION:
            return typed_question(choice.question, choice.expected)
        if choice.kind == FILE:
            return load_source(choice.path, choice.limit)
        return load_source(choice.kind, choice.limit)

    return load
