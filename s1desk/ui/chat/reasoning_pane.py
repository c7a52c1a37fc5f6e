"""The reasoning pane: one message's thinking, streamed live, with budget forcing marked inline."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from s1desk.chat.message import AssistantMessage, PieceKind, ReasoningPiece
from s1desk.chat.summary import thinking_summary, tokens
from s1desk.thinking.machine import CloseReason
from s1desk.ui.kit.theme import LIGHT, Colors


class ReasoningPane(QWidget):
    """Shows the thinking of the selected (or streaming) assistant message.

    New text is appended at the end of the document; the view follows it
    unless the user has scrolled up, and follows again once they scroll back
    to the bottom.
    """

    collapse_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reasoningPane")
        self._index: int | None = None
        self._shown = 0  # pieces of the message already in the document
        self._colors = LIGHT

        self.title = QLabel("Reasoning")
        self.title.setObjectName("reasoningTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.summary = QLabel("")
        self.summary.setObjectName("reasoningSummary")
        self.collapse_button = QToolButton()
        self.collapse_button.setText("Hide ⟩")
        self.collapse_button.setToolTip("Collapse the reasoning pane (Ctrl+T)")
        self.collapse_button.setAutoRaise(True)
        self.collapse_button.clicked.connect(self.collapse_requested)

        self.gauge = QProgressBar()
        self.gauge.setObjectName("thinkingGauge")
        self.gauge.setTextVisible(True)
        self.gauge.setRange(0, 1)
        self.gauge.setValue(0)
        self.gauge.setFormat("no message yet")

        self.text = QPlainTextEdit()
        self.text.setObjectName("reasoningText")
        self.text.setReadOnly(True)
        self.text.setUndoRedoEnabled(False)
        self.text.setPlaceholderText("The model's thinking appears here as it streams.")
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        # Following is a state, not a test of the scroll position at append
        # time: the document lays out lazily, so the range can grow by many
        # lines after an append; it is followed when it changes.
        self._following = True
        bar = self.text.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range_changed)
        bar.valueChanged.connect(self._on_scrolled)

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.collapse_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(header)
        layout.addWidget(self.summary)
        layout.addWidget(self.gauge)
        layout.addWidget(self.text, 1)

    @property
    def index(self) -> int | None:
        """The message shown, or ``None``."""
        return self._index

    def set_colors(self, colors: Colors) -> None:
        self._colors = colors

    def clear(self) -> None:
        self._index = None
        self._shown = 0
        self.text.clear()
        self.title.setText("Reasoning")
        self.summary.setText("")
        self.gauge.setRange(0, 1)
        self.gauge.setValue(0)
        self.gauge.setFormat("no message yet")

    def show_message(
        self, index: int, message: AssistantMessage, version: int = 0, versions: int = 1
    ) -> None:
        """Show message ``index`` from the start (answer ``version`` of ``versions``, from 0)."""
        self._index = index
        self._shown = 0
        self.text.clear()
        which = f" · version {version + 1} of {versions}" if versions > 1 else ""
        self.title.setText(f"Reasoning · reply {index + 1}{which}")
        self.update_message(message, follow=False)
        if message.finished:
            self.text.moveCursor(QTextCursor.MoveOperation.Start)
        else:
            self._scroll_to_end()

    def update_message(self, message: AssistantMessage, follow: bool = True) -> None:
        """Append what arrived since the last call; update the gauge."""
        at_end = self._following
        pieces = message.pieces
        if self._shown < len(pieces):
            cursor = QTextCursor(self.text.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.beginEditBlock()
            run: list[str] = []
            for piece in pieces[self._shown :]:
                if piece.kind is PieceKind.TEXT:
                    run.append(piece.text)
                    continue
                if run:
                    cursor.insertText("".join(run), QTextCharFormat())
                    run.clear()
                self._insert_marker(cursor, piece, message)
            if run:
                cursor.insertText("".join(run), QTextCharFormat())
            cursor.endEditBlock()
            self._shown = len(pieces)
            if follow and at_end:
                self._scroll_to_end()
        self._update_gauge(message)

    def _scroll_to_end(self) -> None:
        self._following = True
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._following:
            self.text.verticalScrollBar().setValue(maximum)

    def _on_scrolled(self, value: int) -> None:
        # The user scrolled up to read (or back down to follow again).
        self._following = value >= self.text.verticalScrollBar().maximum() - 4

    def _marker_format(self, color: str, bold: bool = True) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(color))
        if bold:
            fmt.setFontWeight(QFont.Weight.Bold)
        return fmt

    def _insert_marker(
        self, cursor: QTextCursor, piece: ReasoningPiece, message: AssistantMessage
    ) -> None:
        c = self._colors
        if piece.kind is PieceKind.WAIT:
            chip = self._marker_format(c.wait)
            chip.setBackground(QColor(c.wait_bg))
            cursor.insertText(f" ⟲ Wait #{piece.index} (at {tokens(piece.at)} tokens) ", chip)
            cursor.insertText(" ", QTextCharFormat())
            cursor.insertText(piece.text, self._marker_format(c.wait))
        elif piece.kind is PieceKind.CUT:
            cursor.insertText(
                f"\n✂ Budget reached at {tokens(piece.at)} tokens: thinking cut here, "
                f"answer forced with “{message.policy.cap_suffix}”\n",
                self._marker_format(c.cut),
            )
        elif piece.kind is PieceKind.END:
            if message.close_reason is CloseReason.NONE:
                text = "Thinking off (budget 0): the model answered at once."
            else:
                text = f"\n— the model ended its thinking at {tokens(piece.at)} tokens —\n"
            cursor.insertText(text, self._marker_format(c.muted, bold=False))

    def _update_gauge(self, message: AssistantMessage) -> None:
        budget = message.policy.max_thinking
        used = message.thinking_tokens
        self.gauge.setRange(0, max(budget, 1))
        self.gauge.setValue(min(used, max(budget, 1)) if budget else 0)
        floor = message.policy.min_thinking
        extra = f" · at least {tokens(floor)}" if floor else ""
        self.gauge.setFormat(f"{tokens(used)} / {tokens(budget)} thinking tokens{extra}")
        self.summary.setText(thinking_summary(message))
        self.summary.setAlignment(Qt.AlignmentFlag.AlignLeft)
