"""File ▸ Export… and File ▸ Import…: a conversation to Markdown or JSON and back."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QFileDialog, QWidget

from s1desk.store import Conversation, HistoryStore, ImportFormatError, StoreError
from s1desk.ui.history.export_dialog import ExportDialog, ExportFormat, default_folder

log = logging.getLogger(__name__)

#: The largest file Import reads (a conversation with long reasoning is a few MB).
IMPORT_LIMIT_BYTES = 256 * 1024 * 1024


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


class ExportActions(QObject):
    """Exports a saved conversation and imports JSON exports; tells the window what happened.

    ``done`` carries a short status line, ``problem`` a message to show in the
    window (a file that cannot be written, a malformed import); ``imported``
    the new conversation's id.
    """

    done = Signal(str)
    problem = Signal(str)
    imported = Signal(int)

    def __init__(self, store: HistoryStore, parent: QWidget) -> None:
        super().__init__(parent)
        self._store = store
        self._parent = parent

    # -- what the menu runs ---------------------------------------------------------

    def ask_export(self, conversation_id: int | None) -> ExportDialog | None:
        """Open the Export dialog for a conversation (``None``: nothing saved yet)."""
        if conversation_id is None:
            self.problem.emit("Nothing to export yet: ask something first.")
            return None
        try:
            title = self._store.conversation(conversation_id).display_title
        except StoreError as exc:
            self.problem.emit(str(exc))
            return None
        dialog = ExportDialog(title, self._parent)
        dialog.finished.connect(lambda result: self._export_chosen(dialog, conversation_id, result))
        dialog.open()
        return dialog

    def ask_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self._parent,
            "Import a conversation",
            str(default_folder()),
            "s1desk conversation (*.json);;All files (*)",
        )
        if path:
            self.import_file(Path(path))

    # -- the work ---------------------------------------------------------------------

    def export(
        self, conversation_id: int, path: Path, fmt: ExportFormat, *, reasoning: bool
    ) -> bool:
        """Write the conversation to ``path``; False (and ``problem``) if it fails."""
        try:
            if fmt is ExportFormat.JSON:
                text = self._store.export_json(conversation_id, reasoning=reasoning)
            else:
                text = self._store.export_markdown(conversation_id, reasoning=reasoning)
            write_text(path, text)
        except StoreError as exc:
            self.problem.emit(str(exc))
            return False
        except OSError as exc:
            self.problem.emit(f"Could not write {path}: {exc.strerror or exc}.")
            return False
        log.info("conversation %d exported to %s", conversation_id, path)
        self.done.emit(f"Exported to {path}")
        return True

    def import_file(self, path: Path) -> Conversation | None:
        """Add the conversation in a JSON export; None (and ``problem``) if it cannot."""
        try:
            if path.stat().st_size > IMPORT_LIMIT_BYTES:
                raise ImportFormatError(
                    f"The file is {path.stat().st_size // 2**20} MB, too large for a "
                    "conversation export."
                )
            conversation = self._store.import_json(path.read_bytes())
        except ImportFormatError as exc:
            self.problem.emit(f"Could not import {path.name}: {exc}")
            return None
        except StoreError as exc:
            self.problem.emit(str(exc))
            return None
        except OSError as exc:
            self.problem.emit(f"Could not read {path}: {exc.strerror or exc}.")
            return None
        log.info("imported %s as conversation %d", path, conversation.id)
        self.done.emit(f"Imported “{conversation.display_title}”")
        self.imported.emit(conversation.id)
        return conversation

    def _export_chosen(self, dialog: ExportDialog, conversation_id: int, result: int) -> None:
        dialog.deleteLater()
        if result == QDialog.DialogCode.Accepted:
            self.export(
                conversation_id,
                dialog.target,
                dialog.export_format,
                reasoning=dialog.include_reasoning,
            )
