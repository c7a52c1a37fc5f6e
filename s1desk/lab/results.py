"""The result files of a run: ``results.json``, ``results.csv`` and the plot."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from s1desk.lab.items import ScoredItem
from s1desk.lab.journal import write_atomic
from s1desk.lab.points import Point

JSON_FILE = "results.json"
CSV_FILE = "results.csv"

_CSV_COLUMNS = [
    "question_id",
    "budget",
    "sample",
    "thinking_tokens",
    "answer_tokens",
    "waits",
    "thinking_end",
    "finish",
    "extracted",
    "correct",
    "why",
    "seconds",
]


def _ordered(items: Sequence[ScoredItem], order: dict[str, int]) -> list[ScoredItem]:
    return sorted(items, key=lambda i: (i.budget, order.get(i.question_id, 0), i.sample))


def write_results(
    directory: Path,
    run: dict[str, Any],
    points: Sequence[Point],
    items: Sequence[ScoredItem],
    question_order: Sequence[str],
) -> list[Path]:
    """Write the JSON and CSV results (each replaced whole); returns their paths."""
    order = {qid: i for i, qid in enumerate(question_order)}
    ordered = _ordered(items, order)
    payload = {
        "run": run,
        "points": [p.to_dict() for p in points],
        "items": [_item(i) for i in ordered],
    }
    json_path = directory / JSON_FILE
    write_atomic(json_path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_CSV_COLUMNS)
    for item in ordered:
        row = _item(item)
        writer.writerow(["" if row[c] is None else row[c] for c in _CSV_COLUMNS])
    csv_path = directory / CSV_FILE
    write_atomic(csv_path, buffer.getvalue())
    return [json_path, csv_path]


def _item(item: ScoredItem) -> dict[str, Any]:
    data = item.to_dict(texts=False)
    del data["vote"]
    return data
