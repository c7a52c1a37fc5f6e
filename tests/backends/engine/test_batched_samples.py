"""K samples of one request decoded together in the engine, against the sequential path."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from s1desk.backends.base import GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.backends.engine.safe_mode import SafeMode
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig
from s1desk.events import Done, ErrorEvent, StreamEvent, ThinkingText
from s1desk.lab.batching import SampleStreamer
from s1desk.sampling import SamplerSettings
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.thinking.policy import BudgetPolicy, CapLanding
from support.events import Transcript

pytestmark = pytest.mark.model

CONTEXT = 2048
#: The model ends its thinking on this before 24 tokens, so a minimum forces Waits.
SUM = GenerationRequest(
    question="What is 7+5? Reply with just the number.",
    policy=BudgetPolicy(max_thinking=40, min_thinking=24, max_answer=12),
)
LONG = GenerationRequest(
    question="Explain in detail, step by step, how a hash table handles collisions.",
    policy=BudgetPolicy(max_thinking=400, max_answer=8),
)


@pytest.fixture(scope="module")
def backend(
    runner: asyncio.Runner, model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalBackend]:
    # Flash attention sums each sequence's own cache cells in order, skipping the
    # others' (masked) cells, so a batch computes each sequence's logits bit for
    # bit as a lone sequence does. Without it, softmax(QK)·V runs as a matrix
    # product over every cell and the sums' rounding depends on where the
    # sequence's cells lie (DESIGN.md, batched decode).
    config = LocalModelConfig(path=model_path, n_ctx=CONTEXT, n_threads=1, flash_attn=True)
    safe = SafeMode(tmp_path_factory.mktemp("engine") / "engine.json")
    b = runner.run(LocalBackend.load(config, safe_mode=safe))
    yield b
    runner.run(b.aclose())


def _prime(runner: asyncio.Runner, backend: LocalBackend, request: GenerationRequest) -> None:
    """Leave ``request``'s prompt in the cache, so every run that follows evaluates it alike.

    llama.cpp's logits for a prompt's last token differ in the last bits between
    a prompt evaluated whole (one long batch) and one found cached but for its
    last token (evaluated alone), for the sequential path as much as for the
    batched one; a sampled token can flip on that.
    """
    primer = dataclasses.replace(request, policy=BudgetPolicy(max_thinking=1, max_answer=1))
    runner.run(_sequential(backend, primer))


async def _sequential(backend: LocalBackend, request: GenerationRequest) -> Transcript:
    return Transcript([e async for e in backend.stream(request)])


async def _batched(
    backend: LocalBackend,
    request: GenerationRequest,
    samplers: Sequence[SamplerSettings],
    cancel: CancelToken | None = None,
) -> list[Transcript]:
    events: list[list[StreamEvent]] = [[] for _ in samplers]
    async for i, event in backend.stream_samples(request, samplers, cancel):
        assert not events[i] or not isinstance(events[i][-1], Done | ErrorEvent), (
            f"sample {i} has an event after its end"
        )
        events[i].append(event)
    return [Transcript(e) for e in events]


def _same(batched: Transcript, sequential: Transcript) -> None:
    """The same generation: text, Wait positions, thinking length, answer, end."""
    assert batched.reasoning == sequential.reasoning
    assert [(w.at, w.text) for w in batched.waits] == [(w.at, w.text) for w in sequential.waits]
    assert batched.thinking_end == sequential.thinking_end
    assert batched.answer == sequential.answer
    assert batched.done == sequential.done
    b, s = batched.stats, sequential.stats
    assert (b.thinking_tokens, b.answer_tokens, b.waits) == (
        s.thinking_tokens,
        s.answer_tokens,
        s.waits,
    )


def test_the_local_backend_offers_batched_samples(backend: LocalBackend) -> None:
    assert isinstance(backend, SampleStreamer)
    assert backend.loaded.n_seq_max >= 8


def test_greedy_samples_decoded_together_equal_the_sequential_generation(
    runner: asyncio.Runner, backend: LocalBackend
) -> None:
    _prime(runner, backend, SUM)
    sequential = runner.run(_sequential(backend, SUM))
    assert sequential.waits, "the minimum forces at least one Wait (the test needs one)"
    assert sequential.stats.thinking_tokens >= SUM.policy.min_thinking
    batched = runner.run(_batched(backend, SUM, [SamplerSettings()] * 3))
    for sample in batched:
        _same(sample, sequential)
    # The cache is left as one request leaves it: the next one runs as before.
    assert runner.run(_sequential(backend, SUM)).reasoning == sequential.reasoning


@pytest.mark.parametrize(
    "landing",
    [CapLanding.WRAP_UP, CapLanding.FINISH_SENTENCE],
    ids=["wrap-up", "finish-sentence"],
)
def test_soft_landings_in_a_batch_equal_the_sequential_generation(
    runner: asyncio.Runner, backend: LocalBackend, landing: CapLanding
) -> None:
    policy = BudgetPolicy(max_thinking=16, max_answer=8, landing=landing, grace_tokens=6)
    request = dataclasses.replace(LONG, policy=policy)
    _prime(runner, backend, request)
    sequential = runner.run(_sequential(backend, request))
    assert sequential.thinking_end.reason is CloseReason.CAP
    if landing is CapLanding.WRAP_UP:
        assert sequential.reasoning.endswith(policy.wrap_up_text)
        assert sequential.thinking_end.overshoot_tokens > 0
    for sample in runner.run(_batched(backend, request, [SamplerSettings()] * 2)):
        _same(sample, sequential)
        assert sample.thinking_end.overshoot_tokens == sequential.thinking_end.overshoot_tokens
        assert sample.stats.overshoot_tokens == sequential.stats.overshoot_tokens


def test_each_seeded_sample_equals_a_sequential_run_with_its_seed(
    runner: asyncio.Runner, backend: LocalBackend
) -> None:
    request = dataclasses.replace(
        SUM, policy=BudgetPolicy(max_thinking=32, min_thinking=12, max_answer=12)
    )
    samplers = [SamplerSettings(temperature=0.9, top_k=40, seed=seed) for seed in (3, 4, 5, 6)]
    _prime(runner, backend, request)
    batched = runner.run(_batched(backend, request, samplers))
    sequential = [
        runner.run(_sequential(backend, dataclasses.replace(request, sampler=s))) for s in samplers
    ]
    for b, s in zip(batched, sequential, strict=True):
        _same(b, s)
    assert len({t.reasoning for t in batched}) > 1, "different seeds draw different samples"


def test_a_forced_sample_beside_a_free_one_neither_stalls_the_other(
    runner: asyncio.Runner, backend: LocalBackend
) -> None:
    request = dataclasses.replace(
        SUM, policy=BudgetPolicy(max_thinking=40, min_thinking=6, max_answer=4)
    )
    # Greedy stops thinking at once: a Wait is forced in, then it ends by itself early.
    # This seed never stops: no Wait, thinking is cut at the cap (the suffix forced in).
    samplers = [SamplerSettings(), SamplerSettings(temperature=1.5, seed=2)]
    _prime(runner, backend, request)
    forced, free = runner.run(_batched(backend, request, samplers))
    assert forced.waits
    assert forced.thinking_end.reason is CloseReason.NATURAL
    assert forced.stats.thinking_tokens < request.policy.max_thinking
    assert not free.waits
    assert free.thinking_end.reason is CloseReason.CAP
    assert free.stats.thinking_tokens == request.policy.max_thinking
    assert free.answer.startswith(request.policy.cap_suffix)
    for sample, sampler in zip((forced, free), samplers, strict=True):
        _same(
            sample, runner.run(_sequential(backend, dataclasses.replace(request, sampler=sampler)))
        )


def test_stop_ends_every_sample_within_a_step(
    runner: asyncio.Runner, backend: LocalBackend
) -> None:
    cancel = CancelToken()
    seen: list[tuple[int, StreamEvent]] = []

    async def run() -> None:
        async for i, event in backend.stream_samples(LONG, [SamplerSettings()] * 3, cancel):
            seen.append((i, event))
            texts = sum(isinstance(e, ThinkingText) for _, e in seen)
            if texts == 12:
                cancel.cancel()

    runner.run(asyncio.wait_for(run(), 60))
    ends = {i: e for i, e in seen if isinstance(e, Done | ErrorEvent)}
    assert ends == {i: Done(reason=FinishReason.CANCELLED) for i in range(3)}
    for i in range(3):
        thought = sum(isinstance(e, ThinkingText) for j, e in seen if j == i)
        assert thought < 40, "stopped long before the 400-token budget"
    # The engine serves the next request at once.
    after = runner.run(_sequential(backend, SUM))
    assert after.done.reason is FinishReason.STOP


#: 4 × (700 thinking + delimiters + 12 answer) do not fit 2,048 tokens; 2 do.
ROOMY = dataclasses.replace(SUM, policy=BudgetPolicy(max_thinking=700, max_answer=12))


def test_too_many_samples_for_the_context_is_a_clear_error(
    runner: asyncio.Runner, backend: LocalBackend
) -> None:
    backend.together = 4
    try:
        results = runner.run(_batched(backend, ROOMY, [SamplerSettings()] * 4))
    finally:
        backend.together = 0
    for t in results:
        error = t.error
        assert error.kind == "ContextOverflowError"
        assert "4 samples decoded together need" in error.message
        assert f"the context holds {CONTEXT:,}" in error.message
        assert "--parallel 2" in error.message
    assert runner.run(_sequential(backend, SUM)).done.reason is FinishReason.STOP


def test_by_default_samples_too_many_for_the_context_run_in_groups_that_fit(
    runner: asyncio.Runner, backend: LocalBackend
) -> None:
    _prime(runner, backend, ROOMY)
    results = runner.run(_batched(backend, ROOMY, [SamplerSettings()] * 4))
    sequential = runner.run(_sequential(backend, ROOMY))
    for t in results:
        _same(t, sequential)


def test_one_at_a_time_runs_each_sample_as_its_own_request(
    runner: asyncio.Runner, backend: LocalBackend
) -> None:
    backend.together = 1
    try:
        samplers = [SamplerSettings(temperature=0.9, seed=seed) for seed in (7, 8)]
        _prime(runner, backend, SUM)
        batched = runner.run(_batched(backend, SUM, samplers))
    finally:
        backend.together = 0
    for b, s in zip(batched, samplers, strict=True):
        _same(b, runner.run(_sequential(backend, dataclasses.replace(SUM, sampler=s))))


@pytest.fixture
def own_backend(runner: asyncio.Runner, model_path: Path, tmp_path: Path) -> Iterator[LocalBackend]:
    """A backend of the test's own: a crash restarts its engine, and the test closes it."""
    config = LocalModelConfig(path=model_path, n_ctx=CONTEXT, n_threads=1, flash_attn=True)
    b = runner.run(LocalBackend.load(config, safe_mode=SafeMode(tmp_path / "engine.json")))
    yield b
    runner.run(b.aclose())


def test_an_engine_crash_mid_batch_ends_every_sample_with_an_error(
    runner: asyncio.Runner, own_backend: LocalBackend
) -> None:
    backend = own_backend
    seen: list[tuple[int, StreamEvent]] = []

    async def run() -> None:
        async for i, event in backend.stream_samples(LONG, [SamplerSettings()] * 3):
            seen.append((i, event))
            if (
                isinstance(event, ThinkingText)
                and sum(isinstance(e, ThinkingText) for _, e in seen) == 6
            ):
                pid = backend.engine.pid
                assert pid is not None
                os.kill(pid, signal.SIGKILL)

    runner.run(asyncio.wait_for(run(), 60))
    ends = {i: e for i, e in seen if isinstance(e, Done | ErrorEvent)}
    assert sorted(ends) == [0, 1, 2]
    for end in ends.values():
        assert isinstance(end, ErrorEvent)
        assert "SIGKILL" in end.message
    # The next request starts a fresh engine by itself.
    assert runner.run(_sequential(backend, SUM)).done.reason is FinishReason.STOP
