"""The main window: lays out the feature panels and connects them; their logic lives in them."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QMainWindow, QSplitter, QStackedWidget

from s1desk.backends.base import Backend
from s1desk.chat.controller import ChatController
from s1desk.chat.saving import ChatSaver
from s1desk.errors import S1DeskError
from s1desk.models.local import add_model, list_local_models
from s1desk.settings import AppSettings
from s1desk.thinking.policy import BudgetPolicy
from s1desk.ui.backends.load_status import BackendStatus
from s1desk.ui.backends.model_loader import ModelLoader, load_config
from s1desk.ui.backends.switcher import BackendSwitcher
from s1desk.ui.chat.chat_panel import ChatPanel
from s1desk.ui.chat.reasoning_pane import ReasoningPane
from s1desk.ui.chat.reply_presenter import ReplyPresenter
from s1desk.ui.history.history_panel import HistoryPanel
from s1desk.ui.kit import theme
from s1desk.ui.kit.banner import Banner
from s1desk.ui.kit.problems import ProblemBus
from s1desk.ui.kit.resources import app_icon
from s1desk.ui.lab.opener import ScalingOpener
from s1desk.ui.window.actions import build_actions, update_chat_actions
from s1desk.ui.window.dialogs import Dialogs
from s1desk.ui.window.settings_keeper import SettingsKeeper

log = logging.getLogger(__name__)

MIN_CHAT_WIDTH = 460
MIN_SIDEBAR_WIDTH = 180
MIN_WINDOW_WIDTH = 720
MIN_WINDOW_HEIGHT = 520


class MainWindow(QMainWindow):
    """The chat window: sidebar (saved chats), chat column, reasoning pane, status bar.

    Built by :func:`s1desk.ui.app.build_window` from the parts it is given
    (the chat controller, the model loader, the backend switcher, the saver
    when the history could be opened); it lays out their widgets and
    connects them in :meth:`_connect_signals`. ``closed`` is emitted once
    :meth:`shutdown` has finished and the window closed.
    """

    closed = Signal()

    def __init__(
        self,
        settings: AppSettings,
        controller: ChatController,
        loader: ModelLoader,
        switcher: BackendSwitcher,
        saver: ChatSaver | None,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("s1desk")
        self.setWindowIcon(app_icon())
        self.keeper = SettingsKeeper(settings, self)
        self.controller = controller
        self.loader = loader
        self.switcher = switcher
        self._shut_down = False
        self._shutdown_task: asyncio.Task[None] | None = None
        self.colors = theme.apply(_app(), settings.theme)
        controller.policy = settings.policy
        controller.sampler = settings.sampler
        controller.system_prompt = settings.system_prompt

        self.problems = ProblemBus(self)
        self.banner = Banner(self.colors)
        self.chat = ChatPanel(controller, settings, self.colors.dark, self.banner)
        self.reasoning = ReasoningPane()
        self.reasoning.set_colors(self.colors)
        self.status = BackendStatus(controller, loader, self)
        self.dialogs = Dialogs(self, switcher, lambda: self.settings, lambda: self.colors)
        self.scaling = ScalingOpener(self, lambda: controller.backend, lambda: self.colors.dark)
        self.actions_by_name, self.menus = build_actions(self)
        a = self.actions_by_name
        self.replies = ReplyPresenter(
            controller, self.chat.transcript, self.reasoning, a["toggle_reasoning"],
            a["auto_collapse"], self,
        )  # fmt: skip
        self.history = (
            HistoryPanel(saver, self._show_found, self, self) if saver is not None else None
        )
        # The chat column's parts, by name (the tests and the screenshots drive them).
        self.transcript = self.chat.transcript
        self.composer = self.chat.composer
        self.budget = self.chat.budget
        self.send_button, self.stop_button = self.chat.send_button, self.chat.stop_button
        self.edit_banner = self.chat.edit_banner

        self.sidebar_area = QStackedWidget()
        self.sidebar_area.setObjectName("sidebarArea")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.sidebar_area)
        self.splitter.addWidget(self.chat)
        self.splitter.addWidget(self.reasoning)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setCollapsible(1, False)
        # Below these the budget row and the sidebar's titles no longer fit.
        self.chat.setMinimumWidth(MIN_CHAT_WIDTH)
        self.sidebar_area.setMinimumWidth(MIN_SIDEBAR_WIDTH)
        self.setMinimumSize(MIN_WINDOW_WIDTH, MIN_WINDOW_HEIGHT)
        self.setCentralWidget(self.splitter)
        if self.history is not None:
            self.sidebar_area.addWidget(self.history.sidebar)
            # The default width (1200) shared as sidebar 220, chat 3 : reasoning 2.
            self.splitter.setSizes([220, 588, 392])
        else:
            self.sidebar_area.hide()
            self.splitter.setSizes([0, 640, 420])
        bar = self.statusBar()
        for widget in (self.status.bar, self.status.cancel, switcher.box, self.status.label):
            bar.addPermanentWidget(widget)

        self._connect_signals()
        self._busy(False)
        self.keeper.restore_geometry(self, self.splitter)
        self.replies.set_visible(not settings.reasoning_collapsed, remember=False)
        a["auto_collapse"].setChecked(settings.auto_collapse_reasoning)
        self.composer.setFocus()

    @property
    def settings(self) -> AppSettings:
        return self.keeper.current

    def _connect_signals(self) -> None:
        """Every connection between the window's parts, in one place."""
        a, c, chat, keeper = self.actions_by_name, self.controller, self.chat, self.keeper
        # What the user should read: one bus, one banner.
        self.problems.collect(c.problem, self.switcher.problem, chat.problem, keeper.problem)
        self.problems.problem.connect(self.banner.show_message)
        chat.status.connect(lambda text: self.statusBar().showMessage(text, 2500))
        # The conversation: the presenter follows the controller; the window, its state.
        self.replies.attach()
        self.replies.visibility_chosen.connect(
            lambda visible: keeper.change(reasoning_collapsed=not visible)
        )
        c.busy_changed.connect(self._busy)
        c.reply_updated.connect(lambda _i: self._update_actions())
        c.reply_finished.connect(self._reply_finished)
        c.cleared.connect(self._update_actions)
        chat.editing_changed.connect(self._update_actions)
        chat.sent.connect(self.banner.hide)
        chat.budget.policy_changed.connect(self._policy_changed)
        chat.reasoning_requested.connect(self.replies.show_reasoning)
        self.reasoning.collapse_requested.connect(lambda: self.replies.set_visible(False))
        # Backends: the selector, the servers dialog, loading a model.
        self.status.attach()
        self.switcher.connecting.connect(self.status.connecting)
        self.switcher.context_known.connect(chat.budget.set_limit)
        self.switcher.manage.connect(self.dialogs.servers)
        self.loader.loaded.connect(self._loaded)
        self.loader.failed.connect(
            lambda message: self.problems.report(f"Could not load the model. {message}")
        )
        self.loader.cancelled.connect(
            lambda: self.statusBar().showMessage("Loading cancelled", 3000)
        )
        # Saved conversations.
        if self.history is not None:
            h = self.history
            h.attach()
            self.problems.collect(*h.problems())
            h.new_chat_requested.connect(self.new_chat)
            h.status.connect(lambda text: self.statusBar().showMessage(text, 5000))
            a["export"].triggered.connect(h.export_current)
            a["import"].triggered.connect(h.exports.ask_import)
            a["find"].triggered.connect(self.focus_search)
        # Menus, dialogs and shortcuts.
        self.dialogs.model_chosen.connect(self.open_model_file)
        self.dialogs.settings_chosen.connect(self.apply_settings)
        a["servers"].triggered.connect(self.dialogs.servers)
        a["models"].triggered.connect(self.dialogs.models)
        a["open_model"].triggered.connect(self.dialogs.model_file)
        a["cancel_load"].triggered.connect(self.loader.cancel)
        a["new_chat"].triggered.connect(self.new_chat)
        a["stop"].triggered.connect(chat.stop)
        a["regenerate"].triggered.connect(c.regenerate)
        a["think_longer"].triggered.connect(chat.think_longer)
        a["edit_last"].triggered.connect(chat.edit_last)
        a["copy_answer"].triggered.connect(lambda: chat.copy_answer(self.replies.current_index()))
        a["copy_reasoning"].triggered.connect(
            lambda: chat.copy_reasoning(self.replies.current_index())
        )
        a["focus_composer"].triggered.connect(self.composer.setFocus)
        a["settings"].triggered.connect(self.dialogs.settings)
        a["quit"].triggered.connect(self.close)
        a["auto_collapse"].toggled.connect(lambda on: keeper.change(auto_collapse_reasoning=on))
        a["shortcuts"].triggered.connect(self.dialogs.shortcuts)
        # The Scaling view: budget sweeps on the chat's backend, or on the chat's question.
        self.problems.collect(self.scaling.problem)
        a["scaling"].triggered.connect(self.scaling.show)
        a["compare_budgets"].triggered.connect(self._compare_budgets)
        QGuiApplication.styleHints().colorSchemeChanged.connect(
            lambda _scheme: self.apply_theme(self.settings.theme)
        )

    # -- what the menus and the tests call -----------------------------------------------

    def new_chat(self) -> None:
        self.chat.set_editing(None)
        self.controller.new_chat()

    def set_backend(self, backend: Backend | None) -> None:
        """Use ``backend`` as the local model; the previous one is closed once idle."""
        self.switcher.use_local(backend)

    def open_model_file(self, path: Path) -> None:
        """Load the GGUF at ``path`` in the background; the window stays usable."""
        self.banner.hide()
        try:
            config = load_config(path, self.settings)
        except S1DeskError as exc:
            self.problems.report(f"Could not load the model. {exc} (Settings, Loading a model)")
            return
        self.loader.load(config)

    def focus_search(self) -> None:
        """Ctrl+F: the sidebar's search box (the sidebar shown if it was hidden)."""
        sizes = self.splitter.sizes()
        if sizes[0] == 0:
            self.splitter.setSizes([220, max(sizes[1] - 220, 300), sizes[2]])
        if self.history is not None:
            self.history.sidebar.focus_search()

    def apply_settings(self, settings: AppSettings) -> None:
        policy = replace(
            self.budget.policy,
            wait_text=settings.policy.wait_text,
            max_answer=settings.policy.max_answer,
        )
        self.keeper.current = settings.replace(policy=policy)
        self.budget.set_policy(policy)
        self.controller.policy = policy
        self.controller.sampler = settings.sampler
        self.controller.system_prompt = settings.system_prompt
        self.actions_by_name["auto_collapse"].setChecked(settings.auto_collapse_reasoning)
        self.apply_theme(settings.theme)
        self.keeper.save()

    def apply_theme(self, name: str) -> None:
        self.colors = theme.apply(_app(), name)
        self.reasoning.set_colors(self.colors)
        self.replies.show_pane_again()  # its markers in the new colours
        self.banner.set_colors(self.colors)
        self.transcript.set_dark(self.colors.dark)

    # -- slots -------------------------------------------------------------------------

    def _show_found(self, index: int, in_reasoning: bool) -> None:
        if in_reasoning:
            self.replies.show_reasoning(index)
        else:
            self.transcript.select(index)

    def _reply_finished(self, index: int) -> None:
        self._update_actions()
        message = self.controller.message(index)
        if message is not None and message.error and message.source:
            self.problems.report(
                f"The reply failed: {message.error} What arrived is kept; Regenerate "
                "(Ctrl+R) tries again, or switch backends in the status bar."
            )

    def _compare_budgets(self) -> None:
        exchanges = self.controller.session.exchanges
        if exchanges:
            last = self.controller.message(len(exchanges) - 1)
            self.scaling.compare(exchanges[-1].user, last.answer if last is not None else "")

    def _busy(self, busy: bool) -> None:
        self.chat.set_busy(busy)
        self._update_actions()

    def _update_actions(self) -> None:
        update_chat_actions(
            self.actions_by_name,
            self.controller,
            self.chat.editing is not None,
            self.replies.current_index(),
        )

    def _policy_changed(self, policy: BudgetPolicy) -> None:
        self.controller.policy = self.keeper.change(policy=policy).policy

    def _loaded(self, backend: Backend, path: str) -> None:
        self.keeper.change(last_model=path)
        remember_model(Path(path))
        self.dialogs.model_loaded(Path(path))
        if backend.context_length:
            self.budget.set_limit(backend.context_length)
        self.set_backend(backend)
        self.statusBar().showMessage("Model loaded", 3000)
        self.keeper.save()
        take_notice = getattr(backend, "take_notice", None)
        notice = take_notice() if callable(take_notice) else None
        if isinstance(notice, str) and notice:
            self.banner.show_message(notice, tone="info")

    # -- lifetime ------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Stop generating, close the history, the loader, the Models window and every
        backend, save the settings; then the window may close."""
        if self._shut_down:
            return
        self.keeper.remember_geometry(self, self.splitter)
        self.keeper.save()
        await self.controller.shutdown()
        self.replies.close()
        if self.history is not None:
            self.history.close()
        await self.loader.shutdown()
        await self.dialogs.shutdown()
        await self.scaling.shutdown()
        await self.switcher.shutdown()
        backend = self.controller.set_backend(None)
        if backend is not None:
            await backend.aclose()
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


def remember_model(path: Path) -> None:
    """List a model opened by path (or ``S1DESK_MODEL``) in the Models window, as one
    added from disk, unless it is there already."""
    try:
        listed = {m.path.resolve() for m in list_local_models()}
        if path.resolve() not in listed:
            add_model(path)
    except (S1DeskError, OSError) as exc:
        log.info("not listing %s among the local models: %s", path, exc)


def _app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app
