"""What the app and its engine process say to each other: plain picklable values."""

from __future__ import annotations

from dataclasses import dataclass

from s1desk.backends.base import GenerationRequest
from s1desk.backends.local_config import LocalModelConfig
from s1desk.events import StreamEvent
from s1desk.sampling import SamplerSettings

# -- app -> engine ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Load:
    """Load a model; answered by :class:`Loaded` or :class:`LoadFailed`."""

    config: LocalModelConfig


@dataclass(frozen=True, slots=True)
class Generate:
    """Run one request; its events come back as :class:`Event`, then :class:`Finished`."""

    request_id: int
    request: GenerationRequest


@dataclass(frozen=True, slots=True)
class GenerateSamples:
    """Run ``request`` once per sampler, decoded together in one batch.

    Events come back as :class:`SampleEvent`, then one :class:`Finished`.
    """

    request_id: int
    request: GenerationRequest
    samplers: tuple[SamplerSettings, ...]
    #: Run samples that do not fit the context together in groups that do (else an error).
    fit: bool = False


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop request ``request_id`` within one token (or abort its prompt evaluation)."""

    request_id: int


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Free the model and exit."""


Command = Load | Generate | GenerateSamples | Cancel | Shutdown

# -- engine -> app ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Loaded:
    """The model is ready."""

    n_ctx: int
    n_vocab: int
    gpu_layers: int
    threads: int
    threads_batch: int
    extra_buffers: bool
    #: Tokens per second of a short decode at load time (0 when not measured).
    probe_tokens_per_second: float
    #: The thinking format the model is driven with (detected where ``auto`` was asked).
    thinking_format: str = "s1"
    #: Why that format (for logs and the window).
    format_reason: str = ""
    #: Sequences the context decodes together (samples of one request).
    n_seq_max: int = 1


@dataclass(frozen=True, slots=True)
class LoadFailed:
    """The model could not be loaded; ``message`` is for people."""

    message: str
    kind: str


@dataclass(frozen=True, slots=True)
class Event:
    """One event of request ``request_id``."""

    request_id: int
    event: StreamEvent


@dataclass(frozen=True, slots=True)
class SampleEvent:
    """One event of sequence ``sequence`` of request ``request_id``."""

    request_id: int
    sequence: int
    event: StreamEvent


@dataclass(frozen=True, slots=True)
class Finished:
    """Request ``request_id`` is over; the engine is ready for the next one."""

    request_id: int


Reply = Loaded | LoadFailed | Event | SampleEvent | Finished
