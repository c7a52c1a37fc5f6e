"""What a running evaluation reports, as plain values (``--json`` writes one per line)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from s1desk.lab.items import ScoredItem
from s1desk.lab.points import Point


@dataclass(frozen=True, slots=True)
class ItemFinished:
    """A generation finished, was judged and committed."""

    item: ScoredItem
    type: ClassVar[str] = "item"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **self.item.to_dict(texts=False)}


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the run is: generations done of ``total``, speed and time left (this session)."""

    done: int
    total: int
    generations_per_s: float
    seconds_left: float | None
    type: ClassVar[str] = "progress"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "done": self.done,
            "total": self.total,
            "generations_per_s": round(self.generations_per_s, 4),
            "seconds_left": None if self.seconds_left is None else round(self.seconds_left, 1),
        }


@dataclass(frozen=True, slots=True)
class RunFinished:
    """The run stopped: ``finished``, ``interrupted`` (resumable) or ``failed`` (resumable)."""

    status: str
    done: int
    total: int
    points: tuple[Point, ...]
    message: str = ""
    out_dir: str = ""
    type: ClassVar[str] = "done"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "message": self.message,
            "out_dir": self.out_dir,
            "points": [p.to_dict() for p in self.points],
        }


LabEvent = ItemFinished | Progress | RunFinished
