"""Past runs from the history database, newest first; choosing one reopens it."""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from s1desk.lab.run_store import EvalRunRecord


def describe(record: EvalRunRecord) -> str:
    """A run in one line: what, how, when and how it ended."""
    plan = record.spec.get("plan", {}) if isinstance(record.spec, dict) else {}
    budgets = plan.get("budgets", []) if isinstance(plan, dict) else []
    mode = plan.get("mode", "") if isinstance(plan, dict) else ""
    samples = plan.get("samples", 1) if isinstance(plan, dict) else 1
    when = time.strftime("%d %b %H:%M", time.localtime(record.created))
    sweep = f"{mode} {','.join(str(b) for b in budgets)}" + (f" ×{samples}" if samples != 1 else "")
    status = "" if record.status == "finished" else f" · {record.status}"
    return f"{record.title}\n{when} · {sweep}{status}"


class PastRuns(QListWidget):
    """The runs the history holds; ``run_chosen`` carries a run's id."""

    run_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scalingRuns")
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.itemActivated.connect(self._chosen)
        self.itemClicked.connect(self._chosen)

    def set_runs(self, records: Sequence[EvalRunRecord]) -> None:
        self.clear()
        for record in records:
            entry = QListWidgetItem(describe(record))
            entry.setData(Qt.ItemDataRole.UserRole, record.id)
            entry.setToolTip(f"{record.model} on {record.backend}\n{record.out_dir}")
            self.addItem(entry)

    def ids(self) -> list[int]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def choose(self, run_id: int) -> None:
        for i in range(self.count()):
            if self.item(i).data(Qt.ItemDataRole.UserRole) == run_id:
                self.setCurrentRow(i)
                self.run_chosen.emit(run_id)
                return

    def _chosen(self, entry: QListWidgetItem) -> None:
        run_id = entry.data(Qt.ItemDataRole.UserRole)
        if isinstance(run_id, int):
            self.run_chosen.emit(run_id)
