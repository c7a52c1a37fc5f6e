"""The model manager's downloads: one worker thread each, their events brought to the GUI thread."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from s1desk.models.catalog import Quantization
from s1desk.models.download import DownloadHandle, DownloadRequest, start_download
from s1desk.models.download_events import (
    DownloadCancelled,
    DownloadEvent,
    DownloadFailed,
    DownloadFinished,
)
from s1desk.ui.kit.tasks import Tasks

log = logging.getLogger(__name__)

#: Seconds to wait at shutdown for stopped downloads to report; a stalled socket is abandoned.
SHUTDOWN_WAIT_S = 5.0


_FINAL = (DownloadFinished, DownloadCancelled, DownloadFailed)


def quant_key(q: Quantization) -> str:
    """The name a download goes by: repository and quantization."""
    return f"{q.repo_id}:{q.quant}"


@dataclass(frozen=True, slots=True)
class DownloadUpdate:
    """An event of the download named ``key`` (see :func:`quant_key`)."""

    key: str
    event: DownloadEvent


class Downloads(QObject):
    """Starts, pauses, resumes and cancels downloads; ``update`` carries every event.

    The transfer runs on the download's own thread; its events arrive here
    through :meth:`DownloadHandle.events` on the asyncio loop (the GUI thread),
    so nothing on the worker thread touches a widget.
    """

    update = Signal(object)  # DownloadUpdate

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._handles: dict[str, DownloadHandle] = {}
        self._tasks = Tasks()

    def start(self, q: Quantization) -> None:
        """Download ``q`` (every part); one already running is left alone."""
        key = quant_key(q)
        if key in self._handles:
            return
        handle = start_download(DownloadRequest(q.repo_id, q.filenames))
        self._handles[key] = handle
        self._tasks.spawn(self._follow(key, handle))
        log.info("downloading %s: %s", q.repo_id, ", ".join(q.filenames))

    def active(self, key: str) -> bool:
        return key in self._handles

    @property
    def running(self) -> int:
        return len(self._handles)

    def pause(self, key: str) -> None:
        if (h := self._handles.get(key)) is not None:
            h.pause()

    def resume(self, key: str) -> None:
        if (h := self._handles.get(key)) is not None:
            h.resume()

    def cancel(self, key: str) -> None:
        if (h := self._handles.get(key)) is not None:
            h.cancel()

    async def _follow(self, key: str, handle: DownloadHandle) -> None:
        try:
            async for event in handle.events():
                if isinstance(event, _FINAL):
                    self._forget(key, handle)
                self.update.emit(DownloadUpdate(key, event))
        finally:
            self._forget(key, handle)

    def _forget(self, key: str, handle: DownloadHandle) -> None:
        if self._handles.get(key) is handle:
            del self._handles[key]

    async def shutdown(self) -> None:
        """Stop every download (partial files stay and resume next time) and wait for them."""
        for handle in self._handles.values():
            handle.cancel()
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks.running, timeout=SHUTDOWN_WAIT_S)
        for task in pending:  # a socket that does not answer: its daemon thread is left
            log.warning("a download did not stop in time; abandoning it")
            task.cancel()
        if pending:
            await asyncio.wait(pending)
