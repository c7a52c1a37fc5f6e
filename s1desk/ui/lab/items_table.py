"""The run's generations, one row each: budget, question, sample, thinking, answer, verdict."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem, QWidget

from s1desk.lab.items import ScoredItem

COLUMNS = ("Budget", "Question", "Sample", "Thinking", "Answer", "")


class ItemsTable(QTreeWidget):
    """Rows in arrival order; choosing one (click or keys) emits ``item_chosen``."""

    item_chosen = Signal(object)  # ScoredItem

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scalingItems")
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(COLUMNS)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for column, width in enumerate((60, 64, 56, 64, 70, 24)):
            self.setColumnWidth(column, width)
        self.items: list[ScoredItem] = []
        self.currentItemChanged.connect(self._current_changed)

    def clear_items(self) -> None:
        self.clear()
        self.items = []

    def set_items(self, items: Iterable[ScoredItem]) -> None:
        self.clear_items()
        for item in items:
            self.add(item)

    def add(self, item: ScoredItem) -> None:
        extracted = item.extracted if item.extracted is not None else "(none)"
        row = QTreeWidgetItem(
            [
                f"{item.budget:,}",
                item.question_id,
                str(item.sample + 1),
                f"{item.thinking_tokens:,}",
                extracted,
                "✓" if item.correct else "✗",
            ]
        )
        for column in (0, 2, 3):
            row.setTextAlignment(
                column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            )
        row.setToolTip(4, item.why)
        row.setToolTip(5, item.why)
        row.setForeground(5, Qt.GlobalColor.darkGreen if item.correct else Qt.GlobalColor.red)
        row.setData(0, Qt.ItemDataRole.UserRole, len(self.items))
        self.items.append(item)
        self.addTopLevelItem(row)

    def select_budget(self, budget: int) -> None:
        """Choose the first generation at ``budget``."""
        for index, item in enumerate(self.items):
            if item.budget == budget:
                self.select_index(index)
                return

    def select_index(self, index: int) -> None:
        row = self.topLevelItem(index)
        if row is not None:
            self.setCurrentItem(row)
            self.scrollToItem(row)

    def _current_changed(self, row: QTreeWidgetItem | None, _previous: object) -> None:
        if row is None:
            return
        index = row.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(index, int) and 0 <= index < len(self.items):
            self.item_chosen.emit(self.items[index])
