"""A replay backend: streams a prepared sequence of events at a set token rate.

It implements the backend protocol without a model, for demonstrations,
timing-exact tests and the GUI benchmarks (e.g. a 30,000-token reasoning
trace at 500 tokens/s).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence

from s1desk.backends.base import GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.errors import BackendClosedError
from s1desk.events import (
    AnswerText,
    Done,
    ErrorEvent,
    Stats,
    StreamEvent,
    ThinkingEnd,
    ThinkingText,
    WaitInjected,
)
from s1desk.thinking.machine import CloseReason, FinishReason

Script = Sequence[StreamEvent] | Callable[[GenerationRequest], Sequence[StreamEvent]]

_WORDS = (
    " Let", " me", " check", " the", " sum", " again", ":", " 7", " times", " 8", " is",
    " 56", ",", " so", " the", " answer", " should", " be", " right", ".",
)  # fmt: skip


class ScriptedBackend:
    """Replays ``script`` (a list of events, or a function of the request).

    Text events are paced at ``rate`` per second; between pauses the events
    that are due come out together, as from a fast real backend. Every
    request gets the whole script again.
    """

    def __init__(self, script: Script, rate: float = 500.0, label: str = "scripted replay") -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._script = script
        self._rate = rate
        self._label = label
        self._closed = False
        self.requests: list[GenerationRequest] = []

    @property
    def name(self) -> str:
        return self._label

    @property
    def model(self) -> None:
        return None

    @property
    def context_length(self) -> None:
        return None

    async def stream(
        self, request: GenerationRequest, cancel: CancelToken | None = None
    ) -> AsyncIterator[StreamEvent]:
        if self._closed:
            raise BackendClosedError("The scripted backend was closed.")
        self.requests.append(request)
        events = self._script(request) if callable(self._script) else self._script
        start = time.monotonic()
        paced = 0
        for event in events:
            if cancel is not None and cancel.cancelled:
                yield Done(reason=FinishReason.CANCELLED)
                return
            if isinstance(event, ThinkingText | AnswerText | WaitInjected):
                paced += 1
                delay = start + paced / self._rate - time.monotonic()
                if delay > 0.004:  # sleep in ticks, not per token
                    await asyncio.sleep(delay)
                    if cancel is not None and cancel.cancelled:
                        yield Done(reason=FinishReason.CANCELLED)
                        return
            yield event
            if isinstance(event, Done | ErrorEvent):
                return
        yield Done(reason=FinishReason.STOP)

    async def aclose(self) -> None:
        self._closed = True


def synthetic_reply(
    thinking_tokens: int,
    answer: str = "The answer is **56**.",
    wait_at: Sequence[int] = (),
    cap: bool = False,
    wait_text: str = "Wait",
    paragraph: int = 60,
) -> list[StreamEvent]:
    """A made-up but well-formed reply: thinking tokens (paragraphs every
    ``paragraph`` tokens), a Wait before each position in ``wait_at``, the end
    of thinking (a cut if ``cap``), the answer one word per token, stats, done."""
    events: list[StreamEvent] = []
    waits = sorted(wait_at)
    count = 0
    while count < thinking_tokens:
        if waits and count >= waits[0]:
            waits.pop(0)
            events.append(WaitInjected(text=wait_text, at=count, index=_n(events)))
            count += 1
            continue
        word = _WORDS[count % len(_WORDS)]
        if paragraph and count % paragraph == paragraph - 1:
            word += "\n\n"
        events.append(ThinkingText(word))
        count += 1
    reason = (
        CloseReason.CAP if cap else (CloseReason.NATURAL if thinking_tokens else CloseReason.NONE)
    )
    events.append(ThinkingEnd(reason=reason, thinking_tokens=count))
    answer_pieces = [w + " " for w in answer.split(" ")]
    answer_pieces[-1] = answer_pieces[-1].rstrip(" ")
    events.extend(AnswerText(p) for p in answer_pieces)
    n_waits = sum(isinstance(e, WaitInjected) for e in events)
    total = count + len(answer_pieces)
    events.append(
        Stats(
            prompt_tokens=20,
            cached_prompt_tokens=0,
            thinking_tokens=count,
            answer_tokens=len(answer_pieces),
            waits=n_waits,
            time_to_first_token_s=0.05,
            thinking_s=count / 500,
            total_s=total / 500,
            tokens_per_second=500.0,
        )
    )
    events.append(Done(reason=FinishReason.STOP))
    return events


def _n(events: list[StreamEvent]) -> int:
    return sum(isinstance(e, WaitInjected) for e in events) + 1
