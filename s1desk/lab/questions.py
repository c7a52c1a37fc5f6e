"""A question of an evaluation set, with its gold answer and how to compare answers."""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum

LETTERS = string.ascii_uppercase


class AnswerKind(StrEnum):
    """How an extracted answer is compared with the gold one."""

    #: Whole numbers (AIME): ``023`` equals ``23``.
    INTEGER = "integer"
    #: Mathematical expressions (MATH500): equivalence, not spelling.
    MATH = "math"
    #: Multiple choice (GPQA): one letter.
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class Question:
    """One item of a set. ``answer`` is a letter when ``choices`` are given."""

    id: str
    question: str
    answer: str
    kind: AnswerKind
    choices: tuple[str, ...] = ()

    @property
    def prompt(self) -> str:
        """What the model is asked: the question, then the lettered choices (as s1's GPQA)."""
        if not self.choices:
            return self.question
        lines = [f"{LETTERS[i]}) {choice}" for i, choice in enumerate(self.choices)]
        return self.question + "\n\n" + "\n".join(lines)


def kind_for(answer: str, choices: tuple[str, ...]) -> AnswerKind:
    """The comparison a file's item gets: choices by letter, whole numbers, else math."""
    if choices:
        return AnswerKind.CHOICE
    return AnswerKind.INTEGER if answer.strip().isdigit() else AnswerKind.MATH
