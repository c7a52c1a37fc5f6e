"""The backend selector: a combo box listing the local model and each saved server."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QSizePolicy, QWidget

LOCAL = "local"
MANAGE = "manage"
REMOTE_PREFIX = "remote:"

#: Shown when a switch is refused because a reply is being written.
BUSY_TIP = "Stop the reply (Esc) before switching backends."


@dataclass(frozen=True, slots=True)
class BackendChoice:
    """One entry: ``key`` is ``local``, ``remote:<server id>`` or ``manage``."""

    key: str
    label: str

    @property
    def server_id(self) -> str | None:
        return self.key.removeprefix(REMOTE_PREFIX) if self.key.startswith(REMOTE_PREFIX) else None


def remote_key(server_id: str) -> str:
    return REMOTE_PREFIX + server_id


class BackendBox(QComboBox):
    """Lists the choices; ``chosen`` fires when the user picks another one.

    Setting the list or the current entry from code does not fire ``chosen``.
    """

    chosen = Signal(str)  # the choice's key

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backendBox")
        # A narrow minimum keeps small windows possible; longer names are elided.
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(22)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._current = LOCAL
        self._quiet = False
        self.activated.connect(self._activated)

    @property
    def current_key(self) -> str:
        """The entry in use (not one the user is still connecting to)."""
        return self._current

    def keys(self) -> list[str]:
        return [str(self.itemData(i)) for i in range(self.count()) if self.itemData(i)]

    def set_choices(self, choices: list[BackendChoice], current: str) -> None:
        self._quiet = True
        try:
            self.clear()
            for choice in choices:
                if choice.key == MANAGE:
                    self.insertSeparator(self.count())
                self.addItem(choice.label, choice.key)
        finally:
            self._quiet = False
        self.show_current(current)

    def show_current(self, key: str) -> None:
        """Select ``key`` without firing ``chosen`` (after a switch, or to undo a refused one)."""
        self._current = key
        index = self.findData(key)
        if index >= 0:
            self._quiet = True
            self.setCurrentIndex(index)
            self._quiet = False
        self.setToolTip(f"Replies come from: {self.itemText(index)}" if index >= 0 else "")

    def set_busy(self, busy: bool) -> None:
        """Disable switching while a reply is written; say why."""
        self.setEnabled(not busy)
        if busy:
            self.setToolTip(BUSY_TIP)
        else:
            self.show_current(self._current)

    def _activated(self, index: int) -> None:
        key = self.itemData(index)
        if self._quiet or not key:
            return
        if key == self._current:
            return
        self.chosen.emit(str(key))
