"""The main window: transcript, reasoning pane, budget control, message box."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from s1desk.backends.base import Backend
from s1desk.chat.controller import ChatController
from s1desk.connections import KeyStore
from s1desk.settings import AppSettings, save_settings
from s1desk.thinking.policy import BudgetPolicy
from s1desk.ui import theme
from s1desk.ui.backend_switcher import BackendSwitcher
from s1desk.ui.banner import Banner
from s1desk.ui.budget_control import BudgetControl
from s1desk.ui.composer import Composer
from s1desk.ui.history import attach_history
from s1desk.ui.model_loader import ModelLoader
from s1desk.ui.reasoning_pane import ReasoningPane
from s1desk.ui.resources import app_icon
from s1desk.ui.transcript_view import TranscriptAction, TranscriptView
from s1desk.ui.window_actions import build_actions, shortcuts_text

if TYPE_CHECKING:
    from s1desk.ui.model_manager import ModelManagerDialog
    from s1desk.ui.servers_dialog import ServersDialog

log = logging.getLogger(__name__)

#: Seconds between transcript refreshes while a reply is only thinking.
TRANSCRIPT_THINKING_INTERVAL = 0.25


class MainWindow(QMainWindow):
    """The chat window over any :class:`Backend`.

    Slots for what comes later: :meth:`set_sidebar` fills the left area (a
    conversation list), ``menus["&Model"]`` takes a model manager and a
    backend selector, and :meth:`set_backend` plugs in any backend.
    """

    closed = Signal()

    def __init__(
        self,
        settings: AppSettings,
        controller: ChatController | None = None,
        loader: ModelLoader | None = None,
        keys: KeyStore | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("s1desk")
        self.setWindowIcon(app_icon())
        self.settings = settings
        self.controller = controller or ChatController()
        self.loader = loader or ModelLoader(self)
        self.model_manager: ModelManagerDialog | None = None
        self.servers_dialog: ServersDialog | None = None
        self._editing: int | None = None
        self._auto_collapsed = False
        self._collapsed_for: int | None = None
        self._transcript_at = 0.0
        self._shut_down = False
        self._shutdown_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self.colors = theme.apply(_app(), settings.theme)

        c = self.controller
        c.policy = settings.policy
        c.sampler = settings.sampler
        c.system_prompt = settings.system_prompt

        self.transcript = TranscriptView(self.colors.dark)
        self.reasoning = ReasoningPane()
        self.reasoning.set_colors(self.colors)
        self.budget = BudgetControl(settings.policy, settings.context_size)
        self.composer = Composer()
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setDefault(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        self.stop_button.setEnabled(False)
        self.banner = Banner(self.colors)
        self.edit_banner = QLabel("")
        self.edit_banner.setObjectName("editBanner")
        self.edit_banner.hide()

        self.sidebar_area = QStackedWidget()
        self.sidebar_area.setObjectName("sidebarArea")
        self.sidebar_area.hide()

        chat = QWidget()
        chat_layout = QVBoxLayout(chat)
        chat_layout.setContentsMargins(6, 6, 6, 6)
        chat_layout.addWidget(self.banner)
        chat_layout.addWidget(self.transcript, 1)
        chat_layout.addWidget(self.edit_banner)
        chat_layout.addWidget(self.budget)
        row = QHBoxLayout()
        row.addWidget(self.composer, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        row.addLayout(buttons)
        chat_layout.addLayout(row)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.sidebar_area)
        self.splitter.addWidget(chat)
        self.splitter.addWidget(self.reasoning)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([0, 640, 420])
        self.setCentralWidget(self.splitter)

        self.backend_label = QLabel()
        self.backend_label.setObjectName("backendLabel")
        self.load_bar = QProgressBar()
        self.load_bar.setObjectName("loadBar")
        self.load_bar.setRange(0, 0)  # busy: llama.cpp reports no progress
        self.load_bar.setMaximumWidth(140)
        self.load_bar.hide()
        self.load_cancel = QToolButton()
        self.load_cancel.setText("Cancel")
        self.load_cancel.setObjectName("loadCancel")
        self.load_cancel.hide()
        status = self.statusBar()
        status.addPermanentWidget(self.load_bar)
        status.addPermanentWidget(self.load_cancel)
        # The backend selector (local model, saved servers); it owns those backends.
        self.switcher = BackendSwitcher(self.controller, keys=keys or KeyStore, parent=self)
        status.addPermanentWidget(self.switcher.box)
        status.addPermanentWidget(self.backend_label)

        self.actions_by_name, self.menus = build_actions(self)
        self.model_menu = self.menus["&Model"]
        self._wire()
        self.history = attach_history(self)  # saved chats, the sidebar, export and import
        self._show_backend(c.backend.name if c.backend else "")
        self._busy(False)
        self._restore_geometry()
        self.set_reasoning_visible(not settings.reasoning_collapsed, remember=False)
        self.actions_by_name["auto_collapse"].setChecked(settings.auto_collapse_reasoning)
        self.composer.setFocus()

    # -- wiring --------------------------------------------------------------

    def _wire(self) -> None:
        a = self.actions_by_name
        c = self.controller
        c.exchange_added.connect(self._exchange_added)
        c.truncated.connect(self._truncated)
        c.reply_started.connect(self._reply_started)
        c.reply_updated.connect(self._reply_updated)
        c.reply_finished.connect(self._reply_finished)
        c.cleared.connect(self._cleared)
        c.busy_changed.connect(self._busy)
        c.backend_changed.connect(self._show_backend)
        c.problem.connect(self.banner.show_message)
        self.switcher.problem.connect(self.banner.show_message)
        self.switcher.connecting.connect(self._connecting)
        self.switcher.context_known.connect(self.budget.set_limit)
        self.switcher.manage.connect(self.show_servers)
        a["servers"].triggered.connect(self.show_servers)
        self.transcript.action.connect(self._transcript_action)
        self.composer.submitted.connect(self.submit)
        self.send_button.clicked.connect(lambda: self.submit(self.composer.toPlainText()))
        self.stop_button.clicked.connect(self.stop)
        self.budget.policy_changed.connect(self._policy_changed)
        self.reasoning.collapse_requested.connect(lambda: self.set_reasoning_visible(False))
        self.load_cancel.clicked.connect(self.loader.cancel)
        self.loader.started.connect(self._load_started)
        self.loader.loaded.connect(self._loaded)
        self.loader.failed.connect(self._load_failed)
        self.loader.cancelled.connect(self._load_cancelled)
        a["models"].triggered.connect(self.show_model_manager)
        a["open_model"].triggered.connect(self.choose_model)
        a["cancel_load"].triggered.connect(self.loader.cancel)
        a["new_chat"].triggered.connect(self.new_chat)
        a["stop"].triggered.connect(self.stop)
        a["regenerate"].triggered.connect(self.controller.regenerate)
        a["think_longer"].triggered.connect(self.think_longer)
        a["edit_last"].triggered.connect(self._edit_last)
        a["copy_answer"].triggered.connect(lambda: self.copy_answer(self._current_index()))
        a["copy_reasoning"].triggered.connect(lambda: self.copy_reasoning(self._current_index()))
        a["focus_composer"].triggered.connect(self.composer.setFocus)
        a["settings"].triggered.connect(self.open_settings)
        a["quit"].triggered.connect(self.close)
        a["toggle_reasoning"].toggled.connect(self.set_reasoning_visible)
        a["auto_collapse"].toggled.connect(self._auto_collapse_toggled)
        a["shortcuts"].triggered.connect(self._show_shortcuts)
        hints = QGuiApplication.styleHints()
        hints.colorSchemeChanged.connect(lambda _scheme: self.apply_theme(self.settings.theme))

    # -- public slots --------------------------------------------------------------

    def set_backend(self, backend: Backend | None) -> None:
        """Use ``backend`` as the local model for the next replies; the previous local
        one is closed once idle (remote connections stay open for switching back)."""
        self.switcher.use_local(backend)

    def show_servers(self) -> None:
        """The Remote servers dialog (add, edit, test); the selector follows its changes."""
        from s1desk.ui.servers_dialog import ServersDialog

        dialog = ServersDialog(self.switcher.store, self.switcher.keys, self.colors, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self.switcher.reload)
        self.servers_dialog = dialog
        dialog.open()

    def set_sidebar(self, widget: QWidget) -> None:
        """Show ``widget`` (e.g. the conversation list) in the left area."""
        self.sidebar_area.addWidget(widget)
        self.sidebar_area.setCurrentWidget(widget)
        self.sidebar_area.show()
        sizes = self.splitter.sizes()
        if sizes[0] == 0:
            # Before the window is shown the splitter may report no sizes at
            # all: share the default width (1200) as chat 3 : reasoning 2.
            rest = max(sum(sizes), 1200) - 220
            chat = rest * 3 // 5
            self.splitter.setSizes([220, chat, rest - chat])

    def open_model_file(self, path: Path) -> None:
        """Load the GGUF at ``path`` (in the background; the window stays usable)."""
        self.banner.hide()
        self.loader.load(path, self.settings.context_size)

    def show_model_manager(self) -> None:
        """The Models window (catalog, downloads, local files); it is kept, so downloads go
        on while it is closed."""
        if self.model_manager is None:
            from s1desk.ui.model_manager import ModelManagerDialog

            self.model_manager = ModelManagerDialog(
                self, colors=self.colors, context_size=self.settings.context_size
            )
            self.model_manager.use_requested.connect(self.open_model_file)
        self.model_manager.show()
        self.model_manager.raise_()
        self.model_manager.activateWindow()

    def choose_model(self) -> None:
        start = str(Path(self.settings.last_model).parent) if self.settings.last_model else ""
        path, _ = QFileDialog.getOpenFileName(
            self, "Open an s1 model", start, "GGUF models (*.gguf);;All files (*)"
        )
        if path:
            self.open_model_file(Path(path))

    def submit(self, text: str) -> None:
        """Send the message box's text (or resend an edited message)."""
        if self._editing is not None:
            ok = self.controller.edit_and_resend(self._editing, text)
        else:
            ok = self.controller.send(text)
        if ok:
            self.composer.clear()
            self._set_editing(None)
            self.banner.hide()

    def stop(self) -> None:
        """Esc: stop the reply; with none running, leave editing."""
        if self.controller.busy:
            self.controller.stop()
        elif self._editing is not None:
            self._set_editing(None)
            self.composer.clear()

    def new_chat(self) -> None:
        self._set_editing(None)
        self.controller.new_chat()

    def think_longer(self) -> None:
        policy = self.controller.think_longer(self.budget.limit)
        if policy is not None:
            self.budget.set_policy(policy)

    def copy_answer(self, index: int | None) -> None:
        message = self.controller.message(index) if index is not None else None
        if message is not None:
            QGuiApplication.clipboard().setText(message.answer)
            self.statusBar().showMessage("Answer copied", 2500)

    def copy_reasoning(self, index: int | None) -> None:
        message = self.controller.message(index) if index is not None else None
        if message is not None:
            QGuiApplication.clipboard().setText(message.reasoning)
            self.statusBar().showMessage("Reasoning copied", 2500)

    def show_reasoning(self, index: int) -> None:
        """Open the pane on message ``index``."""
        message = self.controller.message(index)
        if message is None:
            return
        self.reasoning.show_message(index, message)
        self.transcript.select(index)
        self.set_reasoning_visible(True)

    def set_reasoning_visible(self, visible: bool, remember: bool = True) -> None:
        self.reasoning.setVisible(visible)
        action = self.actions_by_name["toggle_reasoning"]
        if action.isChecked() != visible:
            action.blockSignals(True)
            action.setChecked(visible)
            action.blockSignals(False)
        if remember:
            self._auto_collapsed = False
            self.settings = self.settings.replace(reasoning_collapsed=not visible)

    def open_settings(self) -> None:
        from s1desk.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.apply_settings(dialog.settings)

    def apply_settings(self, settings: AppSettings) -> None:
        policy = replace(
            self.budget.policy,
            wait_text=settings.policy.wait_text,
            max_answer=settings.policy.max_answer,
        )
        self.settings = settings.replace(policy=policy)
        self.budget.set_policy(policy)
        self.controller.policy = policy
        self.controller.sampler = settings.sampler
        self.controller.system_prompt = settings.system_prompt
        self.actions_by_name["auto_collapse"].setChecked(settings.auto_collapse_reasoning)
        self.apply_theme(settings.theme)
        self._save()

    def apply_theme(self, name: str) -> None:
        self.colors = theme.apply(_app(), name)
        self.reasoning.set_colors(self.colors)
        self.banner.set_colors(self.colors)
        self.transcript.set_dark(self.colors.dark)

    # -- controller events -------------------------------------------------------

    def _exchange_added(self, index: int) -> None:
        self.transcript.add_exchange(index, self.controller.session.exchanges[index].user)

    def _truncated(self, index: int) -> None:
        self.transcript.truncate(index)
        shown = self.reasoning.index
        if shown is not None and shown >= index:
            self.reasoning.clear()

    def _reply_started(self, index: int) -> None:
        self.transcript.start_reply(index)
        message = self.controller.message(index)
        if message is not None:
            self.reasoning.show_message(index, message)
            self.transcript.select(index)
        if self._auto_collapsed:
            self.set_reasoning_visible(True, remember=False)
            self._auto_collapsed = False
        self._collapsed_for = None

    def _reply_finished(self, index: int) -> None:
        self._reply_updated(index, final=True)
        message = self.controller.message(index)
        if message is not None and message.error and message.source:
            self.banner.show_message(
                f"The reply failed: {message.error} What arrived is kept; Regenerate "
                "(Ctrl+R) tries again, or switch backends in the status bar."
            )

    def _reply_updated(self, index: int, final: bool = False) -> None:
        message = self.controller.message(index)
        if message is None:
            return
        # While the model thinks only the summary's count changes in the
        # transcript: refresh it a few times a second; the pane gets every batch.
        now = time.monotonic()
        thinking_only = not message.answer_parts and message.close_reason is None
        if final or not thinking_only or now - self._transcript_at >= TRANSCRIPT_THINKING_INTERVAL:
            self._transcript_at = now
            self.transcript.update_reply(index, message, message.source)
        if self.reasoning.index == index:
            self.reasoning.update_message(message)
        if (
            self.settings.auto_collapse_reasoning
            and (message.close_reason is not None or message.answer_parts)
            and self._collapsed_for != index
            and self.reasoning.isVisible()
        ):
            self._collapsed_for = index
            self._auto_collapsed = True
            self.set_reasoning_visible(False, remember=False)
        self._update_actions()

    def _cleared(self) -> None:
        self.transcript.clear()
        self.reasoning.clear()
        self._update_actions()

    def _busy(self, busy: bool) -> None:
        self.stop_button.setEnabled(busy)
        self.send_button.setEnabled(not busy)
        self._update_actions()

    def _update_actions(self) -> None:
        a = self.actions_by_name
        idle = not self.controller.busy
        has_reply = self.controller.session.last_reply is not None
        a["stop"].setEnabled(self.controller.busy or self._editing is not None)
        a["regenerate"].setEnabled(idle and has_reply)
        a["think_longer"].setEnabled(idle and has_reply)
        a["edit_last"].setEnabled(idle and len(self.controller.session) > 0)

    def _show_backend(self, name: str) -> None:
        if name:
            self.backend_label.setText(f"● {name}")
            self.backend_label.setToolTip(f"Replies come from {name}")
        else:
            self.backend_label.setText("○ no model — Ctrl+M: get one, Ctrl+O: open a file")
            self.backend_label.setToolTip("Download an s1 model (Models…) or open a GGUF file")

    def _connecting(self, label: str) -> None:
        if label:
            self.backend_label.setText(f"Connecting to {label}…")
        else:
            self._show_backend(self.controller.backend.name if self.controller.backend else "")

    def _policy_changed(self, policy: BudgetPolicy) -> None:
        self.controller.policy = policy
        self.settings = self.settings.replace(policy=policy)

    def _auto_collapse_toggled(self, on: bool) -> None:
        self.settings = self.settings.replace(auto_collapse_reasoning=on)

    # -- transcript links -------------------------------------------------------------

    def _transcript_action(self, action: TranscriptAction) -> None:
        i = action.index
        match action.name:
            case "reasoning":
                self.show_reasoning(i)
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

    def begin_edit(self, index: int) -> None:
        """Put user message ``index`` in the message box; sending replaces it."""
        if self.controller.busy:
            self.banner.show_message("Stop the reply (Esc) before editing a message.")
            return
        exchanges = self.controller.session.exchanges
        if not 0 <= index < len(exchanges):
            return
        self.composer.setPlainText(exchanges[index].user)
        self._set_editing(index)
        self.composer.setFocus()

    def _edit_last(self) -> None:
        if len(self.controller.session):
            self.begin_edit(len(self.controller.session) - 1)

    def _set_editing(self, index: int | None) -> None:
        self._editing = index
        if index is None:
            self.edit_banner.hide()
        else:
            self.edit_banner.setText(
                f"Editing message {index + 1}: Enter resends it and drops what followed; "
                "Esc cancels."
            )
            self.edit_banner.show()
        self._update_actions()

    def _current_index(self) -> int | None:
        if self.reasoning.index is not None:
            return self.reasoning.index
        n = len(self.controller.session)
        return n - 1 if n else None

    # -- model loading -----------------------------------------------------------------

    def _load_started(self, path: str) -> None:
        self.load_bar.show()
        self.load_cancel.show()
        self.backend_label.setText(f"Loading {Path(path).name}…")

    def _load_done(self) -> None:
        self.load_bar.hide()
        self.load_cancel.hide()

    def _loaded(self, backend: Backend, path: str) -> None:
        self._load_done()
        self.settings = self.settings.replace(last_model=str(path))
        context = backend.context_length
        if context is not None and context > 0:
            self.budget.set_limit(context)
        self.set_backend(backend)
        self.statusBar().showMessage("Model loaded", 3000)
        self._save()

    def _load_failed(self, message: str) -> None:
        self._load_done()
        self._show_backend(self.controller.backend.name if self.controller.backend else "")
        self.banner.show_message(f"Could not load the model. {message}")

    def _load_cancelled(self) -> None:
        self._load_done()
        self._show_backend(self.controller.backend.name if self.controller.backend else "")
        self.statusBar().showMessage("Loading cancelled", 3000)

    # -- lifetime ------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _retire(self, backend: Backend) -> None:
        await self.controller.wait_idle()
        await backend.aclose()

    def _restore_geometry(self) -> None:
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode()))
        else:
            self.resize(1200, 780)
        if self.settings.splitter_state:
            self.splitter.restoreState(QByteArray.fromBase64(self.settings.splitter_state.encode()))

    def _save(self) -> None:
        try:
            save_settings(self.settings)
        except OSError as exc:
            log.warning("could not save settings: %s", exc)
            self.banner.show_message(f"Settings could not be saved: {exc}")

    def remember_geometry(self) -> None:
        self.settings = self.settings.replace(
            window_geometry=bytes(self.saveGeometry().toBase64().data()).decode(),
            splitter_state=bytes(self.splitter.saveState().toBase64().data()).decode(),
        )

    async def shutdown(self) -> None:
        """Stop generating, close the model, save settings; then the window may close."""
        if self._shut_down:
            return
        self.remember_geometry()
        self._save()
        await self.controller.shutdown()
        if self.history is not None:
            self.history.close()
        await self.loader.shutdown()
        if self.model_manager is not None:
            await self.model_manager.shutdown()
        await self.switcher.shutdown()
        backend = self.controller.set_backend(None)
        if backend is not None:
            await backend.aclose()
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        self._shut_down = True

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self._shut_down:
            event.accept()
            self.closed.emit()
            return
        event.ignore()
        if self._shutdown_task is None:
            self._shutdown_task = asyncio.ensure_future(self._shutdown_and_close())

    async def _shutdown_and_close(self) -> None:
        try:
            await self.shutdown()
        finally:
            self._shut_down = True
            self.close()

    def _show_shortcuts(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setText(f"<pre>{shortcuts_text()}</pre>")
        box.exec()


def _app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app
