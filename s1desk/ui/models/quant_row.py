"""One downloadable quantization in the model manager: size, fit verdict, download controls."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from s1desk.models.catalog import Quantization
from s1desk.models.describe import (
    FAILURE_TITLES,
    eta_text,
    size_text,
    speed_text,
    verdict_text,
)
from s1desk.models.download_events import (
    DownloadCancelled,
    DownloadEvent,
    DownloadFailed,
    DownloadFinished,
    DownloadPaused,
    DownloadProgress,
)
from s1desk.models.fit import Fit
from s1desk.models.speed import Speed, decode_speed_text
from s1desk.ui.kit.theme import Colors

#: Column widths shared by every row, so the catalog reads as a table.
NAME_WIDTH = 210
SIZE_WIDTH = 120
BUTTONS_WIDTH = 180


def _button(text: str, name: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setAutoDefault(False)
    return button


class QuantRow(QFrame):
    """Shows one :class:`Quantization` and the state of its download.

    The row only shows; the buttons' signals go to whoever runs downloads.
    """

    download_clicked = Signal()
    pause_clicked = Signal()
    resume_clicked = Signal()
    cancel_clicked = Signal()
    use_clicked = Signal()

    def __init__(self, quant: Quantization, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.quant = quant
        self.colors = colors
        self.state = "idle"  # idle, downloaded, running, paused, failed
        self.path: Path | None = None
        self.fit: Fit | None = None
        self.speed: Speed | None = None
        self.recommended = False
        self.setObjectName("quantRow")

        self.name_label = QLabel(f"<b>{quant.quant}</b>")
        self.name_label.setToolTip(
            f"{quant.repo_id}\n" + "\n".join(quant.filenames)
            + (f"\n(a split GGUF in {len(quant.files)} parts)" if len(quant.files) > 1 else "")
        )  # fmt: skip
        self.badge = QLabel("★ Recommended")
        self.badge.setObjectName("recommendedBadge")
        self.badge.hide()
        parts = f", {len(quant.files)} parts" if len(quant.files) > 1 else ""
        self.size_label = QLabel(size_text(quant.size, quant.estimated) + parts)
        self.size_label.setObjectName("sizeLabel")
        if quant.estimated:
            self.size_label.setToolTip(
                "Estimated from the parameter count and the quantization; "
                "“Refresh from hub” reads the real size."
            )
        self.verdict_label = QLabel("Checking this machine…")
        self.verdict_label.setObjectName("verdictLabel")
        self.verdict_label.setWordWrap(True)

        self.download_button = _button("Download", "downloadButton")
        self.use_button = _button("Use", "useButton")
        self.pause_button = _button("Pause", "pauseButton")
        self.resume_button = _button("Resume", "resumeButton")
        self.cancel_button = _button("Cancel", "cancelButton")
        self.retry_button = _button("Retry", "retryButton")
        self.download_button.clicked.connect(self.download_clicked)
        self.retry_button.clicked.connect(self.download_clicked)
        self.pause_button.clicked.connect(self.pause_clicked)
        self.resume_button.clicked.connect(self.resume_clicked)
        self.cancel_button.clicked.connect(self.cancel_clicked)
        self.use_button.clicked.connect(self.use_clicked)

        self.progress = QProgressBar()
        self.progress.setObjectName("downloadProgress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        self.status_label = QLabel("")
        self.status_label.setObjectName("downloadStatus")
        self.error_label = QLabel("")
        self.error_label.setObjectName("downloadError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        name = QHBoxLayout()
        name.setSpacing(8)
        name.addWidget(self.name_label)
        name.addWidget(self.badge)
        name.addStretch(1)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        buttons.addStretch(1)
        for b in (
            self.download_button,
            self.use_button,
            self.pause_button,
            self.resume_button,
            self.retry_button,
            self.cancel_button,
        ):
            buttons.addWidget(b)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        grid.setColumnMinimumWidth(0, NAME_WIDTH)
        grid.setColumnMinimumWidth(1, SIZE_WIDTH)
        grid.setColumnMinimumWidth(3, BUTTONS_WIDTH)
        grid.setColumnStretch(2, 1)
        grid.addLayout(name, 0, 0)
        grid.addWidget(self.size_label, 0, 1)
        grid.addWidget(self.verdict_label, 0, 2)
        grid.addLayout(buttons, 0, 3)
        grid.addWidget(self.progress, 1, 0, 1, 2)
        grid.addWidget(self.status_label, 1, 2, 1, 2)
        grid.addWidget(self.error_label, 2, 0, 1, 4)
        self.set_colors(colors)
        self._show_state()

    # -- what the catalog tells it -------------------------------------------------

    def set_colors(self, colors: Colors) -> None:
        self.colors = colors
        self.badge.setStyleSheet(f"color: {colors.accent}; font-weight: 600;")
        self.error_label.setStyleSheet(
            f"color: {colors.error_fg}; background: {colors.error_bg}; "
            "border-radius: 4px; padding: 4px;"
        )
        self.status_label.setStyleSheet(f"color: {colors.muted};")
        self._style_frame()
        if self.fit is not None:
            self.set_fit(self.fit, self.recommended, self.speed)

    def set_fit(
        self, fit: Fit | None, recommended: bool = False, speed: Speed | None = None
    ) -> None:
        """Show the verdict for this machine at the chosen context (None: not known yet),
        with the estimated decode speed when it is known."""
        self.fit = fit
        self.speed = speed
        self.recommended = recommended
        self.badge.setVisible(recommended)
        if fit is None:
            self.verdict_label.setText("Checking this machine…")
            self.verdict_label.setStyleSheet("")
        else:
            words = verdict_text(fit)
            color = {"good": "#2e8b57", "warn": self.colors.wait, "bad": self.colors.cut}
            tone = words.tone
            text = f"● {words.short}"
            tip = words.detail
            if speed is not None:
                text += f" · {decode_speed_text(speed)}"
                tip += (
                    " Decode speed estimated from the bytes read per token and this "
                    "machine's memory bandwidth."
                )
                if not speed.answers_in_minutes and tone == "good":
                    tone = "warn"
            self.verdict_label.setText(text)
            self.verdict_label.setToolTip(tip)
            self.verdict_label.setStyleSheet(f"color: {color[tone]};")
        self._style_frame()

    def set_downloaded(self, path: Path | None) -> None:
        """The files are in the cache at ``path`` (None: not downloaded)."""
        if self.state in ("running", "paused"):
            return
        self.path = path
        self.state = "downloaded" if path is not None else "idle"
        if path is not None:
            self.status_label.setText("Downloaded")
        self._show_state()

    # -- download events -------------------------------------------------------------

    def start(self) -> None:
        """The download was asked for: show it as starting."""
        self.state = "running"
        self.error_label.clear()
        self.progress.setValue(0)
        self.status_label.setText("Starting…")
        self._show_state()

    def apply(self, event: DownloadEvent) -> None:
        if isinstance(event, DownloadProgress):
            self.state = "running"
            self.progress.setValue(round(event.fraction * 1000))
            self.status_label.setText(self._progress_text(event))
        elif isinstance(event, DownloadPaused):
            self.state = "paused"
            pct = 100 * event.done / event.total if event.total else 0.0
            self.status_label.setText(
                f"Paused at {pct:.0f}% ({size_text(event.done)} of {size_text(event.total)})"
            )
        elif isinstance(event, DownloadFinished):
            self.state = "downloaded"
            self.path = event.path
            self.progress.setValue(1000)
            self.status_label.setText("Already in the cache" if event.reused else "Downloaded")
        elif isinstance(event, DownloadCancelled):
            self.state = "idle"
            self.status_label.setText(
                "Cancelled: what was downloaded is kept, and Download resumes from there."
                if event.done
                else "Cancelled."
            )
        elif isinstance(event, DownloadFailed):
            self.state = "failed"
            title = FAILURE_TITLES.get(event.kind, "Download failed")
            self.error_label.setText(f"<b>{title}.</b> {_escape(event.message)}")
            self.status_label.setText("")
        self._show_state()

    def _progress_text(self, event: DownloadProgress) -> str:
        pct = f"{100 * event.fraction:.0f}%"
        amount = f"{size_text(event.done)} of {size_text(event.total)}"
        part = (
            f"part {event.file_index + 1} of {event.file_count}, " if event.file_count > 1 else ""
        )
        if event.phase == "verifying":
            return f"Verifying the checksum… ({part}{amount})"
        resuming = "resuming, " if event.phase == "resuming" else ""
        if event.speed <= 0:
            return f"{pct} · {resuming}{part}{amount}"
        return f"{pct} · {part}{amount} · {speed_text(event.speed)} · {eta_text(event.eta_s)}"

    # -- looks -----------------------------------------------------------------------

    def _show_state(self) -> None:
        s = self.state
        self.download_button.setVisible(s == "idle")
        self.use_button.setVisible(s == "downloaded")
        self.pause_button.setVisible(s == "running")
        self.resume_button.setVisible(s == "paused")
        self.cancel_button.setVisible(s in ("running", "paused"))
        self.retry_button.setVisible(s == "failed")
        self.progress.setVisible(s in ("running", "paused"))
        self.status_label.setVisible(bool(self.status_label.text()) and s != "failed")
        self.error_label.setVisible(s == "failed")

    def _style_frame(self) -> None:
        if self.recommended:
            self.setStyleSheet(
                f"QFrame#quantRow {{ border: 1px solid {self.colors.accent}; border-radius: 6px; "
                f"background: {_tint(self.colors)}; }}"
            )
        else:
            self.setStyleSheet("QFrame#quantRow { border: 1px solid transparent; }")


def _tint(colors: Colors) -> str:
    return "rgba(122, 167, 255, 0.14)" if colors.dark else "rgba(47, 111, 222, 0.08)"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
