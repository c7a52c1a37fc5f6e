"""The dialogs the window's menus open: Models, Remote servers, Settings, a model file, help."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from s1desk.settings import AppSettings
from s1desk.ui.backends.switcher import BackendSwitcher
from s1desk.ui.kit.theme import Colors
from s1desk.ui.window.actions import shortcuts_text

if TYPE_CHECKING:
    from s1desk.ui.models.models_dialog import ModelManagerDialog


class Dialogs(QObject):
    """Opens the window's dialogs over ``parent``; the Models window is kept once made, so
    downloads go on while it is closed. ``model_chosen`` carries a model file to load and
    ``settings_chosen`` the settings accepted in the Settings dialog."""

    model_chosen = Signal(Path)
    settings_chosen = Signal(AppSettings)

    def __init__(
        self,
        parent: QWidget,
        switcher: BackendSwitcher,
        settings: Callable[[], AppSettings],
        colors: Callable[[], Colors],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._switcher = switcher
        self._settings = settings
        self._colors = colors
        self.model_manager: ModelManagerDialog | None = None
        self.loaded_model: Path | None = None

    def models(self) -> None:
        """The Models window (catalog, downloads, local files)."""
        if self.model_manager is None:
            from s1desk.ui.models.models_dialog import ModelManagerDialog

            self.model_manager = ModelManagerDialog(
                self._parent, colors=self._colors(), context_size=self._settings().context_size
            )
            self.model_manager.use_requested.connect(self.model_chosen)
            self.model_manager.set_loaded(self.loaded_model)
        self.model_manager.show()
        self.model_manager.raise_()
        self.model_manager.activateWindow()

    def model_loaded(self, path: Path) -> None:
        """The chat window now runs ``path``: the Models window lists it as in use."""
        self.loaded_model = path
        if self.model_manager is not None:
            self.model_manager.set_loaded(path)

    def model_file(self) -> None:
        """Model ▸ Open model…: a GGUF file."""
        last = self._settings().last_model
        start = str(Path(last).parent) if last else ""
        path, _ = QFileDialog.getOpenFileName(
            self._parent, "Open an s1 model", start, "GGUF models (*.gguf);;All files (*)"
        )
        if path:
            self.model_chosen.emit(Path(path))

    def servers(self) -> None:
        """The Remote servers dialog (add, edit, test); the selector follows its changes."""
        from s1desk.ui.backends.servers_dialog import ServersDialog

        s = self._switcher
        dialog = ServersDialog(s.store, s.keys, self._colors(), self._parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(s.reload)
        dialog.open()

    def settings(self) -> None:
        from s1desk.ui.window.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self._settings(), self._parent)
        if dialog.exec():
            self.settings_chosen.emit(dialog.settings)

    def shortcuts(self) -> None:
        box = QMessageBox(self._parent)
        box.setWindowTitle("Keyboard shortcuts")
        box.setText(f"<pre>{shortcuts_text()}</pre>")
        box.exec()

    async def shutdown(self) -> None:
        """Stop the Models window's downloads and hardware check."""
        if self.model_manager is not None:
            await self.model_manager.shutdown()
