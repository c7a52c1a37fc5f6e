"""The local backend: an s1 GGUF in llama.cpp, driven token by token."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

from s1desk.backends.base import GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.backends.llama_session import LlamaSession
from s1desk.backends.local_config import LocalModelConfig
from s1desk.backends.local_loop import LocalGeneration
from s1desk.backends.thread_stream import stream_from_thread
from s1desk.errors import BackendClosedError
from s1desk.events import StreamEvent


class LocalBackend:
    """One model on one worker thread; requests are served one after another."""

    def __init__(self, session: LlamaSession, executor: ThreadPoolExecutor) -> None:
        self._session: LlamaSession | None = session
        self._executor = executor
        self._lock = asyncio.Lock()

    @classmethod
    async def load(cls, config: LocalModelConfig) -> LocalBackend:
        """Load ``config.path`` on a fresh worker thread without blocking the loop."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s1desk-llama")
        loop = asyncio.get_running_loop()
        try:
            session = await loop.run_in_executor(executor, LlamaSession, config)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(session, executor)

    @property
    def session(self) -> LlamaSession:
        if self._session is None:
            raise BackendClosedError("The local model was closed.")
        return self._session

    @property
    def name(self) -> str:
        s = self.session
        where = f"GPU ({s.gpu_layers} layers)" if s.gpu_layers else "CPU"
        return f"{s.config.path.name} · local {where}"

    @property
    def model(self) -> str:
        return self.session.config.path.name

    @property
    def context_length(self) -> int:
        return self.session.n_ctx

    async def stream(
        self, request: GenerationRequest, cancel: CancelToken | None = None
    ) -> AsyncIterator[StreamEvent]:
        async with self._lock:
            session = self.session
            job: Callable[[Callable[[StreamEvent], None], threading.Event], None] = (
                functools.partial(_run, session, request)
            )
            async for event in stream_from_thread(self._executor, job, cancel):
                yield event

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        async with self._lock:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, session.close)
        self._executor.shutdown(wait=True)

    async def __aenter__(self) -> LocalBackend:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _run(
    session: LlamaSession,
    request: GenerationRequest,
    emit: Callable[[StreamEvent], None],
    cancelled: threading.Event,
) -> None:
    LocalGeneration(session, request, emit, cancelled).run()
