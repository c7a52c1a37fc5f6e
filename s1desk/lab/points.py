"""The points of a scaling curve: accuracy per budget, for the first sample and by vote."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from s1desk.lab.items import ScoredItem
from s1desk.lab.judge import GOLD_VOTE
from s1desk.lab.stats import majority, wilson


@dataclass(frozen=True, slots=True)
class Point:
    """Accuracy at one budget over ``n`` questions.

    ``k`` = 1 scores each question's first sample; ``k`` > 1 scores the
    majority vote of its first ``k`` samples (s1's ``maj@k``).
    ``mean_thinking_tokens`` is the mean over the generations that count.
    """

    budget: int
    k: int
    metric: str
    accuracy: float
    correct: int
    n: int
    mean_thinking_tokens: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def vote_sizes(samples: int) -> list[int]:
    """1, then the powers of two below ``samples``, then ``samples`` itself."""
    sizes = [1]
    k = 2
    while k < samples:
        sizes.append(k)
        k *= 2
    if samples > 1:
        sizes.append(samples)
    return sizes


def compute_points(items: Iterable[ScoredItem], samples: int) -> list[Point]:
    """Every point the items allow, ordered by budget then ``k``."""
    by_question: dict[int, dict[str, dict[int, ScoredItem]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for item in items:
        by_question[item.budget][item.question_id][item.sample] = item
    points: list[Point] = []
    for budget in sorted(by_question):
        questions = by_question[budget]
        for k in vote_sizes(samples):
            correct = n = tokens = generations = 0
            for done in questions.values():
                first = [done.get(s) for s in range(k)]
                if any(item is None for item in first):
                    continue
                chosen = [item for item in first if item is not None]
                n += 1
                tokens += sum(item.thinking_tokens for item in chosen)
                generations += len(chosen)
                if k == 1:
                    correct += chosen[0].correct
                else:
                    correct += majority([item.vote for item in chosen]) == GOLD_VOTE
            if n == 0:
                continue
            low, high = wilson(correct, n)
            points.append(
                Point(
                    budget=budget,
                    k=k,
                    metric="first" if k == 1 else "maj",
                    accuracy=correct / n,
                    correct=correct,
                    n=n,
                    mean_thinking_tokens=tokens / generations,
                    ci_low=low,
                    ci_high=high,
                )
            )
    return points
