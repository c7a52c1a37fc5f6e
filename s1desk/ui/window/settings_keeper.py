"""The window's settings: one place that changes them and saves them."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QByteArray, QObject, Signal
from PySide6.QtWidgets import QMainWindow, QSplitter

from s1desk.settings import AppSettings, save_settings

log = logging.getLogger(__name__)


class SettingsKeeper(QObject):
    """Holds the current :class:`AppSettings`; every change goes through :meth:`change`,
    and :meth:`save` writes them (a failure is a ``problem``, never an exception)."""

    problem = Signal(str)

    def __init__(self, settings: AppSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.current = settings

    def change(self, **changes: Any) -> AppSettings:
        self.current = self.current.replace(**changes)
        return self.current

    def save(self) -> None:
        try:
            save_settings(self.current)
        except OSError as exc:
            log.warning("could not save settings: %s", exc)
            self.problem.emit(f"Settings could not be saved: {exc}")

    def restore_geometry(self, window: QMainWindow, splitter: QSplitter) -> None:
        """Give ``window`` and ``splitter`` the size and layout saved last (else a default)."""
        if self.current.window_geometry:
            window.restoreGeometry(QByteArray.fromBase64(self.current.window_geometry.encode()))
        else:
            window.resize(1200, 780)
        if self.current.splitter_state:
            splitter.restoreState(QByteArray.fromBase64(self.current.splitter_state.encode()))

    def remember_geometry(self, window: QMainWindow, splitter: QSplitter) -> None:
        self.change(
            window_geometry=bytes(window.saveGeometry().toBase64().data()).decode(),
            splitter_state=bytes(splitter.saveState().toBase64().data()).decode(),
        )
