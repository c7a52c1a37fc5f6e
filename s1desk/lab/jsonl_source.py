"""A question set of your own: a JSON Lines file of ``{"question", "answer"[, "choices"]}``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from s1desk.lab.errors import SourceError
from s1desk.lab.questions import LETTERS, Question, kind_for
from s1desk.lab.tables import json_lines


def _text(row: dict[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SourceError(f"{where}: {key!r} must be text (or a number), not {value!r}")
    text = str(value).strip()
    if not text:
        raise SourceError(f"{where}: {key!r} is empty")
    return text


def _choices(row: dict[str, Any], where: str) -> tuple[str, ...]:
    value = row.get("choices")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
        raise SourceError(f"{where}: 'choices' must be a list of non-empty texts")
    if not 2 <= len(value) <= len(LETTERS):
        raise SourceError(f"{where}: 'choices' needs 2 to {len(LETTERS)} entries, has {len(value)}")
    return tuple(c.strip() for c in value)


def _letter(answer: str, choices: tuple[str, ...], where: str) -> str:
    """The gold letter: the answer is a letter, or the text of one choice."""
    letters = LETTERS[: len(choices)]
    if len(answer) == 1 and answer.upper() in letters:
        return answer.upper()
    for i, choice in enumerate(choices):
        if answer.casefold() == choice.casefold():
            return letters[i]
    raise SourceError(
        f"{where}: the answer {answer!r} is neither a letter {letters[0]}-{letters[-1]} "
        "nor the text of a choice"
    )


def load_jsonl(path: Path) -> list[Question]:
    """The questions of ``path``; any bad line stops with its line number and what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise SourceError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    questions: list[Question] = []
    seen: set[str] = set()
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    for number, row in zip(lines, json_lines(text, str(path)), strict=True):
        where = f"{path}, line {number}"
        question = _text(row, "question", where)
        answer = _text(row, "answer", where)
        choices = _choices(row, where)
        if choices:
            answer = _letter(answer, choices, where)
        qid = _text(row, "id", where) if "id" in row else str(len(questions) + 1)
        if qid in seen:
            raise SourceError(f"{where}: the id {qid!r} is used twice")
        seen.add(qid)
        questions.append(Question(qid, question, answer, kind_for(answer, choices), choices))
    if not questions:
        raise SourceError(f"{path} has no questions")
    return questions
