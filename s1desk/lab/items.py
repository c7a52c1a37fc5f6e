"""One finished, judged generation: the unit a run commits, resumes from and reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from s1desk.lab.errors import LabError


@dataclass(frozen=True, slots=True)
class ItemKey:
    """Which generation: a question, a budget and a sample number (from 0)."""

    question_id: str
    budget: int
    sample: int


@dataclass(frozen=True, slots=True)
class ScoredItem:
    """A generation, its figures, and the verdict with the reason for it."""

    question_id: str
    budget: int
    sample: int
    thinking_tokens: int
    answer_tokens: int
    waits: int
    thinking_end: str | None
    finish: str
    extracted: str | None
    correct: bool
    why: str
    vote: str | None
    seconds: float
    reasoning: str = ""
    answer: str = ""

    @property
    def key(self) -> ItemKey:
        return ItemKey(self.question_id, self.budget, self.sample)

    def to_dict(self, *, texts: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not texts:
            del data["reasoning"], data["answer"]
        return data

    @classmethod
    def from_dict(cls, data: Any) -> ScoredItem:
        """Rebuild an item read from a file; raises :class:`LabError` if it is not one."""
        if not isinstance(data, dict):
            raise LabError("an item is not a JSON object")
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                if f.name in ("reasoning", "answer"):
                    continue
                raise LabError(f"an item lacks {f.name!r}")
            values[f.name] = data[f.name]
        item = cls(**values)
        _check(item)
        return item


_TYPES: dict[str, tuple[type, ...]] = {
    "question_id": (str,),
    "budget": (int,),
    "sample": (int,),
    "thinking_tokens": (int,),
    "answer_tokens": (int,),
    "waits": (int,),
    "thinking_end": (str, type(None)),
    "finish": (str,),
    "extracted": (str, type(None)),
    "correct": (bool,),
    "why": (str,),
    "vote": (str, type(None)),
    "seconds": (int, float),
    "reasoning": (str,),
    "answer": (str,),
}


def _check(item: ScoredItem) -> None:
    for name, types in _TYPES.items():
        value = getattr(item, name)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise LabError(f"an item's {name!r} is {value!r}")
    if item.budget < 0 or item.sample < 0 or item.thinking_tokens < 0:
        raise LabError("an item has a negative budget, sample or token count")
