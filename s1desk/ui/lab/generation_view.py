"""One generation of a run, read-only: its question, verdict, reasoning and rendered answer."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QSplitter, QTextBrowser, QVBoxLayout, QWidget

from s1desk.lab.items import ScoredItem
from s1desk.render.markdown import render_markdown


class GenerationView(QWidget):
    """Shows what the model thought and answered for one item, and why it was judged so."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scalingGeneration")
        self.heading = QLabel("Click a point or a row to read that generation.")
        self.heading.setObjectName("generationHeading")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.reasoning = QPlainTextEdit()
        self.reasoning.setObjectName("generationReasoning")
        self.reasoning.setReadOnly(True)
        self.reasoning.setPlaceholderText("Reasoning")
        font = QFont(self.reasoning.font())
        font.setItalic(True)
        self.reasoning.setFont(font)
        self.answer = QTextBrowser()
        self.answer.setObjectName("generationAnswer")
        self.answer.setOpenLinks(False)  # a model's link is shown, never followed here
        self.answer.setOpenExternalLinks(False)
        self.answer.setPlaceholderText("Answer")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.reasoning)
        split.addWidget(self.answer)
        split.setSizes([3, 2])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(split, 1)
        self.item: ScoredItem | None = None

    def show_item(self, item: ScoredItem, question: str = "") -> None:
        self.item = item
        verdict = "right" if item.correct else "wrong"
        ended = {"cap": "cut at the budget", "natural": "ended by the model"}.get(
            item.thinking_end or "", "no thinking" if not item.thinking_tokens else ""
        )
        waits = f", {item.waits} Wait" + ("s" if item.waits != 1 else "") if item.waits else ""
        parts = [
            f"<b>Budget {item.budget:,}</b> · question {html.escape(item.question_id)}"
            f" · sample {item.sample + 1}",
            f"{item.thinking_tokens:,} thinking tokens ({ended}{waits}) · "
            f"{item.answer_tokens:,} answer tokens · {item.seconds:.1f} s",
            f"<b>{verdict}</b>: {html.escape(item.why)}",
        ]
        if question:
            parts.insert(1, html.escape(question))
        self.heading.setText("<br>".join(parts))
        self.reasoning.setPlainText(item.reasoning)
        self.answer.setHtml(render_markdown(item.answer))

    def clear_item(self) -> None:
        self.item = None
        self.heading.setText("Click a point or a row to read that generation.")
        self.reasoning.clear()
        self.answer.clear()
