"""The window's settings: one place that changes them and saves them."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QByteArray, QObject, QTimer, Signal
from PySide6.QtWidgets import QMainWindow, QSplitter

from s1desk.settings import AppSettings, save_settings

log = logging.getLogger(__name__)


#: A burst of changes (a slider dragged) is written once, this long after the last.
SAVE_DELAY_MS = 300


class SettingsKeeper(QObject):
    """Holds the current :class:`AppSettings`; every change goes through :meth:`change`
    and is written soon after (so a crash or a kill keeps it), :meth:`save` writes at once
    (a failure is a ``problem``, never an exception)."""

    problem = Signal(str)

    def __init__(self, settings: AppSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.current = settings
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save)

    @property
    def pending(self) -> bool:
        """A change waits to be written."""
        return self._timer.isActive()

    def change(self, **changes: Any) -> AppSettings:
        """Apply ``changes``; they are written within :data:`SAVE_DELAY_MS`."""
        updated = self.current.replace(**changes)
        if updated != self.current:
            self.current = updated
            self._timer.start()
        return self.current

    def save(self) -> None:
        self._timer.stop()
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
