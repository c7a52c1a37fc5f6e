"""Forced text reaches the model: the engine's decisions equal a plain reference loop's.

At temperature 0 every decision is deterministic, so an independent, plainly
written greedy loop over the same llama.cpp build (in this process, the same
sequence of evaluations) must produce exactly the engine's trajectory: where
each Wait went, how long thinking lasted, the reasoning and the answer text,
and how many tokens were evaluated. A loop that forgot to evaluate a Wait (or
the answer delimiter, or ``Final Answer:``) onto the KV cache, or that
re-evaluated the whole context when forcing, fails here by construction.
"""

from __future__ import annotations

import asyncio
import codecs
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from s1desk.backends.base import GenerationRequest
from s1desk.backends.engine.safe_mode import SafeMode
from s1desk.backends.llama_session import LlamaSession, SamplerChain
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig
from s1desk.events import StreamEvent
from s1desk.sampling import SamplerSettings
from s1desk.thinking.format import ANSWER_OPEN, THINK_OPEN, Turn, render_prompt_parts
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.thinking.policy import BudgetPolicy
from support.events import Transcript

pytestmark = pytest.mark.model

N_CTX = 1024
#: One thread on both sides, so nothing but the decisions can differ.
THREADS = 1


@dataclass
class Reference:
    reasoning: str = ""
    answer: str = ""
    waits_at: list[int] = field(default_factory=list)
    thinking_tokens: int = 0
    answer_tokens: int = 0
    close: CloseReason | None = None
    finish: FinishReason | None = None
    prompt_tokens: int = 0
    evaluated: int = 0


def reference(session: LlamaSession, request: GenerationRequest) -> Reference:
    """The paper's budget forcing, written out plainly, one token at a time."""
    policy = request.policy
    prompt = session.tokenize_parts(
        render_prompt_parts(request.history, request.question, request.system_prompt)
    ) + session.tokenize(THINK_OPEN)
    session.reset()
    before = session.evaluated
    session.prefill(prompt, threading.Event())
    ref = Reference(prompt_tokens=len(prompt))
    chain = SamplerChain(SamplerSettings(), session.n_vocab)
    ends = set(session.eog_tokens) | {session.single_token("<|im_start|>")}
    text = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def force(tokens: list[int]) -> None:
        session.eval(tokens)
        chain.accept(tokens)

    def close(reason: CloseReason) -> None:
        nonlocal text
        ref.reasoning += text.decode(b"", final=True)
        text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        ref.close = reason
        forced = session.tokenize(ANSWER_OPEN)
        if reason is CloseReason.CAP:
            forced += session.tokenize(policy.cap_suffix, special=False)
            ref.answer += policy.cap_suffix
        force(forced)

    while ref.close is None:
        token = chain.sample(session.ctx)
        if token in ends:
            if ref.thinking_tokens < policy.min_thinking and len(ref.waits_at) < policy.max_waits:
                ref.reasoning += text.decode(b"", final=True)
                ref.waits_at.append(ref.thinking_tokens)
                wait = session.tokenize(policy.wait_text, special=False)
                wait = wait[: policy.max_thinking - ref.thinking_tokens]
                force(wait)
                ref.reasoning += policy.wait_text
                ref.thinking_tokens += len(wait)
                if ref.thinking_tokens == policy.max_thinking:
                    close(CloseReason.CAP)
            else:
                close(CloseReason.NATURAL)
            continue
        ref.reasoning += text.decode(session.piece(token))
        ref.thinking_tokens += 1
        session.eval((token,))
        if ref.thinking_tokens == policy.max_thinking:
            close(CloseReason.CAP)
    while ref.finish is None:
        token = chain.sample(session.ctx)
        if token in ends:
            ref.finish = FinishReason.STOP
            break
        ref.answer += text.decode(session.piece(token))
        ref.answer_tokens += 1
        if ref.answer_tokens == policy.max_answer:
            ref.finish = FinishReason.LENGTH
            break
        session.eval((token,))
    ref.answer += text.decode(b"", final=True)
    chain.close()
    ref.evaluated = session.evaluated - before
    return ref


@pytest.fixture(scope="module")
def bare(model_path: Path) -> Iterator[LlamaSession]:
    session = LlamaSession(
        LocalModelConfig(path=model_path, n_ctx=N_CTX, n_threads=THREADS, extra_buffers=False)
    )
    yield session
    session.close()


@pytest.fixture
def engine(runner: asyncio.Runner, model_path: Path, tmp_path: Path) -> Iterator[LocalBackend]:
    """A fresh engine per test: no cached prefix computed under other batch shapes."""
    config = LocalModelConfig(path=model_path, n_ctx=N_CTX, n_threads=THREADS, extra_buffers=False)
    backend = runner.run(LocalBackend.load(config, safe_mode=SafeMode(tmp_path / "engine.json")))
    yield backend
    runner.run(backend.aclose())


def run(runner: asyncio.Runner, backend: LocalBackend, request: GenerationRequest) -> Transcript:
    async def go() -> list[StreamEvent]:
        return [e async for e in backend.stream(request)]

    return Transcript(runner.run(go()))


def assert_same(t: Transcript, ref: Reference) -> None:
    assert [w.at for w in t.waits] == ref.waits_at
    assert t.thinking_end.reason is ref.close
    assert t.thinking_end.thinking_tokens == ref.thinking_tokens
    assert t.reasoning == ref.reasoning
    assert t.answer == ref.answer
    assert t.stats.answer_tokens == ref.answer_tokens
    assert t.done.reason is ref.finish
    assert t.stats.prompt_tokens == ref.prompt_tokens
    assert t.stats.cached_prompt_tokens == 0, "a fresh engine evaluates the prompt once, whole"
    assert t.stats.evaluated_tokens == ref.evaluated


def expected_evaluated(t: Transcript, suffix_tokens: int) -> int:
    """The prompt once, every thinking token (Waits included), the forced close, the answer."""
    closing = 3 + (suffix_tokens if t.thinking_end.reason is CloseReason.CAP else 0)
    unevaluated_last = 1 if t.done.reason is FinishReason.LENGTH else 0
    return (
        t.stats.prompt_tokens
        + t.thinking_end.thinking_tokens
        + closing
        + t.stats.answer_tokens
        - unevaluated_last
    )


WAITS = GenerationRequest(
    question="What is 2+2? Reply with just the number.",
    policy=BudgetPolicy(max_thinking=120, min_thinking=40, max_waits=6, max_answer=16),
)
CAP = GenerationRequest(
    question="Explain in detail, step by step, how a hash table handles collisions.",
    policy=BudgetPolicy(max_thinking=24, max_answer=12),
)


def test_each_wait_reaches_the_model(
    runner: asyncio.Runner, engine: LocalBackend, bare: LlamaSession
) -> None:
    t = run(runner, engine, WAITS)
    ref = reference(bare, WAITS)
    assert ref.waits_at, "this question stops early on the test model, so Waits are forced"
    assert_same(t, ref)
    n = t.thinking_end.thinking_tokens
    assert 40 <= n <= 120 or len(t.waits) == 6
    assert t.stats.evaluated_tokens == expected_evaluated(t, 0)


def test_the_cap_and_its_suffix_reach_the_model(
    runner: asyncio.Runner, engine: LocalBackend, bare: LlamaSession
) -> None:
    t = run(runner, engine, CAP)
    ref = reference(bare, CAP)
    assert ref.close is CloseReason.CAP
    assert_same(t, ref)
    assert t.answer.startswith("Final Answer:")
    suffix = len(bare.tokenize("Final Answer:", special=False))
    assert t.stats.evaluated_tokens == expected_evaluated(t, suffix)


def test_a_follow_up_evaluates_only_the_new_part_of_its_prompt(
    runner: asyncio.Runner, engine: LocalBackend, bare: LlamaSession
) -> None:
    first = run(runner, engine, WAITS)
    follow = GenerationRequest(
        question="And 3+3?",
        history=(Turn("user", WAITS.question), Turn("assistant", first.answer)),
        policy=BudgetPolicy(max_thinking=8, max_answer=8),
    )
    t = run(runner, engine, follow)
    cached = t.stats.cached_prompt_tokens
    assert cached > 20, "the system prompt and the first question stay in the cache"
    suffix = len(bare.tokenize("Final Answer:", special=False))
    assert t.stats.evaluated_tokens == expected_evaluated(t, suffix) - cached
