"""The status-bar pieces that say which backend answers and show a model loading."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QProgressBar, QToolButton

from s1desk.chat.controller import ChatController
from s1desk.ui.backends.model_loader import ModelLoader


class BackendStatus(QObject):
    """``label`` names the backend in use (or how to get one); ``bar`` and ``cancel`` show
    and stop a model load. The window puts the three in its status bar."""

    def __init__(
        self, controller: ChatController, loader: ModelLoader, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.loader = loader
        self.label = QLabel()
        self.label.setObjectName("backendLabel")
        self.bar = QProgressBar()
        self.bar.setObjectName("loadBar")
        self.bar.setRange(0, 0)  # busy: llama.cpp reports no progress
        self.bar.setMaximumWidth(140)
        self.bar.hide()
        self.cancel = QToolButton()
        self.cancel.setText("Cancel")
        self.cancel.setObjectName("loadCancel")
        self.cancel.hide()
        self.show_backend()

    def attach(self) -> None:
        """Follow the controller's backend and the loader."""
        self.controller.backend_changed.connect(self.show_backend)
        self.cancel.clicked.connect(self.loader.cancel)
        self.loader.started.connect(self.load_started)
        self.loader.loaded.connect(lambda _backend, _path: self._load_done())
        self.loader.failed.connect(lambda _message: self._load_ended())
        self.loader.cancelled.connect(self._load_ended)

    def show_backend(self, name: str | None = None) -> None:
        """Name the backend in use (``None``: the controller's)."""
        if name is None:
            backend = self.controller.backend
            name = backend.name if backend is not None else ""
        if name:
            self.label.setText(f"● {name}")
            self.label.setToolTip(f"Replies come from {name}")
        else:
            self.label.setText("○ no model — Ctrl+M: get one, Ctrl+O: open a file")
            self.label.setToolTip("Download an s1 model (Models…) or open a GGUF file")

    def connecting(self, label: str) -> None:
        """A server is being connected to (``""``: done)."""
        if label:
            self.label.setText(f"Connecting to {label}…")
        else:
            self.show_backend()

    def load_started(self, path: str) -> None:
        self.bar.show()
        self.cancel.show()
        self.label.setText(f"Loading {Path(path).name}…")

    def _load_done(self) -> None:
        self.bar.hide()
        self.cancel.hide()

    def _load_ended(self) -> None:
        self._load_done()
        self.show_backend()
