"""Linear-time lookups over a text being parsed: the next closing string, the matching brace.

markdown-it calls an inline rule at every place it might apply; a rule that
scans ahead to the end of the text each time makes an answer full of unclosed
openers quadratic. These tables are built once per text (one pass) and
answer each question in O(log n).
"""

from __future__ import annotations

import bisect
import functools
import re

#: A brace that counts as one (not written ``\\{`` or ``\\}``), as ``\\boxed{`` reads them.
_BRACE = re.compile(r"(?<!\\)[{}]")


@functools.lru_cache(maxsize=8)
def _occurrences(text: str, needle: str) -> tuple[int, ...]:
    found: list[int] = []
    at = text.find(needle)
    while at >= 0:
        found.append(at)
        at = text.find(needle, at + len(needle))
    return tuple(found)


def find_from(text: str, needle: str, start: int) -> int:
    """``text.find(needle, start)`` in O(log n) after the first call for ``text``.

    Occurrences are taken without overlap, left to right: use it only for
    needles that cannot overlap themselves (``\\)``, ``\\]``).
    """
    found = _occurrences(text, needle)
    k = bisect.bisect_left(found, start)
    return found[k] if k < len(found) else -1


@functools.lru_cache(maxsize=8)
def brace_pairs(text: str) -> dict[int, int]:
    """For each ``{`` in ``text`` that is closed, where its ``}`` is.

    A brace preceded by a backslash does not count. Each ``{`` is paired as
    counting depth from it would pair it, so the answer does not depend on
    where a scan would have started.
    """
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for match in _BRACE.finditer(text):
        if match.group() == "{":
            stack.append(match.start())
        elif stack:
            pairs[stack.pop()] = match.start()
    return pairs
