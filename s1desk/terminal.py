"""Shows a stream of events in a terminal: thinking dimmed, then the answer."""

from __future__ import annotations

import json
from typing import TextIO

from s1desk.events import (
    AnswerText,
    BudgetAdjusted,
    Done,
    ErrorEvent,
    Stats,
    StreamEvent,
    ThinkingEnd,
    ThinkingText,
    WaitInjected,
    event_to_dict,
)
from s1desk.thinking.machine import CloseReason, FinishReason

_DIM = "\033[2m"
_BOLD_YELLOW = "\033[1;33m"
_BOLD = "\033[1m"
_RED = "\033[31m"
_RESET = "\033[0m"

_CLOSE_WORDS = {
    CloseReason.NATURAL: "ended by the model",
    CloseReason.CAP: "cut at the budget",
    CloseReason.NONE: "skipped",
}


class JsonRenderer:
    """One JSON object per event per line (``--json``)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def show(self, event: StreamEvent) -> None:
        self.out.write(json.dumps(event_to_dict(event), ensure_ascii=False) + "\n")
        self.out.flush()


class TextRenderer:
    """Human-readable output; colours only when ``color`` is set (a TTY)."""

    def __init__(
        self, out: TextIO, err: TextIO, *, color: bool, show_thinking: bool = True
    ) -> None:
        self.out = out
        self.err = err
        self.color = color
        self.show_thinking = show_thinking
        self._in_thinking = False
        self._answer_started = False

    def _c(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text

    def _open_thinking(self) -> None:
        if not self._in_thinking:
            self.out.write(self._c(_BOLD, "Thinking…") + "\n")
            self._in_thinking = True

    def show(self, event: StreamEvent) -> None:
        match event:
            case ThinkingText(text=text):
                if self.show_thinking:
                    self._open_thinking()
                    self.out.write(self._c(_DIM, text))
            case WaitInjected(text=text, index=index):
                if self.show_thinking:
                    self._open_thinking()
                    self.out.write(self._c(_BOLD_YELLOW, f"[{text} #{index}]"))
            case ThinkingEnd(reason=reason, thinking_tokens=n):
                if self.show_thinking and reason is not CloseReason.NONE:
                    self.out.write(
                        "\n"
                        + self._c(
                            _BOLD, f"── thinking {_CLOSE_WORDS[reason]} after {n:,} tokens ──"
                        )
                        + "\n"
                    )
            case AnswerText(text=text):
                self._answer_started = True
                self.out.write(text)
            case BudgetAdjusted(message=message):
                self.err.write(self._c(_BOLD_YELLOW, message) + "\n")
            case Stats() as s:
                self.out.write("\n")
                self.err.write(
                    self._c(
                        _DIM,
                        f"{s.thinking_tokens:,} thinking + {s.answer_tokens:,} answer tokens · "
                        f"{s.waits} × Wait · {s.tokens_per_second:.1f} tokens/s · "
                        f"first token {s.time_to_first_token_s:.2f} s · {s.total_s:.1f} s",
                    )
                    + "\n"
                )
            case Done(reason=reason):
                if reason is FinishReason.CANCELLED:
                    self.err.write("Stopped.\n")
                elif reason is FinishReason.LENGTH:
                    self.err.write("The answer reached its token limit.\n")
                elif reason is FinishReason.CONTEXT_FULL:
                    self.err.write("The context window is full.\n")
            case ErrorEvent(message=message):
                self.out.write("\n")
                self.err.write(self._c(_RED, f"Error: {message}") + "\n")
        self.out.flush()
