"""A dismissable message strip: problems the user should read and can recover from, and
one-time notices about how the app runs here."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from s1desk.ui.kit.theme import Colors


class Banner(QFrame):
    """Hidden until ``show_message``; the close button hides it again."""

    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.label = QLabel()
        self.label.setObjectName("bannerText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(self.label.textFormat().PlainText)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        self.tone = "error"
        self._colors = colors
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.set_colors(colors)
        self.hide()

    @property
    def text(self) -> str:
        return self.label.text()

    def set_colors(self, colors: Colors) -> None:
        self._colors = colors
        if self.tone == "info":
            background = "#1d2a3f" if colors.dark else "#e8f0fd"
            foreground = "#d6e4ff" if colors.dark else "#1d3b6e"
        else:
            background, foreground = colors.error_bg, colors.error_fg
        self.setStyleSheet(
            f"#banner {{ background: {background}; border-radius: 6px; }}"
            f"#bannerText {{ color: {foreground}; }}"
        )

    def show_message(self, message: str, tone: str = "error") -> None:
        """Show ``message``; ``tone`` "info" for a notice rather than a problem."""
        self.tone = tone
        self.set_colors(self._colors)
        self.label.setText(message)
        self.show()
