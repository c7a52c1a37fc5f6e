"""Process-wide Qt set-up that must happen before the QApplication exists."""

from __future__ import annotations

import os

from PySide6.QtWebEngineCore import QWebEngineUrlScheme

#: Links inside the transcript use this scheme; the page turns clicks into actions.
ACTION_SCHEME = b"s1desk"

_registered = False


def prepare_qt_environment() -> None:
    """Chromium flags and the action URL scheme; call once before ``QApplication``.

    Chromium refuses to start its sandbox as root, and an offscreen or
    virtual display has no GPU to use: both are switched off only where needed.
    """
    global _registered
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--no-sandbox" not in flags:
        flags.append("--no-sandbox")
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen" and "--disable-gpu" not in flags:
        flags.append("--disable-gpu")
    if flags:
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join(flags)
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1" if "--no-sandbox" in flags else "0")
    if not _registered:
        scheme = QWebEngineUrlScheme(ACTION_SCHEME)
        scheme.setSyntax(QWebEngineUrlScheme.Syntax.Path)
        scheme.setFlags(QWebEngineUrlScheme.Flag.LocalScheme)
        QWebEngineUrlScheme.registerScheme(scheme)
        _registered = True
