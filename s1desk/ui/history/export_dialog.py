"""The Export dialog: Markdown or JSON, with the reasoning or without, and where to write."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)


class ExportFormat(StrEnum):
    MARKDOWN = "md"
    JSON = "json"


def file_stem(title: str) -> str:
    """A file name from a conversation title: words, dashes, nothing a file system dislikes."""
    stem = re.sub(r"[^\w\- ]+", "", title).strip()
    stem = re.sub(r"\s+", "-", stem)[:60].strip("-")
    return stem or "conversation"


def default_folder() -> Path:
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(folder) if folder else Path.home()


class ExportDialog(QDialog):
    """Asks for the format, whether to include the reasoning, and the file."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export conversation")
        self._stem = file_stem(title)
        self.markdown = QRadioButton("Markdown (.md): for reading and sharing")
        self.json = QRadioButton("JSON (.json): everything, can be imported back")
        self.markdown.setChecked(True)
        self.reasoning = QCheckBox("Include the reasoning")
        self.reasoning.setChecked(True)
        self.path = QLineEdit(str(default_folder() / f"{self._stem}.md"))
        self.path.setObjectName("exportPath")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format", self.markdown)
        form.addRow("", self.json)
        form.addRow("", self.reasoning)
        form.addRow("File", where)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.markdown.toggled.connect(self._format_changed)
        self.resize(520, self.sizeHint().height())

    @property
    def export_format(self) -> ExportFormat:
        return ExportFormat.JSON if self.json.isChecked() else ExportFormat.MARKDOWN

    @property
    def include_reasoning(self) -> bool:
        return self.reasoning.isChecked()

    @property
    def target(self) -> Path:
        return Path(self.path.text().strip()).expanduser()

    def _format_changed(self) -> None:
        path = self.target
        if path.suffix.lower() in (".md", ".json", ""):
            self.path.setText(str(path.with_suffix("." + self.export_format.value)))

    def _browse(self) -> None:
        fmt = self.export_format
        name = "Markdown (*.md)" if fmt is ExportFormat.MARKDOWN else "JSON (*.json)"
        path, _ = QFileDialog.getSaveFileName(self, "Export to", str(self.target), name)
        if path:
            self.path.setText(path)
