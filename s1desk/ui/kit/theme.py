"""Light and dark palettes that follow the system's colour scheme (or the user's pick)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")


@dataclass(frozen=True, slots=True)
class Colors:
    """The few colours the app's own widgets use beside the palette."""

    dark: bool
    accent: str
    wait: str
    wait_bg: str
    cut: str
    muted: str
    error_bg: str
    error_fg: str


LIGHT = Colors(False, "#2f6fde", "#a14f00", "#fff0dc", "#c0392b", "#6b7280", "#fde8e8", "#8a1c1c")
DARK = Colors(True, "#7aa7ff", "#ffb454", "#3a2a12", "#ff7b72", "#9aa4b2", "#4a1f24", "#ffd7d5")


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() is Qt.ColorScheme.Dark


def resolve(theme: str) -> Colors:
    """The colours for ``theme`` ("system", "light" or "dark")."""
    dark = system_is_dark() if theme == "system" else theme == "dark"
    return DARK if dark else LIGHT


def _dark_palette() -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    for r, c in (
        (role.Window, "#1f2227"),
        (role.WindowText, "#e6e6e6"),
        (role.Base, "#16181c"),
        (role.AlternateBase, "#23262b"),
        (role.Text, "#e6e6e6"),
        (role.Button, "#2a2d33"),
        (role.ButtonText, "#e6e6e6"),
        (role.Highlight, "#3d6fd1"),
        (role.HighlightedText, "#ffffff"),
        (role.ToolTipBase, "#2a2d33"),
        (role.ToolTipText, "#e6e6e6"),
        (role.PlaceholderText, "#8b919a"),
        (role.Link, "#7aa7ff"),
    ):
        p.setColor(r, QColor(c))
    p.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor("#6b7078"))
    p.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor("#6b7078"))
    return p


def apply(app: QApplication, theme: str) -> Colors:
    """Style ``app`` for ``theme`` and return its colours."""
    colors = resolve(theme)
    app.setStyle("Fusion")
    app.setPalette(_dark_palette() if colors.dark else app.style().standardPalette())
    return colors
