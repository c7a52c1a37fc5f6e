"""The Models window: the s1 catalog with fit verdicts and downloads, and the models on disk."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import QDialog, QLabel, QTabWidget, QVBoxLayout, QWidget

from s1desk.models.bandwidth import CACHE_FILE, Bandwidth, detect_bandwidth
from s1desk.models.catalog import Catalog, load_catalog
from s1desk.models.download_events import DownloadFinished
from s1desk.models.hardware import Hardware, detect_hardware
from s1desk.paths import cache_dir
from s1desk.ui.kit import theme
from s1desk.ui.models.catalog_view import CatalogView
from s1desk.ui.models.downloads import Downloads
from s1desk.ui.models.local_view import LocalModelsView

log = logging.getLogger(__name__)


def gguf_paths(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    """The local ``.gguf`` files being dragged."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [
        Path(url.toLocalFile())
        for url in mime.urls()
        if url.isLocalFile() and url.toLocalFile().lower().endswith(".gguf")
    ]


class ModelManagerDialog(QDialog):
    """Non-modal: downloads go on while it is hidden and while the user chats.

    ``catalog`` and ``hardware`` default to the packaged catalog and this
    machine (detected off the GUI thread, with its memory bandwidth measured once
    for the speed estimates); a given ``hardware`` comes with ``bandwidth`` or none.
    ``use_requested`` carries the path of the model to load; whoever owns the window
    loads it.
    """

    use_requested = Signal(object)  # Path

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        catalog: Catalog | None = None,
        hardware: Hardware | None = None,
        bandwidth: Bandwidth | None = None,
        colors: theme.Colors | None = None,
        context_size: int = 32_768,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("modelManager")
        self.setWindowTitle("Models")
        self.setModal(False)
        self.setAcceptDrops(True)
        self.resize(980, 680)
        colors = colors or theme.resolve("system")
        self.downloads = Downloads(self)
        self.catalog_view = CatalogView(
            catalog or load_catalog(), self.downloads, colors, context_size
        )
        self.local_view = LocalModelsView(colors)
        self.intro = QLabel(
            "<b>No model on this machine yet.</b> Download an s1 build below — the "
            "highlighted one suits this machine — or add a GGUF you already have "
            "(“On this machine”, or drop the file on this window)."
        )
        self.intro.setObjectName("newUserIntro")
        self.intro.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("modelTabs")
        self.tabs.addTab(self.catalog_view, "Download")
        self.tabs.addTab(self.local_view, "On this machine")
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.tabs, 1)

        self.catalog_view.use_requested.connect(self._use)
        self.local_view.use_requested.connect(self._use)
        self.catalog_view.downloaded.connect(self._downloaded)
        self.local_view.changed.connect(self._local_changed)
        self._local_changed()
        self._hardware_task: asyncio.Task[None] | None = None
        if hardware is not None:
            self.catalog_view.set_hardware(hardware, bandwidth)
        else:
            self._hardware_task = asyncio.ensure_future(self._detect_hardware())

    async def _detect_hardware(self) -> None:
        try:
            hw = await asyncio.to_thread(detect_hardware)
            bandwidth = await asyncio.to_thread(detect_bandwidth, cache_dir() / CACHE_FILE)
        except Exception as exc:  # NVML or llama.cpp misbehaving must not break the window
            log.exception("hardware detection failed")
            self.catalog_view.hardware_label.setText(
                f"This machine's GPU and memory could not be read ({exc}); "
                "the fit verdicts are unavailable."
            )
        else:
            self.catalog_view.set_hardware(hw, bandwidth)
            self.catalog_view.scroll_to_recommended()
        finally:
            self._hardware_task = None

    # -- between the panes --------------------------------------------------------

    def _use(self, path: Path) -> None:
        log.info("using %s", path)
        self.use_requested.emit(path)
        self.hide()

    def _downloaded(self, event: DownloadFinished) -> None:
        self.local_view.refresh(select=event.path)
        self._local_changed(refresh_catalog=False)

    def _local_changed(self, refresh_catalog: bool = True) -> None:
        n = len(self.local_view.models)
        self.tabs.setTabText(1, f"On this machine ({n})" if n else "On this machine")
        self.intro.setVisible(n == 0)
        if refresh_catalog:
            self.catalog_view.refresh_downloaded()

    def set_loaded(self, path: Path | None) -> None:
        """The chat window runs ``path``: listed, marked, and no "no model yet" intro."""
        self.local_view.set_loaded(path)
        self._local_changed()

    def show_local(self) -> None:
        self.tabs.setCurrentWidget(self.local_view)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        QTimer.singleShot(0, self.catalog_view.scroll_to_recommended)

    # -- drag and drop ---------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if gguf_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        paths = gguf_paths(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.show_local()
        self.local_view.add_files(paths)

    # -- lifetime ------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Stop the downloads (their partial files resume next time) and the background work."""
        await self.downloads.shutdown()
        await self.catalog_view.shutdown()
        task = self._hardware_task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
