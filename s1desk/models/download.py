"""Model downloads into the Hugging Face cache, each on its own thread: pause, resume, cancel, wait.

The transfer itself is :class:`~s1desk.models.download_job.DownloadJob`; a
handle runs it again from the partial file after a pause.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from s1desk.models.download_errors import DownloadError
from s1desk.models.download_events import (
    DownloadCancelled,
    DownloadEvent,
    DownloadFailed,
    DownloadFinished,
    DownloadPaused,
    DownloadProgress,
)
from s1desk.models.download_job import DownloadJob, DownloadRequest
from s1desk.models.download_sink import DownloadControl

__all__ = ["DownloadHandle", "DownloadRequest", "download", "start_download"]

log = logging.getLogger(__name__)


class DownloadHandle:
    """A download running on its own thread: pause, resume, cancel, wait, or iterate events.

    ``on_event`` (if given) is called on the worker thread; a UI hands the
    event over to its own thread (``loop.call_soon_threadsafe`` or a queued
    signal). :meth:`events` does that for asyncio.
    """

    def __init__(
        self,
        request: DownloadRequest,
        on_event: Callable[[DownloadEvent], None] | None = None,
    ) -> None:
        self.request = request
        self._on_event = on_event
        self._control = DownloadControl()
        self._listeners: list[Callable[[DownloadEvent], None]] = []
        self._lock = threading.Lock()
        self._history: list[DownloadEvent] = []
        self._final: DownloadEvent | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"s1desk-download-{request.repo_id}", daemon=True
        )

    def start(self) -> DownloadHandle:
        self._thread.start()
        return self

    # -- control --------------------------------------------------------

    def pause(self) -> None:
        """Stop transferring; the partial file stays. :meth:`resume` goes on from it."""
        self._control.resumed.clear()
        self._control.paused.set()

    def resume(self) -> None:
        self._control.paused.clear()
        self._control.resumed.set()

    def cancel(self) -> None:
        """Stop for good (the partial file stays, so starting the same download resumes)."""
        self._control.cancelled.set()
        self._control.resumed.set()

    @property
    def paused(self) -> bool:
        return self._control.paused.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> DownloadEvent | None:
        """Block until the download ends; the final event (None on timeout)."""
        self._done.wait(timeout)
        self._thread.join(0 if timeout is not None and not self._done.is_set() else None)
        return self._final

    async def events(self) -> AsyncIterator[DownloadEvent]:
        """Every event from now on (earlier ones first), ending with the final one."""
        import asyncio

        loop = asyncio.get_running_loop()
        q: asyncio.Queue[DownloadEvent] = asyncio.Queue()

        def forward(event: DownloadEvent) -> None:
            loop.call_soon_threadsafe(q.put_nowait, event)

        with self._lock:
            backlog = list(self._history)
            self._listeners.append(forward)
        try:
            for event in backlog:
                q.put_nowait(event)
            while True:
                event = await q.get()
                yield event
                if isinstance(event, _FINAL):
                    return
        finally:
            with self._lock:
                self._listeners.remove(forward)

    # -- worker ---------------------------------------------------------

    def _emit(self, event: DownloadEvent) -> None:
        with self._lock:
            if isinstance(event, DownloadProgress) and self._history:
                if isinstance(self._history[-1], DownloadProgress):
                    self._history[-1] = event
                else:
                    self._history.append(event)
            else:
                self._history.append(event)
            listeners = list(self._listeners)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                log.exception("download event callback failed")
        for listener in listeners:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                listener(event)

    def _run(self) -> None:
        try:
            while True:
                outcome: list[DownloadEvent] = []
                DownloadJob(self.request, self._control, self._collector(outcome)).run()
                final = outcome[-1]
                if (
                    isinstance(final, DownloadCancelled)
                    and self._control.paused.is_set()
                    and not self._control.cancelled.is_set()
                ):
                    self._emit(DownloadPaused(self.request.repo_id, final.done, final.total))
                    self._control.resumed.wait()
                    if self._control.cancelled.is_set():
                        self._finish(final)
                        return
                    continue
                self._finish(final)
                return
        except BaseException as exc:  # never leave a waiter hanging
            self._finish(DownloadFailed(self.request.repo_id, f"internal error: {exc}", "other"))
            raise

    def _collector(self, outcome: list[DownloadEvent]) -> Callable[[DownloadEvent], None]:
        """Pass progress on; keep the job's final event for :meth:`_run` to decide on."""

        def collect(event: DownloadEvent) -> None:
            if isinstance(event, _FINAL):
                outcome.append(event)
            else:
                self._emit(event)

        return collect

    def _finish(self, event: DownloadEvent) -> None:
        self._final = event
        self._emit(event)
        self._done.set()


_FINAL = (DownloadFinished, DownloadCancelled, DownloadFailed)


def start_download(
    request: DownloadRequest, on_event: Callable[[DownloadEvent], None] | None = None
) -> DownloadHandle:
    """Start fetching ``request`` on a worker thread and return its handle at once."""
    return DownloadHandle(request, on_event).start()


def download(
    request: DownloadRequest, on_event: Callable[[DownloadEvent], None] | None = None
) -> Path:
    """Fetch ``request`` and return the path to load, or raise :class:`DownloadError`."""
    final = start_download(request, on_event).wait()
    if isinstance(final, DownloadFinished):
        return final.path
    if isinstance(final, DownloadFailed):
        raise DownloadError(final.message, final.kind)
    raise DownloadError("The download was cancelled.", "cancelled")
