"""Reading a finished list of stream events in tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Transcript:
    """What a generation produced, summarised."""

    events: Sequence[StreamEvent]

    def of(self, kind: type[object]) -> list[StreamEvent]:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def reasoning(self) -> str:
        return "".join(e.text for e in self.events if isinstance(e, ThinkingText | WaitInjected))

    @property
    def answer(self) -> str:
        return "".join(e.text for e in self.events if isinstance(e, AnswerText))

    @property
    def waits(self) -> list[WaitInjected]:
        return [e for e in self.events if isinstance(e, WaitInjected)]

    @property
    def thinking_end(self) -> ThinkingEnd:
        (end,) = [e for e in self.events if isinstance(e, ThinkingEnd)]
        return end

    @property
    def stats(self) -> Stats:
        (stats,) = [e for e in self.events if isinstance(e, Stats)]
        return stats

    @property
    def done(self) -> Done:
        last = self.events[-1]
        assert isinstance(last, Done), f"stream ended with {last!r}"
        return last

    @property
    def error(self) -> ErrorEvent:
        last = self.events[-1]
        assert isinstance(last, ErrorEvent), f"stream ended with {last!r}"
        return last
