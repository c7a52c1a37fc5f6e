"""Finding a multi-token end-of-thinking marker in streamed text without showing half of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scan:
    """What one token's text came to.

    ``shown`` is text safe to show now. When ``found``, the marker ended in
    this token: ``rewind`` tokens (this one included) hold the marker and text
    around it, and ``keep`` is their text before the marker, to be put back as
    plain text when they are taken out of the model's cache.
    """

    shown: str
    found: bool = False
    rewind: int = 0
    keep: str = ""


class MarkerScanner:
    """Text of tokens in, text to show out; text that may begin a marker is held back.

    With no markers every text is shown as it comes.
    """

    def __init__(self, markers: Sequence[str]) -> None:
        self.markers = tuple(m for m in markers if m)
        self._tokens: list[str] = []  # texts of tokens not wholly shown yet
        self._shown = 0  # characters of the first of them already shown

    @property
    def holding(self) -> int:
        """Tokens whose text is not wholly shown."""
        return len(self._tokens)

    def feed(self, text: str) -> Scan:
        if not self.markers:
            return Scan(text)
        self._tokens.append(text)
        buffer = "".join(self._tokens)
        pending = buffer[self._shown :]
        hits = [(at, m) for m in self.markers if (at := pending.find(m)) >= 0]
        if hits:
            at, _ = min(hits)
            scan = Scan(
                pending[:at], found=True, rewind=len(self._tokens), keep=buffer[: self._shown + at]
            )
            self._reset()
            return scan
        hold = self._held_length(pending)
        shown = pending[: len(pending) - hold]
        done = self._shown + len(shown)
        while self._tokens and done >= len(self._tokens[0]) and (done or not self._tokens[0]):
            done -= len(self._tokens.pop(0))
        self._shown = done if self._tokens else 0
        return Scan(shown)

    def flush(self) -> str:
        """Give up what is held as text (the thinking ended another way)."""
        rest = "".join(self._tokens)[self._shown :]
        self._reset()
        return rest

    def drop(self) -> Scan:
        """Take back the held tokens (thinking closes over them), keeping their shown text."""
        scan = Scan("", rewind=len(self._tokens), keep="".join(self._tokens)[: self._shown])
        self._reset()
        return scan

    def _held_length(self, text: str) -> int:
        best = 0
        for marker in self.markers:
            for k in range(min(len(marker) - 1, len(text)), best, -1):
                if text.endswith(marker[:k]):
                    best = k
                    break
        return best

    def _reset(self) -> None:
        self._tokens = []
        self._shown = 0
