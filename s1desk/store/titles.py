"""Conversation titles made from the first question."""

from __future__ import annotations

import re

#: Longest title made automatically, in characters (the ellipsis included).
TITLE_LENGTH = 60


def title_from_question(question: str, limit: int = TITLE_LENGTH) -> str:
    """The question on one line, cut at a word boundary to at most ``limit`` characters."""
    line = " ".join(question.split())
    line = re.sub(r"^#+\s*", "", line)  # a markdown heading marker says nothing
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"
