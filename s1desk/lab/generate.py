"""Running generations for the lab: one stream or several samples, folded to results."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass

from s1desk.backends.base import Backend, GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.chat.message import AssistantMessage
from s1desk.lab.batching import SampleStreamer
from s1desk.sampling import SamplerSettings
from s1desk.thinking.machine import FinishReason


@dataclass(frozen=True, slots=True)
class Generation:
    """What one finished generation produced (``error`` set when it failed)."""

    reasoning: str
    answer: str
    thinking_tokens: int
    answer_tokens: int
    waits: int
    thinking_end: str | None
    finish: FinishReason | None
    error: str | None
    seconds: float

    @property
    def cancelled(self) -> bool:
        return self.finish is FinishReason.CANCELLED


def _result(message: AssistantMessage, started: float) -> Generation:
    if message.error is None and message.finish_reason is None:
        message.fail("The stream ended without saying why.")
    return Generation(
        reasoning=message.reasoning,
        answer=message.answer,
        thinking_tokens=message.thinking_tokens,
        answer_tokens=message.answer_tokens,
        waits=message.waits,
        thinking_end=None if message.close_reason is None else message.close_reason.value,
        finish=message.finish_reason,
        error=message.error,
        seconds=time.monotonic() - started,
    )


async def generate(
    backend: Backend, request: GenerationRequest, cancel: CancelToken | None = None
) -> Generation:
    """Run ``request`` to its end and fold its events."""
    started = time.monotonic()
    message = AssistantMessage(request.policy)
    async for event in backend.stream(request, cancel):
        message.apply(event)
    return _result(message, started)


async def generate_samples(
    backend: SampleStreamer,
    request: GenerationRequest,
    samplers: Sequence[SamplerSettings],
    cancel: CancelToken | None = None,
) -> AsyncGenerator[tuple[int, Generation], None]:
    """Run the samples together; yield each one's result as soon as it ends."""
    started = time.monotonic()
    messages = [AssistantMessage(request.policy) for _ in samplers]
    pending = set(range(len(samplers)))
    async with contextlib.aclosing(backend.stream_samples(request, samplers, cancel)) as events:
        async for index, event in events:
            if index not in pending:
                continue
            messages[index].apply(event)
            if messages[index].finished:
                pending.discard(index)
                yield index, _result(messages[index], started)
    for index in sorted(pending):
        yield index, _result(messages[index], started)


def with_sampler(request: GenerationRequest, sampler: SamplerSettings) -> GenerationRequest:
    return dataclasses.replace(request, sampler=sampler)
