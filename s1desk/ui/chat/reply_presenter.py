"""Shows the controller's replies: the transcript and the reasoning pane follow it."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

from s1desk.chat.controller import ChatController
from s1desk.ui.chat.reasoning_pane import ReasoningPane
from s1desk.ui.chat.transcript_view import TranscriptView
from s1desk.ui.kit.throttle import Throttle

#: While a reply only thinks, the transcript (its summary's count) is refreshed this often (ms);
#: the pane gets every batch.
TRANSCRIPT_THINKING_INTERVAL_MS = 250


class ReplyPresenter(QObject):
    """Subscribes to a :class:`ChatController` and keeps the transcript and the pane current.

    Owns the pane's visibility (its View-menu ``toggle`` action kept in step)
    and the optional rule that collapses the pane when an answer starts
    (``auto_collapse``) and reopens it for the next reply.
    ``visibility_chosen`` carries a visibility the user chose, to remember.
    """

    visibility_chosen = Signal(bool)

    def __init__(
        self,
        controller: ChatController,
        transcript: TranscriptView,
        pane: ReasoningPane,
        toggle: QAction,
        auto_collapse: QAction,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.transcript = transcript
        self.pane = pane
        self._toggle = toggle
        self._auto = auto_collapse
        self._auto_collapsed = False
        self._collapsed_for: int | None = None
        self._refresh = Throttle(self._refresh_transcript, TRANSCRIPT_THINKING_INTERVAL_MS, self)

    def attach(self) -> None:
        """Follow the controller."""
        c = self.controller
        c.exchange_added.connect(self._exchange_added)
        c.truncated.connect(self._truncated)
        c.reply_started.connect(self._reply_started)
        c.reply_updated.connect(self._reply_updated)
        c.reply_finished.connect(self._reply_finished)
        c.version_chosen.connect(self._version_chosen)
        c.busy_changed.connect(self.transcript.set_busy)
        c.cleared.connect(self._cleared)
        self._toggle.toggled.connect(self.set_visible)

    def set_visible(self, visible: bool, remember: bool = True) -> None:
        """Show or hide the pane; ``remember`` when the user chose it."""
        self.pane.setVisible(visible)
        if self._toggle.isChecked() != visible:
            self._toggle.blockSignals(True)
            self._toggle.setChecked(visible)
            self._toggle.blockSignals(False)
        if remember:
            self._auto_collapsed = False
            self.visibility_chosen.emit(visible)

    def show_reasoning(self, index: int) -> None:
        """Open the pane on message ``index``."""
        message = self.controller.message(index)
        if message is None:
            return
        self._show_in_pane(index)
        self.transcript.select(index)
        self.set_visible(True)

    def show_pane_again(self) -> None:
        """Show the pane's message again from the start (in new colours, say)."""
        if self.pane.index is not None:
            self._show_in_pane(self.pane.index)

    def current_index(self) -> int | None:
        """The message the pane shows, else the last one."""
        if self.pane.index is not None:
            return self.pane.index
        n = len(self.controller.session)
        return n - 1 if n else None

    def close(self) -> None:
        self._refresh.cancel()

    # -- the controller's announcements ------------------------------------------------

    def _exchange_added(self, index: int) -> None:
        self.transcript.add_exchange(index, self.controller.session.exchanges[index].user)

    def _truncated(self, index: int) -> None:
        self.transcript.truncate(index)
        shown = self.pane.index
        if shown is not None and shown >= index:
            self.pane.clear()

    def _reply_started(self, index: int) -> None:
        self._refresh.cancel()
        self.transcript.start_reply(index)
        if self.controller.message(index) is not None:
            self._show_in_pane(index)
            self.transcript.select(index)
        if self._auto_collapsed:
            self.set_visible(True, remember=False)
            self._auto_collapsed = False
        self._collapsed_for = None

    def _reply_finished(self, index: int) -> None:
        self._reply_updated(index, final=True)

    def _reply_updated(self, index: int, final: bool = False) -> None:
        message = self.controller.message(index)
        if message is None:
            return
        thinking_only = not message.answer_parts and message.close_reason is None
        if final or not thinking_only:
            self._refresh.now(index)
        else:
            self._refresh(index)
        if self.pane.index == index:
            self.pane.update_message(message)
        if (
            self._auto.isChecked()
            and (message.close_reason is not None or message.answer_parts)
            and self._collapsed_for != index
            and self.pane.isVisible()
        ):
            self._collapsed_for = index
            self._auto_collapsed = True
            self.set_visible(False, remember=False)

    def _version_chosen(self, index: int) -> None:
        """Another answer version of ``index`` is chosen: show it, its reasoning and figures."""
        self.transcript.show_other_version(index)
        self._refresh_transcript(index)
        if self.pane.index == index:
            self._show_in_pane(index)

    def _refresh_transcript(self, index: int) -> None:
        message = self.controller.message(index)
        if message is not None:
            exchange = self.controller.session.exchanges[index]
            self.transcript.update_reply(
                index, message, message.source, exchange.chosen, len(exchange.versions)
            )

    def _show_in_pane(self, index: int) -> None:
        exchanges = self.controller.session.exchanges
        exchange = exchanges[index] if 0 <= index < len(exchanges) else None
        if exchange is not None and exchange.reply is not None:
            self.pane.show_message(index, exchange.reply, exchange.chosen, len(exchange.versions))

    def _cleared(self) -> None:
        self._refresh.cancel()
        self.transcript.clear()
        self.pane.clear()
