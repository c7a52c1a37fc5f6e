"""The desktop app: every PySide6, qasync and superqt import lives in this package."""
