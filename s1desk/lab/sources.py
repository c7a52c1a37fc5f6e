"""Naming a question set on the command line: a built-in benchmark or a JSONL file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from s1desk.lab.builtin import BUILTIN_SETS
from s1desk.lab.errors import SourceError
from s1desk.lab.hub import fetch
from s1desk.lab.jsonl_source import load_jsonl
from s1desk.lab.questions import Question
from s1desk.lab.subset import limit
from s1desk.lab.tables import read_rows


@dataclass(frozen=True, slots=True)
class LoadedSource:
    """The questions of a run and where they came from."""

    name: str
    title: str
    questions: tuple[Question, ...]
    total: int


def builtin_names() -> list[str]:
    return list(BUILTIN_SETS)


def load_source(source: str, n: int | None = None) -> LoadedSource:
    """Load ``source`` (a built-in name or a JSONL path) and take ``n`` of its questions."""
    if n is not None and n < 1:
        raise SourceError(f"--limit must be 1 or more, not {n}")
    path = Path(source).expanduser()
    dataset = BUILTIN_SETS.get(source.lower())
    if dataset is not None and not path.exists():
        rows = [row for file in fetch(dataset) for row in read_rows(file)]
        if not rows:
            raise SourceError(f"The {dataset.title} data files are empty.")
        questions = dataset.convert(rows, dataset.title)
        title = dataset.title
        name = dataset.name
    elif path.is_file():
        questions = load_jsonl(path)
        title = path.name
        name = str(path.resolve())
    else:
        raise SourceError(
            f"{source!r} is neither a question file nor a built-in set "
            f"({', '.join(builtin_names())})."
        )
    return LoadedSource(name, title, tuple(limit(questions, n)), len(questions))
