"""One road for background work: coroutines run on the event loop, tracked until done."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class Tasks:
    """The background tasks of one owner (a loader, the downloads, the backend switcher).

    :meth:`spawn` starts a coroutine on the running loop (qasync's, so its
    results land on the GUI thread) and keeps it until it ends; :meth:`wait`
    lets the owner's shutdown await them all. Blocking work goes to a worker
    thread inside the coroutine (``asyncio.to_thread``), never on the loop.
    """

    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(coro)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    @property
    def running(self) -> set[asyncio.Task[Any]]:
        """The tasks not finished yet (a copy)."""
        return set(self._running)

    def __len__(self) -> int:
        return len(self._running)

    async def wait(self) -> None:
        """Return once every task (those they start included) has ended; failures are logged."""
        while self._running:
            results = await asyncio.gather(*self._running, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):
                    log.error("a background task failed: %r", result)
