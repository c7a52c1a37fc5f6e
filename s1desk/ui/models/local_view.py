"""The local pane: GGUFs on this machine (HF cache and added files); use, add, delete."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from s1desk.errors import S1DeskError
from s1desk.models.describe import size_text
from s1desk.models.local import LocalModel, add_model, list_local_models, remove_model
from s1desk.ui.kit.theme import Colors

log = logging.getLogger(__name__)

COLUMNS = ("Model", "Quantization", "Size", "From", "File")


class LocalModelsView(QWidget):
    """The models present, read from their GGUF headers, with Use, Add from disk and Delete."""

    use_requested = Signal(object)  # Path
    changed = Signal()  # a model was added or removed

    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colors = colors
        self.models: list[LocalModel] = []
        self.loaded: Path | None = None  # the model the chat window runs
        self.file_dialog: QFileDialog | None = None
        self.confirm_box: QMessageBox | None = None

        self.tree = QTreeWidget()
        self.tree.setObjectName("localModels")
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.empty_label = QLabel(
            "No models on this machine yet. Download one from the catalog, "
            "add a GGUF from disk, or drop .gguf files on this window."
        )
        self.empty_label.setObjectName("noLocalModels")
        self.empty_label.setWordWrap(True)
        self.message = QLabel("")
        self.message.setObjectName("localMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()

        self.use_button = QPushButton("Use")
        self.use_button.setObjectName("useLocal")
        self.use_button.setToolTip("Load the selected model in the chat window")
        self.add_button = QPushButton("Add from disk…")
        self.add_button.setObjectName("addLocal")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setObjectName("deleteLocal")
        for b in (self.use_button, self.add_button, self.delete_button):
            b.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

        self.use_button.clicked.connect(self.use_selected)
        self.add_button.clicked.connect(self.choose_files)
        self.delete_button.clicked.connect(self.delete_selected)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self.use_selected())
        self.refresh()

    # -- the list ---------------------------------------------------------------------

    def refresh(self, select: Path | None = None) -> None:
        """Read the cache and the added files again; select ``select`` if listed."""
        self.models = list_local_models()
        self.tree.clear()
        for m in self.models:
            where = "Hugging Face cache" if m.source == "cache" else "added file"
            parts = f" ({m.parts} parts)" if m.parts > 1 else ""
            item = QTreeWidgetItem(
                [
                    m.repo_id or m.path.stem,
                    m.quantization,
                    size_text(m.size) + parts,
                    where,
                    m.problem or (m.path.name if m.source == "cache" else str(m.path)),
                ]
            )
            item.setToolTip(0, str(m.path))
            if self.loaded is not None and _same(m.path, self.loaded):
                item.setText(0, f"{item.text(0)}  ● in use")
                item.setToolTip(0, f"{m.path}\nLoaded in the chat window")
            item.setToolTip(4, m.problem or str(m.path))
            if m.problem:
                item.setForeground(4, QColor(self.colors.cut))
                item.setText(4, f"⚠ {m.problem}")
            self.tree.addTopLevelItem(item)
            if select is not None and m.path == select:
                item.setSelected(True)
                self.tree.setCurrentItem(item)
        first = self.tree.topLevelItem(0)
        if first is not None and not self.tree.selectedItems():
            self.tree.setCurrentItem(first)
        self.empty_label.setVisible(not self.models)
        self.tree.setVisible(bool(self.models))
        self._update_buttons()

    def set_loaded(self, path: Path | None) -> None:
        """Mark ``path`` as the model the chat window runs."""
        self.loaded = path
        self.refresh(select=path)

    def selected(self) -> LocalModel | None:
        item = self.tree.currentItem()
        if item is None or not item.isSelected():
            return None
        index = self.tree.indexOfTopLevelItem(item)
        return self.models[index] if 0 <= index < len(self.models) else None

    def select(self, path: Path) -> None:
        for i, m in enumerate(self.models):
            item = self.tree.topLevelItem(i)
            if m.path == path and item is not None:
                self.tree.setCurrentItem(item)

    def _update_buttons(self) -> None:
        m = self.selected()
        self.use_button.setEnabled(m is not None and m.problem is None)
        self.delete_button.setEnabled(m is not None)
        self.delete_button.setText(
            "Forget…" if m is not None and m.source == "added" else "Delete…"
        )

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(
            f"color: {self.colors.error_fg}; background: {self.colors.error_bg}; "
            "border-radius: 4px; padding: 4px;"
            if error
            else f"color: {self.colors.muted};"
        )
        self.message.show()

    # -- actions -------------------------------------------------------------------------

    def use_selected(self) -> None:
        m = self.selected()
        if m is not None and m.problem is None:
            self.use_requested.emit(m.path)

    def choose_files(self) -> None:
        """A file dialog for GGUF files; what is chosen is added (not copied)."""
        dialog = QFileDialog(self, "Add GGUF models", "", "GGUF models (*.gguf);;All files (*)")
        dialog.setObjectName("addModelDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(lambda files: self.add_files(Path(f) for f in files))
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(lambda _r: setattr(self, "file_dialog", None))
        self.file_dialog = dialog
        dialog.open()

    def add_files(self, paths: Iterable[Path]) -> list[LocalModel]:
        """Add each GGUF; a file that is not one is refused with its reason."""
        added: list[LocalModel] = []
        problems: list[str] = []
        for path in paths:
            try:
                added.append(add_model(path))
            except (S1DeskError, OSError) as exc:
                log.info("not adding %s: %s", path, exc)
                problems.append(str(exc))
        self.refresh(select=added[-1].path if added else None)
        if problems:
            self.show_message("\n".join(problems), error=True)
        elif added:
            names = ", ".join(f"{m.path.name} ({m.quantization})" for m in added)
            self.show_message(f"Added {names}.")
        if added:
            self.changed.emit()
        return added

    def delete_selected(self) -> None:
        """Ask first; a downloaded model is deleted, an added file only forgotten."""
        m = self.selected()
        if m is None:
            return
        box = QMessageBox(self)
        box.setObjectName("confirmDelete")
        box.setIcon(QMessageBox.Icon.Warning)
        if m.source == "cache":
            box.setWindowTitle("Delete model")
            box.setText(f"Delete {m.name} ({size_text(m.size)})?")
            box.setInformativeText(
                "Its files are removed from the Hugging Face cache and the disk space is freed. "
                "It can be downloaded again."
            )
            ok = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        else:
            box.setWindowTitle("Forget model")
            box.setText(f"Remove {m.path.name} from the list?")
            box.setInformativeText(f"The file stays on disk at {m.path}.")
            ok = box.addButton("Remove from list", QMessageBox.ButtonRole.DestructiveRole)
        ok.setObjectName("confirmButton")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.finished.connect(lambda _r: self._confirmed(box.clickedButton() is ok, m))
        box.finished.connect(box.deleteLater)
        self.confirm_box = box
        box.open()

    def _confirmed(self, yes: bool, model: LocalModel) -> None:
        self.confirm_box = None
        if not yes:
            return
        try:
            deleted = remove_model(model)
        except OSError as exc:
            self.show_message(f"Could not delete {model.name}: {exc}", error=True)
        else:
            freed = len(deleted)
            self.show_message(
                f"Deleted {model.name} ({freed} files)." if freed else f"Removed {model.name}."
            )
        self.refresh()
        self.changed.emit()


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b
