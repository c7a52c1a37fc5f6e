"""Question sets: your own JSONL file, and s1's benchmarks fetched from a loopback hub.

Layouts served here (assumed from the repositories' published form; Hugging Face
is unreachable from the tests): the AIME sets as ``data/train-00000-of-00001.parquet``
(``push_to_hub``'s layout), MATH500 as ``test.jsonl`` beside ``train.jsonl``, GPQA
as ``gpqa_diamond.csv`` among the other GPQA CSVs, gated.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from s1desk.lab.builtin import pick_files
from s1desk.lab.errors import SourceError
from s1desk.lab.questions import AnswerKind
from s1desk.lab.sources import load_source
from s1desk.lab.subset import limit
from support.hub_server import HostedFile, HubServer

AIME_REPO = "simplescaling/aime24_nofigures"
MATH_REPO = "simplescaling/openaimath"
GPQA_REPO = "Idavidrein/gpqa"
TOKEN = "hf_lab_test_token"


def _aime(tmp_path: Path) -> Path:
    path = tmp_path / "aime.parquet"
    table = pa.table(
        {
            "id": [f"2024-I-{i}" for i in range(1, 31)],
            "problem": [f"Problem {i}: find N." for i in range(1, 31)],
            "answer": [f"{i:03d}" for i in range(1, 31)],
            "url": ["https://example.invalid"] * 30,
        }
    )
    pq.write_table(table, path)
    return path


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _gpqa(tmp_path: Path) -> Path:
    path = tmp_path / "gpqa_diamond.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["Record ID", "Question", "Correct Answer"]
            + [f"Incorrect Answer {i}" for i in (1, 2, 3)]
            + ["High-level domain"]
        )
        for i in range(4):
            writer.writerow(
                [f"rec{i}", f"Which gas is {i}?", "argon", "neon", "xenon", "radon", "Chem"]
            )
    return path


@pytest.fixture
def hub(
    dataset_hub: HubServer, lab_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> HubServer:
    monkeypatch.setenv("HF_ENDPOINT", dataset_hub.endpoint)
    train = _jsonl(tmp_path / "train.jsonl", [{"problem": "x", "answer": "1"}] * 3)
    test = _jsonl(
        tmp_path / "test.jsonl",
        [
            {"problem": "Compute 1/2 + 0.", "answer": "\\frac{1}{2}", "unique_id": "test/a/1.json"},
            {"problem": "Compute 2+2.", "answer": "4", "unique_id": "test/a/2.json"},
        ],
    )
    dataset_hub.state.reset(
        {
            AIME_REPO: {
                "data/train-00000-of-00001.parquet": HostedFile(_aime(tmp_path)),
                "README.md": HostedFile(_jsonl(tmp_path / "README.md", [])),
            },
            MATH_REPO: {"train.jsonl": HostedFile(train), "test.jsonl": HostedFile(test)},
            GPQA_REPO: {
                "gpqa_diamond.csv": HostedFile(_gpqa(tmp_path)),
                "gpqa_main.csv": HostedFile(_gpqa(tmp_path)),
            },
        },
        token=TOKEN,
    )
    dataset_hub.state.gated = {GPQA_REPO}
    return dataset_hub


def test_aime_from_parquet_into_the_hf_cache(hub: HubServer, tmp_path: Path) -> None:
    loaded = load_source("aime24")
    assert loaded.title == "AIME 2024"
    assert len(loaded.questions) == loaded.total == 30
    first = loaded.questions[0]
    assert (first.id, first.question, first.answer) == ("2024-I-1", "Problem 1: find N.", "001")
    assert first.kind is AnswerKind.INTEGER
    cached = list(
        (tmp_path / "hf" / "hub").glob(
            "datasets--simplescaling--aime24_nofigures/snapshots/*/data/*.parquet"
        )
    )
    assert len(cached) == 1
    # Once cached it loads with the hub unreachable.
    requests = len(hub.state.log)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
        assert load_source("aime24").questions == loaded.questions
    assert len(hub.state.log) == requests


def test_limit_is_a_reproducible_nested_subset(hub: HubServer) -> None:
    five = load_source("aime24", 5).questions
    again = load_source("aime24", 5).questions
    ten = load_source("aime24", 10).questions
    assert five == again
    assert len(five) == 5
    assert len(ten) == 10
    assert set(five) <= set(ten)
    order = [q.id for q in load_source("aime24").questions]
    assert [q.id for q in ten] == [i for i in order if i in {q.id for q in ten}]
    assert limit(list(five), None) == list(five)


def test_math500_reads_the_test_split_only(hub: HubServer) -> None:
    loaded = load_source("math500")
    assert [q.id for q in loaded.questions] == ["test/a/1.json", "test/a/2.json"]
    assert loaded.questions[0].kind is AnswerKind.MATH
    assert loaded.questions[0].answer == "\\frac{1}{2}"


def test_gated_gpqa_says_to_log_in_then_loads_with_a_token(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SourceError, match=r"gated.*hf auth login") as info:
        load_source("gpqa")
    assert f"{hub.endpoint}/datasets/{GPQA_REPO}" in str(info.value)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    loaded = load_source("gpqa")
    assert len(loaded.questions) == 4
    q = loaded.questions[0]
    assert q.kind is AnswerKind.CHOICE
    assert sorted(q.choices) == ["argon", "neon", "radon", "xenon"]
    assert q.choices["ABCD".index(q.answer)] == "argon"
    assert "\n\nA) " in q.prompt
    assert "\nD) " in q.prompt
    # The shuffle is seeded by the record: the same letters on every run.
    assert load_source("gpqa").questions == loaded.questions
    # Only the diamond file was fetched.
    assert not hub.state.requests_for("gpqa_main.csv")


def test_hub_unreachable_says_so(lab_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(SourceError, match="Cannot reach the Hugging Face hub"):
        load_source("aime25")


def test_unknown_source(lab_home: Path) -> None:
    with pytest.raises(SourceError, match="neither a question file nor a built-in set"):
        load_source("no-such-set")


def test_jsonl_file_with_choices_ids_and_bad_lines(tmp_path: Path) -> None:
    good = _jsonl(
        tmp_path / "q.jsonl",
        [
            {"question": "Pick green.", "answer": "green", "choices": ["red", "green"]},
            {"id": "sum", "question": "1+1?", "answer": 2},
            {"question": "Half?", "answer": "\\frac12"},
        ],
    )
    qs = load_source(str(good)).questions
    assert [(q.id, q.answer, q.kind) for q in qs] == [
        ("1", "B", AnswerKind.CHOICE),
        ("sum", "2", AnswerKind.INTEGER),
        ("3", "\\frac12", AnswerKind.MATH),
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "a", "answer": "1"}\n\n{"question": "b"\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"bad.jsonl, line 3: not JSON"):
        load_source(str(bad))
    missing = _jsonl(tmp_path / "missing.jsonl", [{"question": "a"}])
    with pytest.raises(SourceError, match=r"line 1: 'answer' must be text"):
        load_source(str(missing))
    letter = _jsonl(tmp_path / "l.jsonl", [{"question": "a", "answer": "E", "choices": ["x", "y"]}])
    with pytest.raises(SourceError, match="neither a letter A-B"):
        load_source(str(letter))
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SourceError, match="not UTF-8"):
        load_source(str(binary))


def test_data_files_are_picked_by_split_and_format() -> None:
    assert pick_files(["README.md", "data/train-00000-of-00001.parquet"], "train") == [
        "data/train-00000-of-00001.parquet"
    ]
    assert pick_files(["train.jsonl", "test.jsonl"], "test") == ["test.jsonl"]
    assert pick_files(["test.jsonl", "data/test-0.parquet"], "test") == ["data/test-0.parquet"]
    assert pick_files(["aime.jsonl"], "train") == ["aime.jsonl"]
    assert pick_files(["train.jsonl"], "test") == []
    assert pick_files(["dataset_infos.json", "test/part.json"], "test") == ["test/part.json"]
