"""Where the app's files (icon) are found."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

ASSETS = Path(__file__).resolve().parent.parent.parent / "assets"


def app_icon() -> QIcon:
    """The s1desk icon (SVG, with a PNG fallback); empty if the assets are missing."""
    icon = QIcon()
    for name in ("s1desk.svg", "s1desk-256.png"):
        path = ASSETS / name
        if path.exists():
            icon.addFile(str(path))
    return icon
