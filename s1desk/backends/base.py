"""The one protocol every backend implements, and the request it serves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from s1desk.backends.cancel import CancelToken
from s1desk.events import StreamEvent
from s1desk.sampling import SamplerSettings
from s1desk.thinking.format import DEFAULT_SYSTEM_PROMPT, Turn
from s1desk.thinking.policy import BudgetPolicy


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """One question in the context of a conversation, with its budget."""

    question: str
    history: Sequence[Turn] = ()
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    policy: BudgetPolicy = field(default_factory=BudgetPolicy)
    sampler: SamplerSettings = field(default_factory=SamplerSettings)


@runtime_checkable
class Backend(Protocol):
    """Runs requests one at a time and streams events, and says what it is.

    ``stream`` ends with exactly one ``Done`` or ``ErrorEvent``. Closing the
    iterator early (``aclose`` or breaking out of ``async for``) cancels the
    generation within one token and leaves the backend ready for the next
    request.
    """

    @property
    def name(self) -> str:
        """A short label for the user: which model, where."""
        ...

    @property
    def model(self) -> str | None:
        """The model it runs (a local file's name, a server's model id); ``None`` if unknown."""
        ...

    @property
    def context_length(self) -> int | None:
        """The context window in tokens; ``None`` when the backend does not say."""
        ...

    def stream(
        self, request: GenerationRequest, cancel: CancelToken | None = None
    ) -> AsyncIterator[StreamEvent]:
        """Run ``request`` and yield its events; ``cancel`` stops it with ``Done(cancelled)``."""
        ...

    async def aclose(self) -> None:
        """Free the model or the connection; the backend is unusable after."""
        ...
