"""What to run: a question (or a set), the budgets, the mode, K samples; Run and Stop."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from s1desk.lab.builtin import BUILTIN_SETS
from s1desk.lab.errors import LabError
from s1desk.lab.events import Progress
from s1desk.lab.plan import EvalPlan, Mode

#: A few budgets that draw a curve in minutes on a small local model.
DEFAULT_BUDGETS = "0, 256, 512, 1024, 2048"
QUESTION, FILE = "question", "file"
_MODES = {Mode.CAP: "cap: think at most the budget", Mode.FORCE: "force: exactly the budget (Wait)"}


@dataclass(frozen=True, slots=True)
class RunChoice:
    """What the form asks for: a typed question, a file or a built-in set, and the plan."""

    kind: str  # QUESTION, FILE or a built-in set's name
    plan: EvalPlan
    question: str = ""
    expected: str = ""
    path: str = ""
    limit: int | None = None


def parse_budgets(text: str) -> tuple[int, ...]:
    """``"0, 512 1024"`` → ``(0, 512, 1024)``, sorted; raises :class:`LabError` on bad input."""
    parts = text.replace(",", " ").split()
    try:
        values = [int(part) for part in parts]
    except ValueError:
        raise LabError(
            f"Budgets are whole numbers separated by commas, e.g. {DEFAULT_BUDGETS}."
        ) from None
    if not values:
        raise LabError("Give at least one budget, e.g. 0, 512, 1024.")
    return tuple(sorted(values))


class ScalingForm(QWidget):
    """The run's settings, Run/Stop, and the progress; ``run_requested`` carries a
    :class:`RunChoice` (bad input goes to ``problem`` instead)."""

    run_requested = Signal(object)  # RunChoice
    stop_requested = Signal()
    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scalingForm")
        self.source = QComboBox()
        self.source.setObjectName("scalingSource")
        self.source.addItem("One question", QUESTION)
        self.source.addItem("A question file (JSON Lines)", FILE)
        for name, dataset in BUILTIN_SETS.items():
            self.source.addItem(f"{dataset.title} (from the hub)", name)

        self.question = QPlainTextEdit()
        self.question.setObjectName("scalingQuestion")
        self.question.setPlaceholderText("The question")
        self.question.setMaximumHeight(110)
        self.expected = QLineEdit()
        self.expected.setObjectName("scalingExpected")
        self.expected.setPlaceholderText("The answer you expect (each budget is judged by it)")
        self.note = QLabel("")
        self.note.setObjectName("scalingNote")
        self.note.setWordWrap(True)
        self.note.hide()
        question_page = QWidget()
        q = QVBoxLayout(question_page)
        q.setContentsMargins(0, 0, 0, 0)
        q.addWidget(self.question)
        q.addWidget(self.expected)
        q.addWidget(self.note)

        self.path = QLineEdit()
        self.path.setObjectName("scalingPath")
        self.path.setPlaceholderText('{"question": ..., "answer": ...} per line')
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        file_page = QWidget()
        f = QHBoxLayout(file_page)
        f.setContentsMargins(0, 0, 0, 0)
        f.addWidget(self.path, 1)
        f.addWidget(browse)
        set_page = QLabel("Fetched into the Hugging Face cache on first use.")
        set_page.setWordWrap(True)
        self.pages = QStackedWidget()
        self._page_list: tuple[QWidget, ...] = (question_page, file_page, set_page)
        for page in self._page_list:
            self.pages.addWidget(page)

        self.limit = QSpinBox()
        self.limit.setObjectName("scalingLimit")
        self.limit.setRange(0, 100_000)
        self.limit.setSpecialValueText("all")
        self.limit.setToolTip("Take a reproducible subset of this many questions (0: all)")
        self.budgets = QLineEdit(DEFAULT_BUDGETS)
        self.budgets.setObjectName("scalingBudgets")
        self.budgets.setToolTip(
            "Thinking budgets in tokens, separated by commas; 0 answers at once"
        )
        self.mode = QComboBox()
        self.mode.setObjectName("scalingMode")
        for mode, text in _MODES.items():
            self.mode.addItem(text, mode.value)
        self.samples = QSpinBox()
        self.samples.setObjectName("scalingSamples")
        self.samples.setRange(1, 64)
        self.samples.setToolTip("Answers per question and budget; above 1, majority vote (maj@K)")
        self.temperature = QDoubleSpinBox()
        self.temperature.setObjectName("scalingTemperature")
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setToolTip("0 is greedy (the paper's setting); samples differ above 0")

        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("scalingRun")
        self.run_button.setDefault(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("scalingStop")
        self.stop_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setObjectName("scalingProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("")
        self.status.setObjectName("scalingStatus")
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Ask", self.source)
        form.addRow(self.pages)
        form.addRow("Questions", self.limit)
        form.addRow("Budgets", self.budgets)
        form.addRow("Mode", self.mode)
        form.addRow("Samples (K)", self.samples)
        form.addRow("Temperature", self.temperature)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

        self.source.currentIndexChanged.connect(self._source_changed)
        self.samples.valueChanged.connect(self._samples_changed)
        self.run_button.clicked.connect(self.submit)
        self.stop_button.clicked.connect(self.stop_requested)
        self._source_changed()

    # -- input -------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return str(self.source.currentData())

    def prefill(self, question: str, expected: str = "", note: str = "") -> None:
        """Ask about ``question`` (e.g. the chat's), judged by ``expected``."""
        self.source.setCurrentIndex(self.source.findData(QUESTION))
        self.question.setPlainText(question)
        self.expected.setText(expected)
        self.note.setText(note)
        self.note.setVisible(bool(note))

    def choice(self) -> RunChoice:
        """The run asked for; raises :class:`LabError` saying what to fix."""
        plan = EvalPlan(
            budgets=parse_budgets(self.budgets.text()),
            mode=Mode(self.mode.currentData()),
            samples=self.samples.value(),
            temperature=round(self.temperature.value(), 2),
        )
        kind = self.kind
        limit = self.limit.value() or None
        if kind == QUESTION:
            question, expected = self.question.toPlainText().strip(), self.expected.text().strip()
            if not question:
                raise LabError("Write the question to ask.")
            if not expected:
                raise LabError("Give the answer you expect: each budget's reply is judged by it.")
            return RunChoice(kind, plan, question=question, expected=expected)
        if kind == FILE:
            path = self.path.text().strip()
            if not path:
                raise LabError("Choose a question file (JSON Lines).")
            return RunChoice(kind, plan, path=path, limit=limit)
        return RunChoice(kind, plan, limit=limit)

    def submit(self) -> None:
        try:
            choice = self.choice()
        except LabError as exc:
            self.problem.emit(str(exc))
            return
        self.run_requested.emit(choice)

    # -- running -------------------------------------------------------------------------

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for widget in (self.source, self.pages, self.limit, self.budgets, self.mode):
            widget.setEnabled(not running)
        self.samples.setEnabled(not running)
        self.temperature.setEnabled(not running)

    def started(self, total: int, where: str) -> None:
        self.set_running(True)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(0)
        self.status.setText(f"0 of {total} generations on {where}…")

    def show_progress(self, progress: Progress) -> None:
        self.progress.setRange(0, max(progress.total, 1))
        self.progress.setValue(progress.done)
        text = f"{progress.done} of {progress.total} generations"
        if progress.generations_per_s > 0:
            text += f" · {60 * progress.generations_per_s:.1f}/min"
        if progress.seconds_left is not None and progress.done < progress.total:
            text += f" · about {_duration(progress.seconds_left)} left"
        self.status.setText(text)

    def finished(self, text: str, where: str = "") -> None:
        self.set_running(False)
        self.status.setText(text)
        self.status.setToolTip(where)

    # -- slots -------------------------------------------------------------------------

    def _source_changed(self) -> None:
        kind = self.kind
        current = 0 if kind == QUESTION else 1 if kind == FILE else 2
        self.pages.setCurrentIndex(current)
        for index, page in enumerate(self._page_list):  # the stack as tall as the page shown
            shown = QSizePolicy.Policy.Preferred
            page.setSizePolicy(shown, shown if index == current else QSizePolicy.Policy.Ignored)
        self.pages.adjustSize()
        self.limit.setEnabled(kind != QUESTION)

    def _samples_changed(self, k: int) -> None:
        if k > 1 and self.temperature.value() == 0:
            self.temperature.setValue(0.7)  # identical samples would vote for nothing

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "A question file", str(Path.home()), "JSON Lines (*.jsonl *.json);;All files (*)"
        )
        if path:
            self.path.setText(path)


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
