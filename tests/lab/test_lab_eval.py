"""``s1desk eval`` on the real test model: a sweep, votes, SIGKILL and resume, a real server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lab.sums import LAB_CONTEXT, SUMS, write_questions

from s1desk.cli import main
from s1desk.lab.run_store import EvalRunStore
from support.servers import MODEL_ALIAS, LlamaCppServer

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[2]


def results(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "results.json").read_text())
    return data


def json_events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_force_sweep_has_full_control_and_accuracy(
    model_path: Path,
    tmp_path: Path,
    lab_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = write_questions(tmp_path / "sums.jsonl", SUMS[:2])
    out = tmp_path / "out"
    code = main(
        ["eval", str(source), "--model", str(model_path), "--budgets", "0,12", "--mode", "force",
         "--ctx", str(LAB_CONTEXT), "--max-answer", "16", "--out", str(out), "--json"]
    )  # fmt: skip
    assert code == 0
    events = json_events(capsys.readouterr().out)
    assert [e["type"] for e in events].count("item") == 4
    assert events[-1]["type"] == "done"
    assert events[-1]["status"] == "finished"
    data = results(out)
    # Control 100%: every generation thought exactly its budget.
    assert [(i["budget"], i["thinking_tokens"]) for i in data["items"]] == [
        (0, 0), (0, 0), (12, 12), (12, 12)
    ]  # fmt: skip
    for point in data["points"]:
        assert point["accuracy"] == 1.0, data["items"]
        assert point["n"] == 2
        assert point["mean_thinking_tokens"] == point["budget"]
        assert 0 < point["ci_low"] < 1
        assert point["ci_high"] == pytest.approx(1)
    assert all(i["extracted"] in ("5", "8") and "Answer:" in i["why"] for i in data["items"])
    csv_rows = (out / "results.csv").read_text().splitlines()
    assert csv_rows[0].startswith("question_id,budget,sample,thinking_tokens")
    assert len(csv_rows) == 5
    assert (out / "scaling.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (out / "scaling.svg").read_text()
    with EvalRunStore.open() as store:
        (run,) = store.runs()
        assert run.status == "finished"
        assert run.out_dir == out.resolve()
        assert [p["accuracy"] for p in run.points] == [1.0, 1.0]
        items = store.items(run.id)
        assert len(items) == 4
        assert items[-1].answer.startswith("Final Answer:")


def test_majority_of_samples(
    model_path: Path, tmp_path: Path, lab_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_questions(tmp_path / "one.jsonl", SUMS[:1])
    out = tmp_path / "out"
    code = main(
        ["eval", str(source), "--model", str(model_path), "--budgets", "0", "--samples", "3",
         "--temperature", "0.8", "--ctx", str(LAB_CONTEXT), "--max-answer", "16",
         "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    table = capsys.readouterr().out
    assert "maj@3" in table
    data = results(out)
    assert sorted(i["sample"] for i in data["items"]) == [0, 1, 2]
    assert [(p["k"], p["metric"], p["n"]) for p in data["points"]] == [
        (1, "first", 1), (2, "maj", 1), (3, "maj", 1)
    ]  # fmt: skip
    votes = [i["extracted"] for i in data["items"]]
    right = [i["correct"] for i in data["items"]]
    winner = max(votes, key=lambda v: (votes.count(v), -votes.index(v)))
    assert data["points"][2]["accuracy"] == float(right[votes.index(winner)])


def test_resume_after_sigkill_generates_nothing_twice(
    model_path: Path, tmp_path: Path, lab_home: Path
) -> None:
    source = write_questions(tmp_path / "sums.jsonl", SUMS)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "s1desk", "eval", str(source), "--model", str(model_path),
            "--budgets", "0", "--ctx", str(LAB_CONTEXT), "--max-answer", "16",
            "--out", str(out), "--json"]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    first = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
    assert first.stdout is not None
    killed_after: list[dict[str, Any]] = []
    for line in first.stdout:
        event = json.loads(line)
        if event["type"] == "item":
            killed_after.append(event)
            first.send_signal(signal.SIGKILL)
            break
    first.wait(timeout=60)
    first.stdout.close()
    assert first.returncode == -signal.SIGKILL
    assert len(killed_after) == 1
    committed = (out / "items.jsonl").read_text().splitlines()
    assert 1 <= len(committed) <= 2  # the next one may have been written before the kill
    again = subprocess.run(
        [*args, "--resume"], capture_output=True, text=True, env=env, timeout=600
    )
    assert again.returncode == 0, again.stderr
    events = json_events(again.stdout)
    resumed = [(e["question_id"], e["sample"]) for e in events if e["type"] == "item"]
    assert len(resumed) == 3 - len(committed)
    assert ("1", 0) not in resumed
    rows = [json.loads(x) for x in (out / "items.jsonl").read_text().splitlines()]
    assert sorted(r["question_id"] for r in rows) == ["1", "2", "3"]
    done = events[-1]
    assert (done["type"], done["status"], done["done"], done["total"]) == ("done", "finished", 3, 3)
    with EvalRunStore.open() as store:
        (run,) = store.runs()
        assert len(store.items(run.id)) == 3


def test_remote_server_in_parallel(
    lab_server: LlamaCppServer, tmp_path: Path, lab_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_questions(tmp_path / "sums.jsonl", SUMS[:2])
    out = tmp_path / "out"
    code = main(
        ["eval", str(source), "--remote", lab_server.base_url, "--model", MODEL_ALIAS,
         "--budgets", "0,8", "--mode", "force", "--parallel", "2", "--ctx", str(LAB_CONTEXT),
         "--max-answer", "16", "--out", str(out), "--json"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().out
    data = results(out)
    assert data["run"]["backend"].endswith("(llama_cpp)") or "remote" in data["run"]["backend"]
    assert sorted((i["budget"], i["thinking_tokens"]) for i in data["items"]) == [
        (0, 0), (0, 0), (8, 8), (8, 8)
    ]  # fmt: skip
    assert [p["accuracy"] for p in data["points"]] == [1.0, 1.0]


def test_bad_input_gets_one_clear_message(
    model_path: Path, tmp_path: Path, lab_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "x"}\n')
    assert main(["eval", str(bad), "--model", str(model_path), "--budgets", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ")
    assert "line 1" in err
    assert "Traceback" not in err
    source = write_questions(tmp_path / "s.jsonl", SUMS[:1])
    out = tmp_path / "taken"
    out.mkdir()
    (out / "run.json").write_text("{}")
    assert main(["eval", str(source), "--model", str(model_path), "--out", str(out), "--json"]) == 1
    (event,) = json_events(capsys.readouterr().out)
    assert event["type"] == "error"
    assert "already holds a run" in event["message"]
    with pytest.raises(SystemExit):
        main(["eval", str(source), "--model", str(model_path), "--budgets", "0,x"])
