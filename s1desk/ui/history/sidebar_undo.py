"""A "Deleted — Undo" notice that stays a few seconds after a conversation is deleted."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

#: How long the notice offers to undo (ms); the conversation stays in the trash after.
UNDO_MS = 10_000


class UndoNotice(QFrame):
    """Says what was deleted and offers Undo; emits ``undo`` with the conversation's id."""

    undo = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("undoNotice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel("")
        self.label.setObjectName("undoLabel")
        self.label.setWordWrap(True)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setObjectName("undoButton")
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.undo_button)
        layout.addWidget(self.close_button)
        self._conversation: int | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(UNDO_MS)
        self._timer.timeout.connect(self.dismiss)
        self.undo_button.clicked.connect(self._undo)
        self.close_button.clicked.connect(self.dismiss)
        self.hide()

    @property
    def conversation(self) -> int | None:
        """The conversation Undo would bring back."""
        return self._conversation

    def offer(self, conversation_id: int, title: str) -> None:
        short = title if len(title) <= 40 else title[:39] + "…"
        self.label.setText(f"Deleted “{short}”")
        self._conversation = conversation_id
        self.show()
        self._timer.start()

    def dismiss(self) -> None:
        self._timer.stop()
        self._conversation = None
        self.hide()

    def _undo(self) -> None:
        conversation = self._conversation
        self.dismiss()
        if conversation is not None:
            self.undo.emit(conversation)
