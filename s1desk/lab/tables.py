"""Reading a data file of a question set into rows: Parquet, JSON Lines, JSON or CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from s1desk.lab.errors import SourceError

SUFFIXES = (".parquet", ".jsonl", ".json", ".csv")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Every row of ``path`` as a mapping; a file that cannot be read is a :class:`SourceError`."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
            return rows
        if suffix == ".csv":
            with path.open(encoding="utf-8", newline="") as fh:
                return [dict(row) for row in csv.DictReader(fh)]
        text = path.read_text(encoding="utf-8")
    except SourceError:
        raise
    except Exception as exc:  # pyarrow raises its own classes for every kind of bad file
        raise SourceError(f"{path.name} cannot be read as {suffix[1:]}: {exc}") from exc
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path.name} is not JSON: {exc}") from exc
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise SourceError(f"{path.name} is not a JSON list of objects")
        return data
    return json_lines(text, path.name)


def json_lines(text: str, name: str) -> list[dict[str, Any]]:
    """The objects of a JSON Lines text; blank lines are skipped, anything else is an error."""
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{name}, line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise SourceError(f"{name}, line {number}: not a JSON object")
        rows.append(row)
    return rows
