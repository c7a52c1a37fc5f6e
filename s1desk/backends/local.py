"""The local backend: a GGUF in llama.cpp, in an engine process of its own."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import AsyncGenerator, Sequence
from types import TracebackType

from s1desk.backends.base import GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.backends.engine.messages import Loaded
from s1desk.backends.engine.process import EngineCrashedError, EngineProcess
from s1desk.backends.engine.safe_mode import SafeMode
from s1desk.backends.local_config import LocalModelConfig
from s1desk.errors import BackendClosedError, S1DeskError
from s1desk.events import Done, ErrorEvent, StreamEvent
from s1desk.sampling import SamplerSettings
from s1desk.thinking.machine import FinishReason

log = logging.getLogger(__name__)

#: Signals by which a faulty CPU kernel ends the engine (seen: AMX kernels on some Xeons).
_KERNEL_FAULTS = frozenset({signal.SIGILL, signal.SIGSEGV, signal.SIGBUS})


class LocalBackend:
    """One model in one engine process; requests are served one after another.

    A crash of the engine ends the reply in progress with an error event; the
    next request starts a fresh engine and loads the model again.
    """

    def __init__(
        self, engine: EngineProcess, config: LocalModelConfig, safe_mode: SafeMode
    ) -> None:
        self._engine: EngineProcess | None = engine
        self._config = config
        self._safe_mode = safe_mode
        self._lock = asyncio.Lock()
        #: Samples of one request decoded together by :meth:`stream_samples` (at most
        #: the context's sequences); 1 runs them one after another.
        self.together = 0

    @classmethod
    async def load(
        cls, config: LocalModelConfig, *, safe_mode: SafeMode | None = None
    ) -> LocalBackend:
        """Start an engine and load ``config.path`` in it; raises ``ModelLoadError``."""
        safe = safe_mode or SafeMode()
        engine = await _start(config, safe)
        return cls(engine, config, safe)

    @property
    def engine(self) -> EngineProcess:
        if self._engine is None:
            raise BackendClosedError("The local model was closed.")
        return self._engine

    @property
    def loaded(self) -> Loaded:
        loaded = self.engine.loaded
        assert loaded is not None  # an engine is kept only once loaded
        return loaded

    @property
    def config(self) -> LocalModelConfig:
        return self._config

    @property
    def gpu_layers(self) -> int:
        return self.loaded.gpu_layers

    @property
    def name(self) -> str:
        layers = self.gpu_layers
        where = f"GPU ({layers} layers)" if layers else "CPU"
        return f"{self._config.path.name} · local {where}"

    def take_notice(self) -> str | None:
        """A one-time message about how the engine runs here (e.g. a safer CPU mode)."""
        return self._safe_mode.notice()

    @property
    def model(self) -> str:
        return self._config.path.name

    @property
    def context_length(self) -> int:
        return self.loaded.n_ctx

    async def stream(
        self, request: GenerationRequest, cancel: CancelToken | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        async with self._lock:
            engine = self.engine
            if not engine.alive:
                try:
                    engine = await self._restart()
                except S1DeskError as exc:
                    yield ErrorEvent(message=str(exc), kind=type(exc).__name__)
                    return
            # Closed here, under the lock: a consumer that leaves early has the engine
            # stopped before the next request may start.
            async with contextlib.aclosing(engine.generate(request, cancel)) as events:
                async for event in events:
                    yield event
            exited = engine.exited
            if (
                exited is not None
                and exited.signal == signal.SIGILL
                and engine.config.extra_buffers is not False
            ):
                self._safe_mode.remember(0.0, "SIGILL")

    async def stream_samples(
        self,
        request: GenerationRequest,
        samplers: Sequence[SamplerSettings],
        cancel: CancelToken | None = None,
    ) -> AsyncGenerator[tuple[int, StreamEvent], None]:
        """Run ``request`` once per sampler; yield ``(sample, event)`` (the lab's SampleStreamer).

        Up to :attr:`together` samples run as one batch in the engine, sharing the
        prompt (more than fit the context end with an error saying so); 0 decodes
        as many together as the context holds; 1 runs them one after another,
        exactly as :meth:`stream` runs them.
        """
        token = cancel or CancelToken()
        limit = self.loaded.n_seq_max
        size = max(1, min(self.together or limit, limit))
        for start in range(0, len(samplers), size):
            group = samplers[start : start + size]
            if token.cancelled:
                for i in range(len(group)):
                    yield start + i, Done(reason=FinishReason.CANCELLED)
            elif len(group) == 1:
                single = dataclasses.replace(request, sampler=group[0])
                async with contextlib.aclosing(self.stream(single, token)) as events:
                    async for event in events:
                        yield start, event
            else:
                async with self._lock:
                    engine = self.engine
                    if not engine.alive:
                        try:
                            engine = await self._restart()
                        except S1DeskError as exc:
                            for i in range(len(group)):
                                yield start + i, ErrorEvent(str(exc), type(exc).__name__)
                            continue
                    samples = engine.generate_samples(request, group, token, fit=not self.together)
                    async with contextlib.aclosing(samples) as events:
                        async for i, event in events:
                            yield start + i, event

    async def _restart(self) -> EngineProcess:
        old = self.engine
        await old.stop()
        log.info("starting a fresh engine for %s", self._config.path.name)
        self._engine = await _start(self._config, self._safe_mode)
        return self._engine

    async def aclose(self) -> None:
        """End the engine; its memory goes back to the system.

        A reply still streaming (or abandoned by its reader without being closed)
        does not hold this up: its engine is ended and that reply ends with it.
        """
        engine, self._engine = self._engine, None
        if engine is None:
            return
        if self._lock.locked():
            engine.kill()
        await engine.stop()

    async def __aenter__(self) -> LocalBackend:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def _start(config: LocalModelConfig, safe: SafeMode) -> EngineProcess:
    """Load in a fresh engine; on this machine's known fault, without extra buffer types."""
    resolved = config
    if config.extra_buffers is None and safe.needed():
        resolved = dataclasses.replace(config, extra_buffers=False)
    engine = EngineProcess(resolved)
    try:
        await engine.start()
    except EngineCrashedError as exc:
        sig = exc.exited.signal
        if sig not in _KERNEL_FAULTS or resolved.extra_buffers is not None:
            raise
        # The load ends with a short decode, so a faulty kernel shows here. Whether the
        # extra buffer types are to blame is settled by loading again without them.
        log.warning("llama.cpp crashed (signal %s); loading again without extra buffer types", sig)
        engine = EngineProcess(dataclasses.replace(config, extra_buffers=False))
        try:
            loaded = await engine.start()
        except EngineCrashedError:
            raise exc from None
        safe.remember(loaded.probe_tokens_per_second, signal.Signals(sig).name)
    return engine
