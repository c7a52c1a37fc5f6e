"""The runner's bookkeeping, exactly: votes, the batched-samples path, failures, the journal.

The replay backend answers by seed, so each vote is known in advance; the real
model runs in test_lab_eval.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path

import pytest

from s1desk.backends.base import GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.backends.scripted import ScriptedBackend
from s1desk.events import AnswerText, Done, ErrorEvent, Stats, StreamEvent, ThinkingEnd
from s1desk.lab.batching import SampleStreamer
from s1desk.lab.errors import RunDirectoryError
from s1desk.lab.events import ItemFinished, LabEvent, RunFinished
from s1desk.lab.journal import ITEMS_FILE, Journal
from s1desk.lab.plan import EvalPlan, Mode
from s1desk.lab.points import vote_sizes
from s1desk.lab.questions import AnswerKind, Question
from s1desk.lab.runner import EvalRun
from s1desk.lab.stats import majority, wilson
from s1desk.sampling import SamplerSettings
from s1desk.thinking.machine import CloseReason, FinishReason

QUESTIONS = [Question(str(i), f"{i} + {i}?", str(2 * i), AnswerKind.INTEGER) for i in (1, 2, 3)]
#: Answers by question and seed: q1 right twice of four (a tie broken by order),
#: q2 right once of four, q3 right three times of four.
ANSWERS = {
    "1 + 1?": ["2", "5", "2", "5"],
    "2 + 2?": ["9", "4", "9", "7"],
    "3 + 3?": ["6", "6", "1", "6"],
}


def reply(request: GenerationRequest) -> list[StreamEvent]:
    seed = request.sampler.seed or 0
    text = f"Answer: {ANSWERS[request.question][seed]}"
    thinking = min(request.policy.max_thinking, 10 + seed)
    return [
        ThinkingEnd(reason=CloseReason.NATURAL, thinking_tokens=thinking),
        AnswerText(text),
        Stats(0, 0, thinking, 3, 0, 0.0, 0.0, 0.0, 0.0),
        Done(FinishReason.STOP),
    ]


class BatchedReplay(ScriptedBackend):
    """A replay backend that also offers several samples at once, interleaved."""

    def __init__(self) -> None:
        super().__init__(reply, rate=100_000)
        self.batches: list[int] = []

    async def stream_samples(
        self,
        request: GenerationRequest,
        samplers: Sequence[SamplerSettings],
        cancel: CancelToken | None = None,
    ) -> AsyncGenerator[tuple[int, StreamEvent], None]:
        self.batches.append(len(samplers))
        scripts = [reply(GenerationRequest(request.question, sampler=s)) for s in samplers]
        for step in range(max(len(s) for s in scripts)):
            for index, script in enumerate(scripts):
                if step < len(script):
                    yield index, script[step]
            await asyncio.sleep(0)


def run(
    runner: asyncio.Runner, tmp_path: Path, backend: ScriptedBackend, plan: EvalPlan, **kw: int
) -> tuple[list[LabEvent], Journal]:
    journal = Journal.open(
        tmp_path / "run", {"plan": plan.to_dict()}, resume=kw.pop("resume", 0) == 1
    )

    async def go() -> list[LabEvent]:
        engine = EvalRun(QUESTIONS, plan, [backend], journal, parallel=kw.get("parallel", 1))
        return [e async for e in engine.events()]

    try:
        return runner.run(go()), journal
    finally:
        journal.close()


def test_first_sample_and_majority_points(runner: asyncio.Runner, tmp_path: Path) -> None:
    plan = EvalPlan(budgets=(0, 20), samples=4, temperature=0.7)
    events, journal = run(runner, tmp_path, ScriptedBackend(reply, rate=100_000), plan)
    done = events[-1]
    assert isinstance(done, RunFinished)
    assert (done.status, done.done, done.total) == ("finished", 24, 24)
    by = {(p.budget, p.k): p for p in done.points}
    assert sorted(by) == [(0, 1), (0, 2), (0, 4), (20, 1), (20, 2), (20, 4)]
    # First samples: 2 right, 9 wrong, 6 right.
    assert (by[20, 1].correct, by[20, 1].n) == (2, 3)
    # maj@2: q1 [2, 5] tie -> 2 (first given) right; q2 [9, 4] -> 9 wrong; q3 [6, 6] right.
    assert by[20, 2].correct == 2
    # maj@4: q1 2,5,2,5 -> 2 right; q2 9,4,9,7 -> 9 wrong; q3 6,6,1,6 -> 6 right.
    assert by[20, 4].correct == 2
    assert by[20, 4].mean_thinking_tokens == pytest.approx(11.5)  # seeds 0-3: 10..13
    assert by[0, 1].mean_thinking_tokens == 0
    assert (by[20, 1].ci_low, by[20, 1].ci_high) == pytest.approx(wilson(2, 3))
    items = [e for e in events if isinstance(e, ItemFinished)]
    assert len(items) == 24
    assert len({(i.item.question_id, i.item.budget, i.item.sample) for i in items}) == 24
    assert len(journal.items) == 24


def test_samples_run_batched_when_the_backend_offers_it(
    runner: asyncio.Runner, tmp_path: Path
) -> None:
    backend = BatchedReplay()
    assert isinstance(backend, SampleStreamer)
    plan = EvalPlan(budgets=(20,), samples=4, temperature=0.7)
    events, _ = run(runner, tmp_path, backend, plan)
    assert backend.batches == [4, 4, 4]
    assert backend.requests == []  # never one stream per sample
    done = events[-1]
    assert isinstance(done, RunFinished)
    assert {(p.k, p.correct) for p in done.points} == {(1, 2), (2, 2), (4, 2)}


def test_resume_runs_only_what_is_missing(runner: asyncio.Runner, tmp_path: Path) -> None:
    plan = EvalPlan(budgets=(0, 20), samples=2, temperature=0.7)
    first = ScriptedBackend(reply, rate=100_000)
    run(runner, tmp_path, first, plan)
    lines = (tmp_path / "run" / ITEMS_FILE).read_text().splitlines()
    # Keep 5 items and half of the 6th, as a kill in the middle of a write leaves it.
    (tmp_path / "run" / ITEMS_FILE).write_text("\n".join(lines[:5]) + "\n" + lines[5][:40])
    second = ScriptedBackend(reply, rate=100_000)
    _, journal = run(runner, tmp_path, second, plan, resume=1)
    assert len(second.requests) == 12 - 5
    assert len(journal.items) == 12
    rows = [json.loads(x) for x in (tmp_path / "run" / ITEMS_FILE).read_text().splitlines()]
    keys = [(r["question_id"], r["budget"], r["sample"]) for r in rows]
    assert len(keys) == len(set(keys)) == 12
    with pytest.raises(RunDirectoryError, match="already holds a run"):
        Journal.open(tmp_path / "run", {"plan": plan.to_dict()}, resume=False)
    other = EvalPlan(budgets=(0,), samples=2, temperature=0.7)
    with pytest.raises(RunDirectoryError, match="other settings"):
        Journal.open(tmp_path / "run", {"plan": other.to_dict()}, resume=True)


def test_a_failed_generation_stops_the_run_and_is_not_committed(
    runner: asyncio.Runner, tmp_path: Path
) -> None:
    def failing(request: GenerationRequest) -> list[StreamEvent]:
        if request.question == "2 + 2?":
            return [ErrorEvent("the server went away", "network")]
        return reply(request)

    events, journal = run(
        runner, tmp_path, ScriptedBackend(failing, rate=100_000), EvalPlan(budgets=(0,))
    )
    done = events[-1]
    assert isinstance(done, RunFinished)
    assert done.status == "failed"
    assert done.message == "the server went away"
    assert {k.question_id for k in journal.items} == {"1"}


def test_cancel_interrupts(runner: asyncio.Runner, tmp_path: Path) -> None:
    plan = EvalPlan(budgets=(0,))
    journal = Journal.open(tmp_path / "run", {}, resume=False)
    cancel = CancelToken()

    async def go() -> list[LabEvent]:
        # Slow enough that the worker waits on the stream, as on a real backend.
        engine = EvalRun(QUESTIONS, plan, [ScriptedBackend(reply, rate=50)], journal)
        out: list[LabEvent] = []
        async for event in engine.events(cancel):
            out.append(event)
            cancel.cancel()
        return out

    events = runner.run(go())
    journal.close()
    done = events[-1]
    assert isinstance(done, RunFinished)
    assert done.status == "interrupted"
    assert done.done == len(journal.items) < 3


def test_force_mode_makes_the_budget_exact() -> None:
    plan = EvalPlan(budgets=(0, 64), mode=Mode.FORCE)
    policy = plan.policy(64)
    assert policy.min_thinking == policy.max_thinking == 64
    assert policy.max_waits == 64
    assert plan.policy(0).max_thinking == 0
    cap = EvalPlan(budgets=(64,)).policy(64)
    assert (cap.min_thinking, cap.max_thinking) == (0, 64)
    assert plan.sampler(3).seed == 3


def test_votes_and_intervals() -> None:
    assert majority(["a", None, "b", "b", "a"]) == "a"
    assert majority([None, None]) is None
    assert vote_sizes(1) == [1]
    assert vote_sizes(6) == [1, 2, 4, 6]
    assert vote_sizes(8) == [1, 2, 4, 8]
    low, high = wilson(0, 10)
    assert low == 0
    assert high == pytest.approx(0.2775, abs=1e-4)
    assert wilson(10, 10)[1] == pytest.approx(1)
    assert wilson(0, 0) == (0.0, 1.0)
