"""Starting the desktop app: Qt, the asyncio loop on top of it (qasync), the main window."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from s1desk.settings import AppSettings, load_settings
from s1desk.ui.environment import prepare_qt_environment
from s1desk.ui.main_window import MainWindow
from s1desk.ui.resources import app_icon

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
    window = MainWindow(load_settings())
    window.show()
    model = startup_model(window.settings)
    if model is not None:
        loop.call_soon(window.open_model_file, model)
    else:  # a new user: the Models window, to download or add one
        loop.call_soon(window.show_model_manager)
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
