"""``s1desk eval`` decodes a question's samples together on the local engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lab.sums import LAB_CONTEXT, SUMS, write_questions

from s1desk.cli import main

pytestmark = pytest.mark.model


def test_samples_in_groups_of_parallel_keep_control_and_their_own_seeds(
    model_path: Path, tmp_path: Path, lab_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_questions(tmp_path / "one.jsonl", SUMS[:1])
    out = tmp_path / "out"
    code = main(
        ["eval", str(source), "--model", str(model_path), "--budgets", "6", "--mode", "force",
         "--samples", "3", "--parallel", "2", "--temperature", "1.0", "--ctx", str(LAB_CONTEXT),
         "--max-answer", "12", "--out", str(out), "--json"]
    )  # fmt: skip
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert events[-1]["status"] == "finished"
    items = json.loads((out / "results.json").read_text())["items"]
    assert sorted(i["sample"] for i in items) == [0, 1, 2]
    # Budget forcing per sequence: every sample thought exactly its budget.
    assert [i["thinking_tokens"] for i in items] == [6, 6, 6]
    assert all(i["finish"] in ("stop", "length") for i in items)
    texts = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    assert len({t["reasoning"] for t in texts}) > 1, "each sample draws with its own seed"
