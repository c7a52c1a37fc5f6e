"""The curves the Scaling view draws, from a run's items (no Qt)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from s1desk.lab.items import ScoredItem
from s1desk.lab.points import compute_points
from s1desk.lab.stats import wilson


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One point: a budget's mean thinking tokens and accuracy (0-1) with its interval."""

    budget: int
    tokens: float
    accuracy: float
    low: float
    high: float
    correct: int
    n: int

    @property
    def label(self) -> str:
        return (
            f"budget {self.budget:,}: {self.correct}/{self.n} right "
            f"({self.accuracy:.0%}, 95% {self.low:.0%}–{self.high:.0%}), "
            f"{self.tokens:,.0f} thinking tokens"
        )


@dataclass(frozen=True, slots=True)
class Curve:
    """A named line of points; ``intervals`` when they mean something (n > 1)."""

    name: str
    points: tuple[CurvePoint, ...]
    intervals: bool


def curves(items: Iterable[ScoredItem], samples: int, questions: int) -> list[Curve]:
    """A set: the first sample's accuracy and, with K > 1, maj@K, over questions.

    One question: the share of its K samples that are right at each budget
    (with K = 1, right or wrong, and no interval).
    """
    items = list(items)
    if questions == 1:
        return [_one_question(items, samples)]
    points = compute_points(items, samples)

    def at(k: int) -> tuple[CurvePoint, ...]:
        return tuple(
            CurvePoint(
                p.budget, p.mean_thinking_tokens, p.accuracy, p.ci_low, p.ci_high, p.correct, p.n
            )
            for p in points
            if p.k == k
        )

    out = [Curve("first sample", at(1), True)]
    if samples > 1:
        out.append(Curve(f"maj@{samples}", at(samples), True))
    return out


def _one_question(items: list[ScoredItem], samples: int) -> Curve:
    by_budget: dict[int, list[ScoredItem]] = defaultdict(list)
    for item in items:
        by_budget[item.budget].append(item)
    points = []
    for budget in sorted(by_budget):
        done = by_budget[budget]
        correct = sum(item.correct for item in done)
        low, high = wilson(correct, len(done))
        tokens = sum(item.thinking_tokens for item in done) / len(done)
        points.append(
            CurvePoint(budget, tokens, correct / len(done), low, high, correct, len(done))
        )
    name = "right or wrong" if samples == 1 else f"share of {samples} samples right"
    return Curve(name, tuple(points), samples > 1)
