"""Shows a stream of events in a terminal: thinking dimmed, then the answer.

Text from the model, a server or a file never reaches the terminal raw: its
control characters are made visible (see :func:`safe_text`), so it cannot set
the window title, clear the screen, move the cursor or write the clipboard
(OSC 52). Only this module's own colour codes are sent.
"""

from __future__ import annotations

import json
import re
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

#: C0 controls but tab and newline, DEL, C1 controls (0x9b is a one-byte CSI), and the
#: bidirectional embeddings, overrides and isolates that reorder what is shown.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_PICTURES = 0x2400  # U+2400..U+241F show C0 controls as symbols: ␛ for ESC
_PICTURES = {
    **{chr(c): chr(_CONTROL_PICTURES + c) for c in range(0x20)},
    "\x7f": "\u2421",  # ␡
    "\r": "",  # a lone CR would return to the line start and overwrite it
}


#: What JSON leaves raw but a terminal may act on (C1 controls, bidi controls, line and
#: paragraph separators); ``json.dumps`` already escapes C0 controls.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    picture = _PICTURES.get(char)
    return picture if picture is not None else "\ufffd"


def safe_text(text: str) -> str:
    """``text`` with every character that a terminal would act on made inert and visible.

    Tab and newline stay; carriage returns go (``\\r\\n`` becomes ``\\n``); other
    C0 controls and DEL become their Control Pictures (ESC shows as ␛, BEL as ␇);
    C1 controls and bidi overrides become U+FFFD. Character by character, so an
    escape sequence split across two streamed pieces is caught all the same.
    """
    return _UNSAFE.sub(_visible, text)


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
        line = json.dumps(event_to_dict(event), ensure_ascii=False)
        # Only inside strings (JSON's own syntax is ASCII), so the value parses back the same.
        self.out.write(_JSON_UNSAFE.sub(_json_escape, line) + "\n")
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
                    self.out.write(self._c(_DIM, safe_text(text)))
            case WaitInjected(text=text, index=index):
                if self.show_thinking:
                    self._open_thinking()
                    self.out.write(self._c(_BOLD_YELLOW, f"[{safe_text(text)} #{index}]"))
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
                self.out.write(safe_text(text))
            case BudgetAdjusted(message=message):
                self.err.write(self._c(_BOLD_YELLOW, safe_text(message)) + "\n")
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
                self.err.write(self._c(_RED, f"Error: {safe_text(message)}") + "\n")
        self.out.flush()
