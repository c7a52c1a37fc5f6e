"""The chat column: transcript, editing banner, budget control, message box, Send and Stop."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from s1desk.chat.controller import ChatController
from s1desk.chat.summary import tokens
from s1desk.settings import AppSettings
from s1desk.ui.chat.budget_control import BudgetControl
from s1desk.ui.chat.composer import Composer
from s1desk.ui.chat.transcript_view import TranscriptAction, TranscriptView


class ChatPanel(QWidget):
    """What the user writes and sends, and the actions on messages (edit, copy, think longer).

    Takes the controller it drives; says what to show through ``problem``
    and ``status`` (a short status-bar line) and never reaches into the
    window. ``editing_changed`` tells the window to update its actions.
    ``top`` is laid out above the transcript (the window's banner).
    """

    problem = Signal(str)
    status = Signal(str)
    sent = Signal()  # a message went out
    editing_changed = Signal()
    reasoning_requested = Signal(int)  # a reply's "reasoning" link: open the pane on it

    def __init__(
        self,
        controller: ChatController,
        settings: AppSettings,
        dark: bool,
        top: QWidget,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.transcript = TranscriptView(dark)
        self.budget = BudgetControl(settings.policy, settings.context_size)
        self.composer = Composer()
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setDefault(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        self.stop_button.setEnabled(False)
        self.edit_banner = QLabel("")
        self.edit_banner.setObjectName("editBanner")
        self.edit_banner.hide()
        self.editing: int | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(top)  # the window's banner
        layout.addWidget(self.transcript, 1)
        layout.addWidget(self.edit_banner)
        layout.addWidget(self.budget)
        row = QHBoxLayout()
        row.addWidget(self.composer, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        row.addLayout(buttons)
        layout.addLayout(row)

        self.composer.submitted.connect(self.submit)
        self.send_button.clicked.connect(lambda: self.submit(self.composer.toPlainText()))
        self.stop_button.clicked.connect(self.stop)
        self.transcript.action.connect(self.act)

    def act(self, action: TranscriptAction) -> None:
        """A link in the transcript was clicked (edit, copy, regenerate, …)."""
        i = action.index
        match action.name:
            case "reasoning":
                self.reasoning_requested.emit(i)
            case "edit":
                self.begin_edit(i)
            case "copy-answer":
                self.copy_answer(i)
            case "copy-reasoning":
                self.copy_reasoning(i)
            case "regenerate":
                self.controller.regenerate()
            case "think-longer":
                self.think_longer()
            case "version":
                self.choose_version(i, action.version)

    def choose_version(self, index: int, version: int) -> None:
        """Show answer ``version`` (from 0) of reply ``index``; later questions go on from it."""
        if self.controller.choose_version(index, version):
            count = len(self.controller.session.exchanges[index].versions)
            self.status.emit(f"Reply {index + 1}: answer version {version + 1} of {count}")

    def submit(self, text: str) -> bool:
        """Send ``text`` (or resend the message being edited); True when it went."""
        if self.editing is not None:
            ok = self.controller.edit_and_resend(self.editing, text)
        else:
            ok = self.controller.send(text)
        if ok:
            self.composer.clear()
            self.set_editing(None)
            self.sent.emit()
        return ok

    def stop(self) -> None:
        """Esc: stop the reply; with none running, leave editing."""
        if self.controller.busy:
            self.controller.stop()
        elif self.editing is not None:
            self.set_editing(None)
            self.composer.clear()

    def set_busy(self, busy: bool) -> None:
        self.stop_button.setEnabled(busy)
        self.send_button.setEnabled(not busy)

    def think_longer(self) -> None:
        """Re-run the last message with twice the budget; the control shows the new cap and
        the status bar says what changed."""
        last = self.controller.session.last_reply
        before = last.policy.max_thinking if last is not None else self.budget.policy.max_thinking
        policy = self.controller.think_longer(self.budget.limit)
        if policy is not None:
            self.budget.set_policy(policy)
            self.status.emit(
                f"Think longer: thinking budget {tokens(before)} → "
                f"{tokens(policy.max_thinking)} tokens"
            )

    def begin_edit(self, index: int) -> None:
        """Put user message ``index`` in the message box; sending replaces it."""
        if self.controller.busy:
            self.problem.emit("Stop the reply (Esc) before editing a message.")
            return
        exchanges = self.controller.session.exchanges
        if not 0 <= index < len(exchanges):
            return
        self.composer.setPlainText(exchanges[index].user)
        self.set_editing(index)
        self.composer.setFocus()

    def edit_last(self) -> None:
        if len(self.controller.session):
            self.begin_edit(len(self.controller.session) - 1)

    def set_editing(self, index: int | None) -> None:
        self.editing = index
        if index is None:
            self.edit_banner.hide()
        else:
            self.edit_banner.setText(
                f"Editing message {index + 1}: Enter resends it and drops what followed; "
                "Esc cancels."
            )
            self.edit_banner.show()
        self.editing_changed.emit()

    def copy_answer(self, index: int | None) -> None:
        message = self.controller.message(index) if index is not None else None
        if message is not None:
            QGuiApplication.clipboard().setText(message.answer)
            self.status.emit("Answer copied")

    def copy_reasoning(self, index: int | None) -> None:
        message = self.controller.message(index) if index is not None else None
        if message is not None:
            QGuiApplication.clipboard().setText(message.reasoning)
            self.status.emit("Reasoning copied")
