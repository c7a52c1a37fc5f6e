"""The optional backend capability of decoding several samples of one request together."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Protocol, runtime_checkable

from s1desk.backends.base import GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.events import StreamEvent
from s1desk.sampling import SamplerSettings


@runtime_checkable
class SampleStreamer(Protocol):
    """A backend that runs one request as several sequences at once (majority vote).

    Sequence ``i`` is ``request`` with ``samplers[i]`` (its own seed and
    sampler chain) and its own budget forcing. Events come tagged with ``i``;
    each sequence's events end with exactly one ``Done`` or ``ErrorEvent``,
    like :meth:`Backend.stream`. A local engine can decode them in one batch,
    sharing the prompt; the lab uses this when a backend offers it and runs
    the samples as separate ``stream`` calls otherwise.
    """

    def stream_samples(
        self,
        request: GenerationRequest,
        samplers: Sequence[SamplerSettings],
        cancel: CancelToken | None = None,
    ) -> AsyncGenerator[tuple[int, StreamEvent], None]:
        """Run ``len(samplers)`` sequences of ``request``; yield ``(sequence, event)``."""
        ...
