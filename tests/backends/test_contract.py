"""Budget forcing as the s1 paper defines it, on every backend, on the real test model.

Greedy decoding (temperature 0) makes each case deterministic.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from s1desk.backends.base import Backend, GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.events import (
    AnswerText,
    Done,
    StreamEvent,
    ThinkingEnd,
    ThinkingText,
    WaitInjected,
)
from s1desk.thinking.format import Turn
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.thinking.policy import BudgetPolicy
from support.events import Transcript

pytestmark = pytest.mark.model

LONG_QUESTION = "Explain in detail, step by step, how a hash table handles collisions."
SHORT_QUESTION = "What is 2+2? Reply with just the number."


def run(runner: asyncio.Runner, backend: Backend, request: GenerationRequest) -> Transcript:
    async def go() -> list[StreamEvent]:
        return [e async for e in backend.stream(request)]

    return Transcript(runner.run(go()))


def ask(question: str, **policy: object) -> GenerationRequest:
    return GenerationRequest(question=question, policy=BudgetPolicy(**policy))  # type: ignore[arg-type]


def test_thinking_never_exceeds_the_cap(runner: asyncio.Runner, backend: Backend) -> None:
    t = run(runner, backend, ask(LONG_QUESTION, max_thinking=24, max_answer=16))
    assert t.thinking_end.reason is CloseReason.CAP
    assert t.thinking_end.thinking_tokens == 24
    assert t.stats.thinking_tokens == 24
    assert t.reasoning.strip(), "the model thought before the cap"
    assert t.answer.startswith("Final Answer:")
    assert t.done.reason in (FinishReason.STOP, FinishReason.LENGTH)


def test_minimum_injects_wait_and_lands_inside_the_bounds(
    runner: asyncio.Runner, backend: Backend
) -> None:
    policy = {"max_thinking": 120, "min_thinking": 40, "max_waits": 6, "max_answer": 16}
    t = run(runner, backend, ask(SHORT_QUESTION, **policy))
    assert t.waits, "the model stopped early, so Wait must have been injected"
    assert [w.index for w in t.waits] == list(range(1, len(t.waits) + 1))
    assert all(w.text == "Wait" for w in t.waits)
    assert all(w.at < 40 for w in t.waits), "Wait only below the minimum"
    n = t.thinking_end.thinking_tokens
    assert t.stats.waits == len(t.waits)
    assert 40 <= n <= 120 or len(t.waits) == 6
    assert "Wait" in t.reasoning


def test_without_minimum_the_model_ends_thinking_itself(
    runner: asyncio.Runner, backend: Backend
) -> None:
    t = run(runner, backend, ask("What is 2+2? Explain briefly.", max_thinking=200, max_answer=16))
    assert t.thinking_end.reason is CloseReason.NATURAL
    assert not t.waits
    assert 0 < t.thinking_end.thinking_tokens < 200


def test_zero_budget_answers_at_once(runner: asyncio.Runner, backend: Backend) -> None:
    t = run(runner, backend, ask(SHORT_QUESTION, max_thinking=0, max_answer=16))
    assert t.thinking_end.reason is CloseReason.NONE
    assert t.thinking_end.thinking_tokens == 0
    assert not t.of(ThinkingText)
    assert "4" in t.answer
    assert t.done.reason is FinishReason.STOP


def test_answer_follows_the_thinking(runner: asyncio.Runner, backend: Backend) -> None:
    t = run(runner, backend, ask(LONG_QUESTION, max_thinking=16, max_answer=8))
    kinds = [type(e) for e in t.events]
    end = kinds.index(ThinkingEnd)
    assert all(k not in (AnswerText,) for k in kinds[:end])
    assert all(k not in (ThinkingText, WaitInjected) for k in kinds[end:])
    assert t.answer
    assert t.stats.answer_tokens == 8
    assert t.done.reason is FinishReason.LENGTH


def test_a_second_turn_reuses_the_cached_prefix(runner: asyncio.Runner, backend: Backend) -> None:
    # Long enough that servers caching whole blocks (vLLM: 128 tokens on the
    # CPU) hold most of it too.
    notes = " ".join(f"Item {i} weighs {i * 3 % 17} grams." for i in range(40))
    question = f"Here are my notes: {notes} Which item is the heaviest?"
    first = run(runner, backend, ask(question, max_thinking=8, max_answer=8))
    assert first.stats.prompt_tokens > 256
    follow_up = GenerationRequest(
        question="And the lightest?",
        history=[Turn("user", question), Turn("assistant", first.answer)],
        policy=BudgetPolicy(max_thinking=8, max_answer=8),
    )
    second = run(runner, backend, follow_up)
    s = second.stats
    assert s.cached_prompt_tokens >= 256
    assert s.prompt_tokens - s.cached_prompt_tokens < s.prompt_tokens / 4


def test_stop_mid_thinking_is_prompt_and_the_backend_stays_usable(
    runner: asyncio.Runner, backend: Backend
) -> None:
    request = ask(LONG_QUESTION, max_thinking=400, max_answer=8)
    cancel = CancelToken()

    async def go() -> tuple[list[StreamEvent], int, float]:
        events: list[StreamEvent] = []
        after_cancel = 0
        stop_at = 0.0
        async for e in backend.stream(request, cancel):
            events.append(e)
            if cancel.cancelled and isinstance(e, ThinkingText):
                after_cancel += 1
            if len(events) == 10 and not cancel.cancelled:
                cancel.cancel()
                stop_at = time.perf_counter()
        return events, after_cancel, time.perf_counter() - stop_at

    events, after_cancel, latency = runner.run(go())
    t = Transcript(events)
    assert t.done.reason is FinishReason.CANCELLED
    assert after_cancel <= 1, "stop takes effect within one token"
    assert latency < 2.0
    assert t.stats.thinking_tokens < 400

    again = run(runner, backend, ask(SHORT_QUESTION, max_thinking=0, max_answer=16))
    assert "4" in again.answer
    assert again.done.reason is FinishReason.STOP


def test_closing_the_stream_early_cancels(runner: asyncio.Runner, backend: Backend) -> None:
    async def go() -> None:
        stream = backend.stream(ask(LONG_QUESTION, max_thinking=400))
        async for e in stream:
            if isinstance(e, ThinkingText):
                break
        await stream.aclose()  # type: ignore[attr-defined]

    runner.run(go())
    again = run(runner, backend, ask(SHORT_QUESTION, max_thinking=0, max_answer=16))
    assert isinstance(again.events[-1], Done)


def test_greedy_runs_are_reproducible(runner: asyncio.Runner, backend: Backend) -> None:
    request = ask(LONG_QUESTION, max_thinking=20, max_answer=10)
    a = run(runner, backend, request)
    b = run(runner, backend, request)
    assert (a.reasoning, a.answer) == (b.reasoning, b.answer)
