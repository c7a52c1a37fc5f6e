"""The "Remote servers" dialog: add, edit, remove and test saved servers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from s1desk.backends.remote_config import ApiKey
from s1desk.backends.remote_errors import RemoteConfigError
from s1desk.connections import (
    ConnectionReport,
    KeyStore,
    Problem,
    SavedServer,
    ServersFileError,
    ServerStore,
    test_connection,
)
from s1desk.ui.backends.servers_form import ServerForm
from s1desk.ui.kit.theme import Colors

log = logging.getLogger(__name__)

#: What each finding of the connection test is called in the dialog.
TITLES = {
    Problem.OK: "Connected",
    Problem.INVALID: "Invalid settings",
    Problem.UNREACHABLE: "Unreachable",
    Problem.TLS: "TLS certificate problem",
    Problem.AUTH: "API key rejected",
    Problem.MODEL_NOT_FOUND: "Wrong model",
    Problem.NOT_OPENAI: "Not an OpenAI-compatible server",
    Problem.ERROR: "Error",
}


class ServersDialog(QDialog):
    """Saved servers on the left, the selected one's settings on the right.

    Network calls (the connection test, the model list) run as asyncio tasks on
    the GUI thread's event loop and never block it; closing the dialog cancels
    them. ``saved`` fires after every change written to disk.
    """

    saved = Signal()

    def __init__(
        self, store: ServerStore, keys: KeyStore, colors: Colors, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("serversDialog")
        self.setWindowTitle("Remote servers")
        self.store = store
        self.keys = keys
        self.colors = colors
        self.report: ConnectionReport | None = None
        self._task: asyncio.Task[None] | None = None

        self.list = QListWidget()
        self.list.setObjectName("serverList")
        self.list.setMinimumWidth(180)
        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        self.form = ServerForm(colors)
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("testConnection")
        self.verdict = QLabel()
        self.verdict.setObjectName("connectionResult")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("saveServer")
        self.save_button.setDefault(True)
        self.close_button = QPushButton("Close")

        left = QVBoxLayout()
        left.addWidget(QLabel("Saved servers"))
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        left.addLayout(row)

        right = QVBoxLayout()
        right.addWidget(self.form)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        right.addLayout(test_row)
        right.addWidget(self.verdict)
        right.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        right.addLayout(buttons)

        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addLayout(right, 1)
        self.resize(820, 420)

        self.list.currentItemChanged.connect(self._selected)
        self.add_button.clicked.connect(self.add_server)
        self.remove_button.clicked.connect(self.remove_server)
        self.test_button.clicked.connect(self.test)
        self.form.refresh_requested.connect(self.refresh_models)
        self.form.edited.connect(lambda: self._show("", ok=True))
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.close)
        self._fill()

    # -- list ------------------------------------------------------------------------------

    def _fill(self, select: str | None = None) -> None:
        try:
            servers = self.store.load()
        except ServersFileError as exc:
            servers = []
            self._show(str(exc), ok=False)
        self.list.blockSignals(True)
        self.list.clear()
        for server in servers:
            item = QListWidgetItem(server.label)
            item.setData(Qt.ItemDataRole.UserRole, server)
            item.setToolTip(server.base_url)
            self.list.addItem(item)
        self.list.blockSignals(False)
        rows = [i for i, s in enumerate(servers) if s.id == select]
        if rows:
            self.list.setCurrentRow(rows[0])
        elif servers:
            self.list.setCurrentRow(0)
        else:
            self.add_server()
        self.remove_button.setEnabled(bool(servers))

    def _selected(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        server = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        self._load(server if isinstance(server, SavedServer) else None)

    def _load(self, server: SavedServer | None) -> None:
        self._cancel()
        has_key = server is not None and self.keys.get(server.id) is not None
        self.form.load(server, has_key, self.keys.status)
        self._show("", ok=True)

    def add_server(self) -> None:
        """Empty fields for a new server (saved with Save)."""
        self.list.blockSignals(True)
        self.list.clearSelection()
        self.list.setCurrentRow(-1)
        self.list.blockSignals(False)
        self._load(None)
        self.form.label.setFocus()

    def remove_server(self) -> None:
        server = self.form.server
        if server is None:
            self._fill()
            return
        try:
            self.store.remove(server.id, self.keys)
        except (OSError, ServersFileError) as exc:
            self._show(f"Could not remove {server.label}: {exc}", ok=False)
            return
        log.info("removed saved server %s", server.id)
        self._fill()
        self._show(f"Removed {server.label} and its key.", ok=True)
        self.saved.emit()

    def save(self) -> bool:
        """Write the form's server (and its key to the key store); False when refused."""
        try:
            server = self.form.values()
        except RemoteConfigError as exc:
            self._show(f"Not saved: {exc}", ok=False)
            return False
        try:
            self.store.put(server)
        except (OSError, ServersFileError) as exc:
            self._show(f"Not saved: {exc}", ok=False)
            return False
        typed = self.form.typed_key()
        if typed is not None:
            self.keys.set(server.id, typed)
        elif self.form.forget_key:
            self.keys.set(server.id, None)
        log.info("saved server %s", server.id)
        self._fill(select=server.id)
        where = "in the keyring" if self.keys.persistent else "for this session only"
        key_note = f" The API key is kept {where}." if self.keys.get(server.id) else ""
        self._show(f"Saved {server.label}.{key_note}", ok=True)
        self.saved.emit()
        return True

    # -- network ------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def test(self) -> None:
        """Test the settings as they stand in the form (saved or not)."""
        self._start(refresh_only=False)

    def refresh_models(self) -> None:
        """Ask the server for its models and offer them in the model list."""
        self._start(refresh_only=True)

    async def wait_idle(self) -> None:
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._task)

    def _key(self) -> ApiKey | None:
        typed = self.form.typed_key()
        if typed is not None or self.form.forget_key or self.form.server is None:
            return typed
        return self.keys.get(self.form.server.id)

    def _start(self, refresh_only: bool) -> None:
        self._cancel()
        try:
            server = self.form.values()
        except RemoteConfigError as exc:
            self._show(f"✗ {TITLES[Problem.INVALID]}: {exc}", ok=False)
            return
        if refresh_only:
            server = replace(server, model="")
        self._set_testing(True)
        self._show(f"Connecting to {server.base_url}…", ok=True)
        self._task = asyncio.ensure_future(self._run(server, self._key(), refresh_only))

    async def _run(self, server: SavedServer, key: ApiKey | None, refresh_only: bool) -> None:
        try:
            report = await test_connection(server, key)
        except Exception as exc:  # test_connection reports what it knows; anything else here
            log.exception("connection test failed")
            report = ConnectionReport(Problem.ERROR, f"The test failed: {exc}")
        finally:
            self._set_testing(False)
        self.report = report
        if report.models:
            self.form.set_models(report.models)
        if refresh_only and report.models:
            names = ", ".join(report.models)
            self._show(f"The server serves {len(report.models)} model(s): {names}.", ok=True)
        elif refresh_only and report.problem is Problem.MODEL_NOT_FOUND:
            self._show(f"✗ {TITLES[report.problem]}: {report.message}", ok=False)
        elif report.ok:
            self._show(f"✓ {report.message}", ok=True)
        else:
            self._show(f"✗ {TITLES[report.problem]}: {report.message}", ok=False)

    def _set_testing(self, on: bool) -> None:
        self.test_button.setEnabled(not on)
        self.form.refresh.setEnabled(not on)
        self.test_button.setText("Testing…" if on else "Test connection")

    def _cancel(self) -> None:
        if self.busy and self._task is not None:
            self._task.cancel()
            self._set_testing(False)

    def _show(self, text: str, ok: bool) -> None:
        color = self.colors.muted if ok else self.colors.error_fg
        if ok and text.startswith("✓"):
            color = "#1a7f37" if not self.colors.dark else "#56d364"
        self.verdict.setStyleSheet(f"#connectionResult {{ color: {color}; }}")
        self.verdict.setText(text)

    # -- closing ---------------------------------------------------------------------------

    def done(self, result: int) -> None:
        self._cancel()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self._cancel()
        super().closeEvent(event)
