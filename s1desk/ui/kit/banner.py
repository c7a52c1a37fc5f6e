"""A dismissable message strip for problems the user should read and can recover from."""

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
        self.setStyleSheet(
            f"#banner {{ background: {colors.error_bg}; border-radius: 6px; }}"
            f"#bannerText {{ color: {colors.error_fg}; }}"
        )

    def show_message(self, message: str) -> None:
        self.label.setText(message)
        self.show()
