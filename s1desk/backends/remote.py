"""The remote backend: s1 served by vLLM (or another OpenAI-compatible server) over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from types import TracebackType

import httpx

from s1desk.backends.base import GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.backends.remote_client import OpenAIClient
from s1desk.backends.remote_config import ApiKey, RemoteServerConfig
from s1desk.backends.remote_loop import RemoteGeneration
from s1desk.backends.remote_server import ServerProfile, Tokenizer, discover
from s1desk.errors import BackendClosedError, S1DeskError
from s1desk.events import ErrorEvent, StreamEvent
from s1desk.thinking.machine import FinishReason

log = logging.getLogger(__name__)

#: How often a waiting stream looks at its :class:`CancelToken`.
CANCEL_POLL_S = 0.02


class RemoteBackend:
    """One server connection; requests are served one after another.

    Build it with :meth:`connect`, which checks the server, picks the model
    and learns the server's kind and maximum context.
    """

    def __init__(
        self,
        client: OpenAIClient,
        profile: ServerProfile,
        stop_ids: list[int],
    ) -> None:
        self._client: OpenAIClient | None = client
        self.profile = profile
        self.config = client.config
        self._tokenizer = Tokenizer(client, profile)
        self._stop_ids = stop_ids
        self._previous_prompt: list[int] = []
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(
        cls,
        config: RemoteServerConfig,
        api_key: ApiKey | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> RemoteBackend:
        """Open a connection to ``config`` and check that it serves ``config.model``."""
        client = OpenAIClient(config, api_key, transport)
        try:
            profile = await discover(client, config.model)
            stop_ids = await Tokenizer(client, profile).stop_token_ids()
        except BaseException:
            await client.aclose()
            raise
        log.info("connected to %s (%s), model %s", config.root, profile.kind.value, profile.model)
        return cls(client, profile, stop_ids)

    @property
    def client(self) -> OpenAIClient:
        if self._client is None:
            raise BackendClosedError("The connection to the server was closed.")
        return self._client

    @property
    def name(self) -> str:
        host = httpx.URL(self.config.root).host or self.config.root
        return f"{self.profile.model} · remote {host} ({self.profile.kind.value})"

    @property
    def model(self) -> str:
        return self.profile.model

    @property
    def context_length(self) -> int | None:
        """The maximum context: what the server reports, else what the settings say."""
        return self.profile.max_model_len or self.config.context_length

    async def health(self) -> bool:
        """True when the server answers and still serves the model."""
        try:
            models = await self.client.models()
        except S1DeskError:
            return False
        return any(m.id == self.profile.model for m in models)

    async def stream(
        self, request: GenerationRequest, cancel: CancelToken | None = None
    ) -> AsyncIterator[StreamEvent]:
        async with self._lock:
            token = cancel or CancelToken()
            queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue()
            generation = RemoteGeneration(
                self.client,
                self.profile,
                self._tokenizer,
                request,
                queue.put_nowait,
                self.config.context_length,
                self._stop_ids,
                self._previous_prompt,
            )
            task = asyncio.create_task(_drive(generation, queue, token))
            watcher = asyncio.create_task(_watch(token, task))
            finished = False
            try:
                while (event := await queue.get()) is not None:
                    if token.cancelled and not task.done():
                        task.cancel()  # do not wait for the watcher's next look
                    yield event
                finished = True
            finally:
                watcher.cancel()
                if not finished:
                    token.cancel()
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(task)
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
                if generation.prompt_ids:
                    self._previous_prompt = generation.prompt_ids

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        async with self._lock:
            await client.aclose()

    async def __aenter__(self) -> RemoteBackend:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def _watch(cancel: CancelToken, task: asyncio.Task[None]) -> None:
    """Cancel ``task`` (and so its HTTP request) soon after ``cancel`` is set."""
    while not cancel.cancelled:
        await asyncio.sleep(CANCEL_POLL_S)
    task.cancel()


async def _drive(
    generation: RemoteGeneration,
    queue: asyncio.Queue[StreamEvent | None],
    cancel: CancelToken,
) -> None:
    """Run the generation; a cancel ends it with statistics and ``Done(cancelled)``."""
    try:
        await generation.run()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if not cancel.cancelled or task is None:
            raise
        task.uncancel()
        await generation.count_partial()
        generation.finish(FinishReason.CANCELLED)
    except S1DeskError as exc:
        log.info("remote generation failed: %s", exc)
        queue.put_nowait(ErrorEvent(message=str(exc), kind=type(exc).__name__))
    except Exception as exc:
        log.exception("remote generation failed")
        queue.put_nowait(ErrorEvent(message=f"Generation failed: {exc}", kind="internal"))
    finally:
        queue.put_nowait(None)
