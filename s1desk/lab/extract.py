"""Taking the final answer out of a reply, as s1's evaluation does.

s1 scores the text after the answer delimiter (our answer stream): the last
``\\boxed{...}`` (braces nested to any depth), else the last ``Answer: ...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_ANSWER = re.compile(r"answer\s*:", re.IGNORECASE)


class Found(StrEnum):
    """Where an extracted answer came from."""

    BOXED = "boxed"
    ANSWER_LINE = "answer_line"
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class Extraction:
    """The answer found in a reply (``None`` when there is none) and where it was."""

    text: str | None
    found: Found

    def describe(self) -> str:
        if self.found is Found.BOXED:
            return f"the last \\boxed{{}} holds {self.text!r}"
        if self.found is Found.ANSWER_LINE:
            return f"the last 'Answer:' line says {self.text!r}"
        return "the answer has no complete \\boxed{} and no 'Answer:' line"


def boxed_contents(text: str) -> list[str]:
    """The contents of every complete ``\\boxed{...}``, in order; an unclosed one is skipped."""
    found: list[str] = []
    for match in _BOXED.finditer(text):
        depth = 1
        i = match.end()
        while i < len(text) and depth:
            if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
                i += 2  # an escaped brace, \{ or \}, is content
                continue
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
            i += 1
        if depth == 0:
            found.append(text[match.end() : i - 1])
    return found


def _answer_line(text: str) -> str | None:
    matches = list(_ANSWER.finditer(text))
    for match in reversed(matches):
        rest = text[match.end() :]
        line, _, after = rest.partition("\n")
        if not clean(line):
            # "Final Answer:" at the end of a line: the answer is on the next one.
            line = next((ln for ln in after.split("\n") if clean(ln)), "")
        if clean(line):
            return clean(line)
    return None


def clean(text: str) -> str:
    """Strip what wraps an answer: spaces, markdown bold, ``$``, ``\\(...\\)``, a final period."""
    s = text.strip()
    for _ in range(3):
        before = s
        s = s.strip().strip("*").strip()
        if s.startswith("$") and s.endswith("$") and len(s) >= 2:
            s = s.strip("$")
        if s.startswith("\\(") and s.endswith("\\)"):
            s = s[2:-2]
        if s.startswith("\\[") and s.endswith("\\]"):
            s = s[2:-2]
        s = s.rstrip(".").strip()
        if s == before:
            break
    return s


def extract(answer: str) -> Extraction:
    """The final answer of ``answer``: the last complete box, else the last ``Answer:`` line."""
    boxes = boxed_contents(answer)
    if boxes:
        return Extraction(clean(boxes[-1]), Found.BOXED)
    line = _answer_line(answer)
    if line is not None:
        return Extraction(line, Found.ANSWER_LINE)
    return Extraction(None, Found.NOTHING)
