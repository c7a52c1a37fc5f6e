"""What only the llama.cpp backend does: loading, context fitting, text decoding."""

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
from s1desk.errors import ModelLoadError
from s1desk.events import BudgetAdjusted, StreamEvent
from s1desk.models.hardware import gpu_offload_supported
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.thinking.policy import BudgetPolicy
from support import vocab
from support.events import Transcript

pytestmark = pytest.mark.model


def run(runner: asyncio.Runner, backend: LocalBackend, request: GenerationRequest) -> Transcript:
    async def go() -> list[StreamEvent]:
        return [e async for e in backend.stream(request)]

    return Transcript(runner.run(go()))


def truncated_copy(model_path: Path, tmp_path: Path, size: int) -> Path:
    broken = tmp_path / "broken.gguf"
    with model_path.open("rb") as src, broken.open("wb") as dst:
        dst.write(src.read(size))
    return broken


@pytest.mark.parametrize("size", [2_000_000, 100_000_000])
def test_truncated_gguf_gives_a_clear_error(
    runner: asyncio.Runner, model_path: Path, tmp_path: Path, size: int
) -> None:
    broken = truncated_copy(model_path, tmp_path, size)
    with pytest.raises(ModelLoadError, match="truncated"):
        runner.run(LocalBackend.load(LocalModelConfig(path=broken, n_ctx=512)))


def test_a_file_that_is_not_gguf_gives_a_clear_error(
    runner: asyncio.Runner, tmp_path: Path
) -> None:
    bogus = tmp_path / "notes.gguf"
    bogus.write_text("this is not a model\n" * 10)
    with pytest.raises(ModelLoadError, match="not a GGUF model"):
        runner.run(LocalBackend.load(LocalModelConfig(path=bogus, n_ctx=512)))


def test_a_missing_file_gives_a_clear_error(runner: asyncio.Runner, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not found"):
        runner.run(LocalBackend.load(LocalModelConfig(path=tmp_path / "nope.gguf")))


def test_gpu_layers_follow_the_build(local_backend: LocalBackend) -> None:
    if gpu_offload_supported():
        assert local_backend.gpu_layers != 0
        assert "GPU" in local_backend.name
    else:
        assert local_backend.gpu_layers == 0
        assert "CPU" in local_backend.name


@pytest.fixture(scope="module")
def small_backend(runner: asyncio.Runner, model_path: Path) -> Iterator[LocalBackend]:
    backend = runner.run(LocalBackend.load(LocalModelConfig(path=model_path, n_ctx=512)))
    yield backend
    runner.run(backend.aclose())


def test_a_prompt_longer_than_the_context_is_a_clear_error(
    runner: asyncio.Runner, small_backend: LocalBackend
) -> None:
    t = run(runner, small_backend, GenerationRequest(question="word " * 600))
    assert t.error.kind == "ContextOverflowError"
    assert "context of 512 tokens" in t.error.message
    again = run(
        runner,
        small_backend,
        GenerationRequest(question="Hi", policy=BudgetPolicy(max_thinking=4, max_answer=4)),
    )
    assert again.done


def test_a_budget_larger_than_the_context_is_lowered(
    runner: asyncio.Runner, small_backend: LocalBackend
) -> None:
    request = GenerationRequest(
        question="Explain recursion at length.",
        policy=BudgetPolicy(max_thinking=10_000, min_thinking=10_000, max_waits=0, max_answer=4),
    )
    t = run(runner, small_backend, request)
    (adjusted,) = t.of(BudgetAdjusted)
    assert isinstance(adjusted, BudgetAdjusted)
    assert 0 < adjusted.max_thinking < 512
    assert adjusted.min_thinking == adjusted.max_thinking
    assert t.thinking_end.thinking_tokens <= adjusted.max_thinking
    assert t.stats.prompt_tokens + t.stats.thinking_tokens + t.stats.answer_tokens <= 512


def test_characters_split_across_tokens_come_out_whole(
    runner: asyncio.Runner, local_backend: LocalBackend
) -> None:
    glyph = "𓀀"  # three Qwen2 tokens, none of them valid UTF-8 alone
    path = local_backend.config.path
    pieces = [vocab.piece(path, t) for t in vocab.tokenize(path, glyph)]
    assert len(pieces) == 3
    assert not any(_is_utf8(p) for p in pieces)
    request = GenerationRequest(
        question=f"Write the Egyptian hieroglyph {glyph} five times.",
        policy=BudgetPolicy(max_thinking=0, max_answer=24),
    )
    t = run(runner, local_backend, request)
    assert t.thinking_end.reason is CloseReason.NONE
    assert "\ufffd" not in t.answer
    assert t.answer.count(glyph) >= 3
    assert t.stats.answer_tokens >= 9


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_stop_during_a_long_prompt_evaluation(
    runner: asyncio.Runner, local_backend: LocalBackend
) -> None:
    request = GenerationRequest(
        question="Summarise: " + "the cat sat on the mat and looked around. " * 320,
        policy=BudgetPolicy(max_thinking=8, max_answer=4),
    )
    n_prompt = len(vocab.tokenize(local_backend.config.path, request.question))
    assert n_prompt > 2500

    async def go() -> tuple[list[StreamEvent], float]:
        cancel = CancelToken()
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, cancel.cancel)
        start = time.perf_counter()
        events = [e async for e in local_backend.stream(request, cancel)]
        return events, time.perf_counter() - start

    events, elapsed = runner.run(go())
    t = Transcript(events)
    assert t.done.reason is FinishReason.CANCELLED
    assert t.stats.thinking_tokens == 0
    # Evaluating ~2,900 tokens takes several seconds here; the abort cuts it short.
    assert elapsed < 2.0
    again = run(
        runner,
        local_backend,
        GenerationRequest(question="Hi", policy=BudgetPolicy(max_thinking=0, max_answer=4)),
    )
    assert again.done
