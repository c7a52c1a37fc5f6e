"""The tiny question set the lab's model tests use, and a writer for such files."""

from __future__ import annotations

import json
from pathlib import Path

#: Sums the test model answers right with budget forcing, in the format s1 scores.
SUMS = [
    ("What is 2 + 3? End your reply with a line of the form Answer: N", "5"),
    ("What is 4 + 4? End your reply with a line of the form Answer: N", "8"),
    ("What is 6 + 1? End your reply with a line of the form Answer: N", "7"),
]
LAB_CONTEXT = 1024


def write_questions(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text(
        "".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in rows),
        encoding="utf-8",
    )
    return path
