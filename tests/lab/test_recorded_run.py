"""A recorded run: journal, history database and result files, as the window starts one."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from s1desk.backends.base import GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.backends.scripted import ScriptedBackend
from s1desk.events import AnswerText, Done, ErrorEvent, Stats, StreamEvent, ThinkingEnd
from s1desk.lab.errors import SourceError
from s1desk.lab.events import ItemFinished, LabEvent, Progress, RunFinished
from s1desk.lab.journal import ITEMS_FILE, RUN_FILE
from s1desk.lab.plan import EvalPlan
from s1desk.lab.questions import AnswerKind
from s1desk.lab.recorded_run import TYPED, RecordedRun, run_directory, typed_question
from s1desk.lab.run_store import EvalRunStore
from s1desk.lab.sources import LoadedSource
from s1desk.thinking.machine import CloseReason, FinishReason


def reply(request: GenerationRequest) -> list[StreamEvent]:
    """Right (7) from 16 thinking tokens on, wrong below."""
    budget = request.policy.max_thinking
    return [
        ThinkingEnd(reason=CloseReason.CAP, thinking_tokens=budget),
        AnswerText(f"Answer: {7 if budget >= 16 else 3}"),
        Stats(0, 0, budget, 2, 0, 0.0, 0.0, 0.0, 0.0),
        Done(FinishReason.STOP),
    ]


def collect(
    runner: asyncio.Runner, run: RecordedRun, cancel: CancelToken | None = None
) -> list[LabEvent]:
    async def go() -> list[LabEvent]:
        return [e async for e in run.events(cancel)]

    return runner.run(go())


def test_typed_question_needs_text_and_an_answer() -> None:
    source = typed_question("  What is 6 + 1?\nThink it over.  ", " 7 ")
    assert source.name == TYPED
    assert source.title == "What is 6 + 1?"
    (q,) = source.questions
    assert (q.question, q.answer, q.kind) == (
        "What is 6 + 1?\nThink it over.",
        "7",
        AnswerKind.INTEGER,
    )
    with pytest.raises(SourceError, match="Write a question"):
        typed_question("  ", "7")
    with pytest.raises(SourceError, match="answer you expect"):
        typed_question("What is 6 + 1?", "")


def test_run_directories_are_new(tmp_path: Path) -> None:
    first = run_directory("a/b c", tmp_path)
    assert first.parent == tmp_path
    assert first.name.endswith("-a-b-c")
    first.mkdir()
    second = run_directory("a/b c", tmp_path)
    assert second != first
    assert second.name == first.name + "-2"


def test_a_run_is_journalled_kept_in_the_history_and_written(
    runner: asyncio.Runner, tmp_path: Path
) -> None:
    source = typed_question("What is 6 + 1?", "7")
    plan = EvalPlan(budgets=(0, 8, 16, 32))
    directory = tmp_path / "run"
    warnings: list[str] = []
    with EvalRunStore.open(tmp_path / "history.sqlite3") as store:
        run = RecordedRun(
            source, plan, ScriptedBackend(reply, rate=100_000), directory,
            store=store, warn=warnings.append,
        )  # fmt: skip
        events = collect(runner, run)
        assert run.run_id is not None
        (record,) = store.runs()
        items = store.items(run.run_id)
    assert not warnings
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    assert (finished.status, finished.done, finished.total) == ("finished", 4, 4)
    assert finished.out_dir == str(directory)
    assert [isinstance(e, ItemFinished) for e in events[:-1]] == [True, False] * 4
    assert [e.done for e in events if isinstance(e, Progress)] == [1, 2, 3, 4]
    assert [(p.budget, p.correct) for p in finished.points] == [(0, 0), (8, 0), (16, 1), (32, 1)]
    # The history: the run, its points and every generation with its texts.
    assert (record.source, record.title, record.status) == (TYPED, "What is 6 + 1?", "finished")
    assert [p["budget"] for p in record.points] == [0, 8, 16, 32]
    assert [(i.budget, i.correct, i.answer) for i in items] == [
        (0, False, "Answer: 3"),
        (8, False, "Answer: 3"),
        (16, True, "Answer: 7"),
        (32, True, "Answer: 7"),
    ]
    # The run directory, as s1desk eval leaves it.
    assert json.loads((directory / RUN_FILE).read_text())["source"] == TYPED
    assert len((directory / ITEMS_FILE).read_text().splitlines()) == 4
    results = json.loads((directory / "results.json").read_text())
    assert results["run"]["status"] == "finished"
    assert (directory / "scaling.png").stat().st_size > 1000


def test_a_stopped_run_is_recorded_as_interrupted(runner: asyncio.Runner, tmp_path: Path) -> None:
    source = LoadedSource("sums", "Sums", typed_question("What is 6 + 1?", "7").questions, 1)
    cancel = CancelToken()
    seen: list[LabEvent] = []

    async def go() -> None:
        backend = ScriptedBackend(reply, rate=20)  # 50 ms a generation: time to stop
        run = RecordedRun(
            source, EvalPlan(budgets=(0, 8, 16)), backend, tmp_path / "r", store=store
        )
        async for event in run.events(cancel):
            seen.append(event)
            if isinstance(event, ItemFinished):
                cancel.cancel()

    with EvalRunStore.open(tmp_path / "history.sqlite3") as store:
        runner.run(go())
        (record,) = store.runs()
    finished = seen[-1]
    assert isinstance(finished, RunFinished)
    assert (finished.status, finished.done, finished.total) == ("interrupted", 1, 3)
    assert record.status == "interrupted"


def test_a_failing_backend_ends_the_run_with_its_message(
    runner: asyncio.Runner, tmp_path: Path
) -> None:
    backend = ScriptedBackend([ErrorEvent(message="the server went away", kind="X")])
    run = RecordedRun(
        typed_question("What is 6 + 1?", "7"), EvalPlan(budgets=(0,)), backend, tmp_path / "r"
    )
    (finished,) = collect(runner, run)
    assert isinstance(finished, RunFinished)
    assert finished.status == "failed"
    assert "the server went away" in finished.message


def test_history_failures_are_warnings(runner: asyncio.Runner, tmp_path: Path) -> None:
    store = EvalRunStore.open(tmp_path / "history.sqlite3")
    store.close()  # every write now fails
    warnings: list[str] = []
    run = RecordedRun(
        typed_question("What is 6 + 1?", "7"), EvalPlan(budgets=(0, 16)),
        ScriptedBackend(reply, rate=100_000), tmp_path / "r", store=store, warn=warnings.append,
    )  # fmt: skip
    finished = collect(runner, run)[-1]
    assert isinstance(finished, RunFinished)
    assert finished.status == "finished"  # the run goes on, in its directory
    assert len(warnings) == 1
    assert warnings[0].startswith("The run is not added to the history")
    assert (tmp_path / "r" / "results.json").exists()
