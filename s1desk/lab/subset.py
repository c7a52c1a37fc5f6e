"""A reproducible subset for ``--limit``: the same N questions on every run and machine."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from s1desk.lab.questions import Question


def _rank(question: Question) -> str:
    return hashlib.sha256(f"{question.id}\n{question.question}".encode()).hexdigest()


def limit(questions: Sequence[Question], n: int | None) -> list[Question]:
    """The ``n`` questions that rank first by a hash of their text, in the set's order.

    The subset depends only on the questions, not on a random generator's
    version, and a larger ``n`` keeps every question of a smaller one.
    """
    if n is None or n >= len(questions):
        return list(questions)
    chosen = {id(q) for q in sorted(questions, key=_rank)[:n]}
    return [q for q in questions if id(q) in chosen]
