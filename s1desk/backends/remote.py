"""The remote backend: s1 served by vLLM (or another OpenAI-compatible server) over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from types import TracebackType

import httpx

from s1desk.backends.base import GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.backends.driver import error_event
from s1desk.backends.remote_client import OpenAIClient
from s1desk.backends.remote_config import ApiKey, RemoteServerConfig
from s1desk.backends.remote_format import ServerFormat
from s1desk.backends.remote_loop import RemoteGeneration
from s1desk.backends.remote_server import ServerProfile, Tokenizer, discover
from s1desk.errors import BackendClosedError, S1DeskError
from s1desk.events import StreamEvent
from s1desk.thinking.detect import Detection, detect_format
from s1desk.thinking.formats import FormatName, ThinkingFormat, format_name, thinking_format
from s1desk.thinking.machine import FinishReason

log = logging.getLogger(__name__)


class RemoteBackend:
    """One server connection; requests are served one after another.

    Build it with :meth:`connect`, which checks the server, picks the model
    and learns the server's kind and maximum context.
    """

    def __init__(
        self,
        client: OpenAIClient,
        profile: ServerProfile,
        server_format: ServerFormat,
        detection: Detection | None = None,
    ) -> None:
        self._client: OpenAIClient | None = client
        self.profile = profile
        self.config = client.config
        self._tokenizer = Tokenizer(client, profile)
        self.server_format = server_format
        #: How the thinking format was chosen.
        self.detection = detection or Detection(server_format.format.name, "chosen")
        self._previous_prompt: list[int] = []
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(
        cls,
        config: RemoteServerConfig,
        api_key: ApiKey | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        thinking_format: str = FormatName.AUTO,
    ) -> RemoteBackend:
        """Open a connection to ``config`` and check that it serves ``config.model``.

        ``thinking_format`` names the model's format; ``auto`` tells it from
        the served model's name (servers do not publish chat templates).
        """
        wanted = format_name(thinking_format)
        client = OpenAIClient(config, api_key, transport)
        try:
            profile = await discover(client, config.model)
            if wanted is FormatName.AUTO:
                detection = detect_format(None, profile.model)
            else:
                detection = Detection(wanted, "chosen")
            fmt = thinking_format_of(detection)
            tokenizer = Tokenizer(client, profile)
            stop_ids = await tokenizer.stop_token_ids(fmt.control_tokens)
            markers = [m for m in fmt.end_markers if m not in fmt.control_tokens]
            marker_ids = await tokenizer.stop_token_ids(markers, quiet=True)
        except BaseException:
            await client.aclose()
            raise
        log.info(
            "connected to %s (%s), model %s, thinking format %s (%s)",
            config.root,
            profile.kind.value,
            profile.model,
            fmt.name.value,
            detection.reason,
        )
        return cls(client, profile, ServerFormat(fmt, stop_ids, marker_ids), detection)

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
                self.server_format,
                self._previous_prompt,
            )
            task = asyncio.create_task(_drive(generation, queue, token))
            withdraw = _cancel_on(token, task)
            finished = False
            try:
                while (event := await queue.get()) is not None:
                    if token.cancelled and not task.done():
                        task.cancel()  # set on this thread: stop before the next event
                    yield event
                finished = True
            finally:
                withdraw()
                if not finished:
                    token.cancel()
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(task)
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


def thinking_format_of(detection: Detection) -> ThinkingFormat:
    """The format a detection names."""
    return thinking_format(detection.format)


def _cancel_on(cancel: CancelToken, task: asyncio.Task[None]) -> Callable[[], None]:
    """Cancel ``task`` (and so its HTTP request) as soon as ``cancel`` is set, from
    whichever thread sets it; returns the function that withdraws this."""
    loop = asyncio.get_running_loop()

    def stop() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed first
            loop.call_soon_threadsafe(task.cancel)

    return cancel.on_cancel(stop)


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
    except Exception as exc:
        queue.put_nowait(error_event(exc, log))
    finally:
        queue.put_nowait(None)
