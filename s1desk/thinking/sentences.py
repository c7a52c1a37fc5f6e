"""Whether a piece of streamed text ends a sentence (for the ``finish-sentence`` cap)."""

from __future__ import annotations

_CLOSERS = "\"')]}»”’*_`"
_ENDS = ".!?。！？…"


def ends_sentence(text: str) -> bool:
    """True when ``text`` ends a sentence or a line (closing quotes and brackets allowed)."""
    if "\n" in text:
        return True
    stripped = text.rstrip(" \t").rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _ENDS
