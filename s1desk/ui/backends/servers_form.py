"""The fields of one saved server: address, model, API key, TLS, timeouts."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from s1desk.backends.remote_config import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, ApiKey
from s1desk.connections import SavedServer
from s1desk.ui.kit.theme import Colors

TLS_WARNING = (
    "⚠ Certificate checks are off: anyone on the network path can read the API key "
    "and the conversation, or pose as the server. Use this only for a test server you trust."
)
KEY_STORED = "A key is stored: type here to replace it"
KEY_NONE = "None (leave empty if the server needs no key)"


def _seconds(value: float, maximum: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.5, maximum)
    box.setDecimals(1)
    box.setSingleStep(1.0)
    box.setSuffix(" s")
    box.setValue(value)
    return box


class ServerForm(QWidget):
    """Edits one server. The key typed here is kept apart from the server (it goes to
    the key store, never to ``servers.json``); ``key_changed`` tells the dialog."""

    refresh_requested = Signal()
    edited = Signal()

    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("serverForm")
        self._server: SavedServer | None = None
        self._has_stored_key = False
        self.forget_key = False

        self.label = QLineEdit()
        self.label.setPlaceholderText("H100 box")
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("https://gpu-box.example:8000")
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.setMinimumWidth(220)
        line = self.model.lineEdit()
        if line is not None:
            line.setPlaceholderText("the server's only model")
        self.refresh = QPushButton("Refresh")
        self.refresh.setToolTip("Ask the server which models it serves (/v1/models)")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setObjectName("apiKey")
        self.remove_key = QPushButton("Remove key")
        self.remove_key.setToolTip("Forget the stored key when you save")
        self.key_status = QLabel()
        self.key_status.setObjectName("keyStatus")
        self.key_status.setWordWrap(True)
        self.verify_tls = QCheckBox("Verify the server's TLS certificate")
        self.verify_tls.setChecked(True)
        self.tls_warning = QLabel(TLS_WARNING)
        self.tls_warning.setObjectName("tlsWarning")
        self.tls_warning.setWordWrap(True)
        self.tls_warning.hide()
        self.connect_timeout = _seconds(DEFAULT_CONNECT_TIMEOUT, 300)
        self.connect_timeout.setToolTip("How long to wait for the server to accept a connection")
        self.read_timeout = _seconds(DEFAULT_READ_TIMEOUT, 3600)
        self.read_timeout.setToolTip(
            "How long the server may send nothing before the reply counts as stalled"
        )
        self.context = QSpinBox()
        self.context.setRange(0, 10_000_000)
        self.context.setSingleStep(1024)
        self.context.setGroupSeparatorShown(True)
        self.context.setSpecialValueText("as the server reports")
        self.context.setSuffix(" tokens")
        self.context.setMaximumWidth(240)
        self.context.setToolTip(
            "The maximum context, for servers that do not report it (llama_cpp.server)"
        )

        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.refresh)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.remove_key)
        timeouts = QHBoxLayout()
        timeouts.addWidget(QLabel("connect"))
        timeouts.addWidget(self.connect_timeout)
        timeouts.addSpacing(12)
        timeouts.addWidget(QLabel("silent for"))
        timeouts.addWidget(self.read_timeout)
        timeouts.addStretch(1)

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Name", self.label)
        form.addRow("Address", self.base_url)
        form.addRow("Model", model_row)
        form.addRow("API key", key_row)
        form.addRow("", self.key_status)
        form.addRow("TLS", self.verify_tls)
        form.addRow("", self.tls_warning)
        form.addRow("Timeouts", timeouts)
        form.addRow("Context", self.context)
        self.set_colors(colors)

        self.refresh.clicked.connect(self.refresh_requested)
        self.remove_key.clicked.connect(self._remove_key)
        self.verify_tls.toggled.connect(lambda on: self.tls_warning.setVisible(not on))
        for line in (self.label, self.base_url, self.key):
            line.textEdited.connect(lambda _text: self.edited.emit())
        self.model.editTextChanged.connect(lambda _text: self.edited.emit())

    def set_colors(self, colors: Colors) -> None:
        self.tls_warning.setStyleSheet(
            f"#tlsWarning {{ background: {colors.error_bg}; color: {colors.error_fg}; "
            "border-radius: 4px; padding: 4px 6px; }"
        )
        self.key_status.setStyleSheet(f"#keyStatus {{ color: {colors.muted}; }}")

    # -- in and out --------------------------------------------------------------------

    @property
    def server(self) -> SavedServer | None:
        """The saved entry being edited (None for a new one)."""
        return self._server

    def load(self, server: SavedServer | None, has_key: bool, key_status: str) -> None:
        """Show ``server`` (None: empty fields for a new server)."""
        self._server = server
        self._has_stored_key = has_key
        self.forget_key = False
        s = server or SavedServer(id="", label="", base_url="")
        self.label.setText(s.label)
        self.base_url.setText(s.base_url)
        self.set_models([s.model] if s.model else [], s.model)
        self.key.clear()
        self.verify_tls.setChecked(s.verify_tls)
        self.tls_warning.setVisible(not s.verify_tls)
        self.connect_timeout.setValue(s.connect_timeout)
        self.read_timeout.setValue(s.read_timeout)
        self.context.setValue(s.context_length)
        self.key_status.setText(key_status)
        self._show_key_state()

    def set_models(self, models: list[str] | tuple[str, ...], keep: str | None = None) -> None:
        """Fill the model list; keep the typed model, else pick the only one served."""
        current = self.model.currentText() if keep is None else keep
        self.model.blockSignals(True)
        self.model.clear()
        self.model.addItems(list(models))
        if current:
            self.model.setEditText(current)
        elif len(models) == 1:
            self.model.setEditText(models[0])
        self.model.blockSignals(False)

    def values(self) -> SavedServer:
        """The entry as the fields describe it (raises ``RemoteConfigError`` when invalid)."""
        label = self.label.text().strip() or self.base_url.text().strip()
        url = self.base_url.text().strip()
        server = replace(
            self._server or SavedServer.new(label or "server", "http://unsaved"),
            label=label,
            base_url=url,
            model=self.model.currentText().strip(),
            verify_tls=self.verify_tls.isChecked(),
            connect_timeout=self.connect_timeout.value(),
            read_timeout=self.read_timeout.value(),
            context_length=self.context.value(),
        )
        server.config()
        return server

    def typed_key(self) -> ApiKey | None:
        """The key typed in the field, if any (None: keep or forget the stored one)."""
        text = self.key.text().strip()
        return ApiKey(text) if text else None

    def _remove_key(self) -> None:
        self.forget_key = True
        self.key.clear()
        self._show_key_state()
        self.edited.emit()

    def _show_key_state(self) -> None:
        stored = self._has_stored_key and not self.forget_key
        self.key.setPlaceholderText(KEY_STORED if stored else KEY_NONE)
        self.remove_key.setEnabled(stored)
