"""Run a blocking, event-emitting job on a worker thread and stream its events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor

from s1desk.backends.cancel import CancelToken
from s1desk.errors import S1DeskError
from s1desk.events import ErrorEvent, StreamEvent

log = logging.getLogger(__name__)

Job = Callable[[Callable[[StreamEvent], None], threading.Event], None]


async def stream_from_thread(
    executor: Executor, job: Job, cancel: CancelToken | None = None
) -> AsyncIterator[StreamEvent]:
    """Yield what ``job(emit, cancelled)`` emits on ``executor``.

    Errors become a final :class:`ErrorEvent`. Leaving the iteration early
    sets ``cancelled`` and waits for the job to return, so the worker is free
    for the next job when this generator is closed.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue()
    cancelled = (cancel or CancelToken()).event

    def emit(event: StreamEvent) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, event)

    def run() -> None:
        try:
            job(emit, cancelled)
        except S1DeskError as exc:
            emit(ErrorEvent(message=str(exc), kind=type(exc).__name__))
        except Exception as exc:
            log.exception("generation failed")
            emit(ErrorEvent(message=f"Generation failed: {exc}", kind="internal"))
        finally:
            with contextlib.suppress(RuntimeError):  # the loop closed while we ran
                loop.call_soon_threadsafe(queue.put_nowait, None)

    future = loop.run_in_executor(executor, run)
    finished = False
    try:
        while (event := await queue.get()) is not None:
            yield event
        finished = True
    finally:
        if not finished:
            cancelled.set()
        await asyncio.shield(future)
