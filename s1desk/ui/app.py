"""Starting the desktop app: Qt, the asyncio loop on top of it (qasync), and the composition
root that builds the chat core, its saver, the backends and the window over them."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from s1desk.chat.controller import ChatController
from s1desk.chat.saving import ChatSaver
from s1desk.connections import KeyStore
from s1desk.settings import AppSettings, load_settings
from s1desk.store import HistoryStore, StoreError
from s1desk.ui.backends.model_loader import ModelLoader
from s1desk.ui.backends.switcher import BackendSwitcher
from s1desk.ui.kit.environment import prepare_qt_environment
from s1desk.ui.kit.resources import app_icon
from s1desk.ui.window.main_window import MainWindow

log = logging.getLogger(__name__)

MODEL_VARIABLE = "S1DESK_MODEL"


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (created once), named and with its icon."""
    prepare_qt_environment()
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setApplicationName("s1desk")
    app.setApplicationDisplayName("s1desk")
    app.setDesktopFileName("s1desk")
    app.setWindowIcon(app_icon())
    return app


def install_asyncgen_hooks(loop: asyncio.AbstractEventLoop) -> None:
    """Give ``loop`` the async-generator hooks that ``asyncio.run`` would install.

    qasync's loop never registers them, so an async generator left unfinished
    (httpx's, when a remote stream is cut short) would be closed by the garbage
    collector outside the loop ("async generator ignored GeneratorExit")
    instead of by a task on the loop.
    """
    firstiter = getattr(loop, "_asyncgen_firstiter_hook", None)  # asyncio's own hooks
    finalizer = getattr(loop, "_asyncgen_finalizer_hook", None)
    if firstiter is not None and finalizer is not None:
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)


def build_window(
    settings: AppSettings | None = None,
    *,
    keys: KeyStore | Callable[[], KeyStore] = KeyStore,
    store: HistoryStore | None = None,
) -> MainWindow:
    """The composition root: the conversation controller, the saver that keeps it in the
    history (``store``, else the default database), the model loader and the backend
    switcher, and the window that shows and connects them.

    When the database cannot be opened the chat works unsaved and the window says so.
    """
    settings = settings or load_settings()
    controller = ChatController()
    problem = ""
    if store is None:
        try:
            store = HistoryStore.open()
        except StoreError as exc:
            log.error("history unavailable: %s", exc)
            problem = f"Conversations will not be saved: {exc}"
    saver = ChatSaver(store, controller) if store is not None else None
    if saver is not None:
        saver.attach()  # every question and reply is saved as it streams
    loader = ModelLoader()
    switcher = BackendSwitcher(controller, keys=keys)
    window = MainWindow(settings, controller, loader, switcher, saver)
    loader.setParent(window)
    switcher.setParent(window)
    if problem:
        window.problems.report(problem)
    return window


def startup_model(settings: AppSettings) -> Path | None:
    """The model to open at start: ``$S1DESK_MODEL``, else the one used last."""
    value = os.environ.get(MODEL_VARIABLE) or settings.last_model
    return Path(value).expanduser() if value else None


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window and run until it is closed."""
    app = create_application(argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_asyncgen_hooks(loop)
    window = build_window(load_settings())
    window.show()
    model = startup_model(window.settings)
    if model is not None:
        loop.call_soon(window.open_model_file, model)
    else:  # a new user: the Models window, to download or add one
        loop.call_soon(window.dialogs.models)
        log.info("no model yet: the Models window is open")
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    # Ctrl+C in the terminal closes the window cleanly; the timer lets Python see the signal.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    ticker = QTimer()
    ticker.start(250)
    ticker.timeout.connect(lambda: None)
    log.info("window shown")
    with loop:
        loop.run_until_complete(closed.wait())
    ticker.stop()
    return 0
