"""The think-tags format (<think> … </think>) on the real test model, through the engine.

The test model speaks ChatML and has no ``<think>`` token: ``</think>`` is
several tokens there, so the end of thinking is found as text across token
boundaries, the case that Qwen3 or DeepSeek-R1 vocabularies never exercise.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from s1desk.backends.base import GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig
from s1desk.events import StreamEvent, ThinkingText
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.thinking.policy import BudgetPolicy, CapLanding
from support import vocab
from support.events import Transcript

pytestmark = pytest.mark.model

LONG_QUESTION = "Explain in detail, step by step, how a hash table handles collisions."
SHORT_QUESTION = "What is 2+2? Reply with just the number."
#: Text a reasoning pane must never show: a whole or a partial closing tag at its end.
PARTIAL_TAGS = ("</think>", "</think", "</thin", "</thi", "</th", "</t")


@pytest.fixture(scope="module")
def tags_backend(runner: asyncio.Runner, model_path: Path) -> Iterator[LocalBackend]:
    config = LocalModelConfig(path=model_path, n_ctx=4096, thinking_format="think-tags")
    backend = runner.run(LocalBackend.load(config))
    yield backend
    runner.run(backend.aclose())


def run(runner: asyncio.Runner, backend: LocalBackend, request: GenerationRequest) -> Transcript:
    async def go() -> list[StreamEvent]:
        return [e async for e in backend.stream(request)]

    return Transcript(runner.run(go()))


def ask(question: str, **policy: object) -> GenerationRequest:
    return GenerationRequest(question=question, policy=BudgetPolicy(**policy))  # type: ignore[arg-type]


def test_the_engine_reports_the_format(tags_backend: LocalBackend) -> None:
    assert tags_backend.loaded.thinking_format == "think-tags"
    tokens = vocab.tokenize(tags_backend.config.path, "</think>", special=True)
    assert len(tokens) > 1, "the test model has no </think> token"


def test_cap_closes_with_the_closing_tag(
    runner: asyncio.Runner, tags_backend: LocalBackend
) -> None:
    t = run(runner, tags_backend, ask(LONG_QUESTION, max_thinking=24, max_answer=16))
    assert t.thinking_end.reason is CloseReason.CAP
    assert t.thinking_end.thinking_tokens == 24
    assert t.stats.thinking_tokens == 24
    assert t.answer.startswith("Final Answer:")
    assert not t.reasoning.rstrip().endswith(PARTIAL_TAGS)
    assert "</think>" not in t.answer


def test_floor_injects_wait(runner: asyncio.Runner, tags_backend: LocalBackend) -> None:
    policy = {"max_thinking": 120, "min_thinking": 40, "max_waits": 6, "max_answer": 16}
    t = run(runner, tags_backend, ask(SHORT_QUESTION, **policy))
    assert t.waits, "the model ended thinking early, so Wait was injected"
    assert all(w.at < 40 for w in t.waits)
    assert [w.index for w in t.waits] == list(range(1, len(t.waits) + 1))
    n = t.thinking_end.thinking_tokens
    assert 40 <= n <= 120 or len(t.waits) == 6
    assert "</think>" not in t.reasoning
    assert t.done.reason in (FinishReason.STOP, FinishReason.LENGTH)


def test_zero_budget_answers_after_an_empty_block(
    runner: asyncio.Runner, tags_backend: LocalBackend
) -> None:
    t = run(runner, tags_backend, ask(SHORT_QUESTION, max_thinking=0, max_answer=16))
    assert t.thinking_end.reason is CloseReason.NONE
    assert not t.of(ThinkingText)
    assert t.stats.thinking_tokens == 0
    # The test model never learnt <think>: after an empty block it may echo a closing
    # tag instead of answering, so only the shape of the reply is checked here.
    assert t.answer
    assert t.done.reason is FinishReason.STOP
    assert "</think>" not in t.answer


def test_wrap_up_lands_softly_and_counts_its_overshoot(
    runner: asyncio.Runner, tags_backend: LocalBackend
) -> None:
    policy = BudgetPolicy(max_thinking=16, max_answer=8, landing=CapLanding.WRAP_UP)
    t = run(runner, tags_backend, GenerationRequest(question=LONG_QUESTION, policy=policy))
    end = t.thinking_end
    assert end.reason is CloseReason.CAP
    assert end.overshoot_tokens > 0
    assert end.thinking_tokens == 16 + end.overshoot_tokens
    assert t.stats.overshoot_tokens == end.overshoot_tokens
    assert t.reasoning.endswith(policy.wrap_up_text)


def test_finish_sentence_stays_within_its_grace(
    runner: asyncio.Runner, tags_backend: LocalBackend
) -> None:
    policy = BudgetPolicy(
        max_thinking=12, max_answer=8, landing=CapLanding.FINISH_SENTENCE, grace_tokens=6
    )
    t = run(runner, tags_backend, GenerationRequest(question=LONG_QUESTION, policy=policy))
    end = t.thinking_end
    assert end.reason in (CloseReason.CAP, CloseReason.NATURAL)
    assert 0 <= end.overshoot_tokens <= 6
    assert end.thinking_tokens <= 12 + 6
    assert t.stats.overshoot_tokens == end.overshoot_tokens


def test_stop_mid_thinking(runner: asyncio.Runner, tags_backend: LocalBackend) -> None:
    cancel = CancelToken()

    async def go() -> list[StreamEvent]:
        events: list[StreamEvent] = []
        async for e in tags_backend.stream(ask(LONG_QUESTION, max_thinking=400), cancel):
            events.append(e)
            if len(events) == 8:
                cancel.cancel()
        return events

    start = time.perf_counter()
    t = Transcript(runner.run(go()))
    assert t.done.reason is FinishReason.CANCELLED
    assert t.stats.thinking_tokens < 400
    assert time.perf_counter() - start < 60
    again = run(runner, tags_backend, ask(SHORT_QUESTION, max_thinking=0, max_answer=16))
    assert again.answer
    assert again.done.reason is FinishReason.STOP
