"""The question sets s1 reports, as they are laid out on the Hugging Face hub.

Each set names its repository, the split s1 evaluates and how its rows become
questions. File names are not fixed here: the data files are found in the
downloaded snapshot (see :func:`pick_files`), so a repository that moves to
another layout (``data/train-00000-of-00001.parquet`` or ``test.jsonl``) still loads.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from s1desk.lab.errors import SourceError
from s1desk.lab.questions import AnswerKind, Question
from s1desk.lab.tables import SUFFIXES

Rows = Sequence[dict[str, Any]]
_SPLITS = ("train", "test", "validation", "dev")


@dataclass(frozen=True, slots=True)
class BuiltinSet:
    """A benchmark on the hub: where it is and how to read it."""

    name: str
    title: str
    repo_id: str
    split: str
    convert: Callable[[Rows, str], list[Question]]
    allow_patterns: tuple[str, ...] = tuple(f"*{s}" for s in SUFFIXES)
    gated: bool = False


def _field(row: dict[str, Any], names: Sequence[str], title: str) -> Any:
    for name in names:
        if row.get(name) is not None:
            return row[name]
    raise SourceError(
        f"The {title} data has no {' / '.join(repr(n) for n in names)} column "
        f"(it has {', '.join(sorted(row)) or 'none'}): the hub's copy changed its layout."
    )


def _ids(rows: Rows, names: Sequence[str]) -> list[str]:
    ids = [next((str(r[n]) for n in names if r.get(n) is not None), "") for r in rows]
    if all(ids) and len(set(ids)) == len(ids):
        return ids
    return [str(i) for i in range(1, len(rows) + 1)]


def _answer_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _math_rows(kind: AnswerKind) -> Callable[[Rows, str], list[Question]]:
    def convert(rows: Rows, title: str) -> list[Question]:
        ids = _ids(rows, ("id", "ID", "unique_id"))
        return [
            Question(
                qid,
                str(_field(row, ("problem", "question", "Problem"), title)).strip(),
                _answer_text(_field(row, ("answer", "Answer", "orig_answer"), title)),
                kind,
            )
            for qid, row in zip(ids, rows, strict=True)
        ]

    return convert


def _gpqa_rows(rows: Rows, title: str) -> list[Question]:
    """GPQA's four answers, shuffled as s1 does, but seeded by the record so every run agrees."""
    ids = _ids(rows, ("Record ID",))
    questions: list[Question] = []
    for qid, row in zip(ids, rows, strict=True):
        correct = str(_field(row, ("Correct Answer",), title)).strip()
        choices = [correct] + [
            str(_field(row, (f"Incorrect Answer {i}",), title)).strip() for i in (1, 2, 3)
        ]
        random.Random(f"gpqa:{qid}").shuffle(choices)
        letter = "ABCD"[choices.index(correct)]
        text = str(_field(row, ("Question",), title)).strip()
        questions.append(Question(qid, text, letter, AnswerKind.CHOICE, tuple(choices)))
    return questions


BUILTIN_SETS: dict[str, BuiltinSet] = {
    s.name: s
    for s in (
        BuiltinSet(
            "aime24",
            "AIME 2024",
            "simplescaling/aime24_nofigures",
            "train",
            _math_rows(AnswerKind.INTEGER),
        ),
        BuiltinSet(
            "aime25",
            "AIME 2025",
            "simplescaling/aime25_nofigures",
            "train",
            _math_rows(AnswerKind.INTEGER),
        ),
        BuiltinSet(
            "math500", "MATH500", "simplescaling/openaimath", "test", _math_rows(AnswerKind.MATH)
        ),
        BuiltinSet(
            "gpqa",
            "GPQA Diamond",
            "Idavidrein/gpqa",
            "train",
            _gpqa_rows,
            allow_patterns=tuple(f"*gpqa_diamond*{s}" for s in SUFFIXES),
            gated=True,
        ),
    )
}


def _mentions(path: str, split: str) -> bool:
    p = PurePosixPath(path)
    stem = p.name.split(".")[0]
    return stem == split or stem.startswith((f"{split}-", f"{split}_")) or split in p.parent.parts


def pick_files(paths: Sequence[str], split: str) -> list[str]:
    """The data files of ``split`` among a snapshot's files, in name order.

    One format is used (Parquet, else JSON Lines, JSON, CSV): a repository
    that ships both Parquet and JSON copies is read once. Files named for the
    split count; when no file names any split, they all belong to it.
    """
    data = [
        p
        for p in paths
        if p.lower().endswith(SUFFIXES) and not PurePosixPath(p).name.startswith("dataset_info")
    ]
    for suffix in SUFFIXES:
        of_format = sorted(p for p in data if p.lower().endswith(suffix))
        if not of_format:
            continue
        named = [p for p in of_format if _mentions(p, split)]
        if named:
            return named
        if not any(_mentions(p, s) for p in of_format for s in _SPLITS):
            return of_format
    return []
