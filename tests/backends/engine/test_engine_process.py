"""The engine process: crashes end one reply, never the app; memory comes back; Stop is bounded."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psutil
import pytest

from s1desk.backends.base import GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.backends.engine.safe_mode import SafeMode
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig
from s1desk.errors import ModelLoadError
from s1desk.events import ErrorEvent, StreamEvent, ThinkingText
from s1desk.thinking.machine import FinishReason
from s1desk.thinking.policy import BudgetPolicy
from support.events import Transcript
from support.gguf_edit import with_block_count

pytestmark = pytest.mark.model

LONG = GenerationRequest(
    question="Explain in detail, step by step, how a hash table handles collisions.",
    policy=BudgetPolicy(max_thinking=200, max_answer=8),
)
SHORT = GenerationRequest(
    question="What is 2+2? Reply with just the number.",
    policy=BudgetPolicy(max_thinking=0, max_answer=8),
)


@pytest.fixture
def backend(runner: asyncio.Runner, model_path: Path, tmp_path: Path) -> Iterator[LocalBackend]:
    safe = SafeMode(tmp_path / "engine.json")
    b = runner.run(LocalBackend.load(LocalModelConfig(path=model_path, n_ctx=1024), safe_mode=safe))
    yield b
    runner.run(b.aclose())


async def _kill_after_thinking(
    backend: LocalBackend, sig: int, request: GenerationRequest = LONG
) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    stream: AsyncIterator[StreamEvent] = backend.stream(request)
    async for event in stream:
        events.append(event)
        if (
            isinstance(event, ThinkingText)
            and sum(isinstance(e, ThinkingText) for e in events) == 5
        ):
            pid = backend.engine.pid
            assert pid is not None
            os.kill(pid, sig)
    return events


@pytest.mark.parametrize(
    ("sig", "words"), [(signal.SIGKILL, "SIGKILL"), (signal.SIGSEGV, "SIGSEGV")]
)
def test_a_crash_mid_thinking_ends_the_reply_and_the_next_question_is_answered(
    runner: asyncio.Runner, backend: LocalBackend, sig: int, words: str
) -> None:
    first_pid = backend.engine.pid
    t = Transcript(runner.run(_kill_after_thinking(backend, sig)))
    error = t.error
    assert words in error.message
    assert backend.config.path.name in error.message, "the message names the model"
    assert "kept" in error.message
    assert error.kind == "EngineCrashedError"
    assert len(t.reasoning) > 0, "what streamed before the crash is still there"
    # The app (this process) lives on; the next request starts a fresh engine by itself.
    after = Transcript(runner.run(_collect(backend, SHORT)))
    assert after.done.reason is FinishReason.STOP
    assert after.answer.strip()
    assert backend.engine.pid not in (None, first_pid)


async def _collect(backend: LocalBackend, request: GenerationRequest) -> list[StreamEvent]:
    return [e async for e in backend.stream(request)]


@pytest.mark.parametrize("blocks", [0, 1000])
def test_a_gguf_that_makes_llama_cpp_abort_gives_a_clear_error(
    runner: asyncio.Runner, model_path: Path, tmp_path: Path, blocks: int
) -> None:
    bad = with_block_count(model_path, tmp_path, blocks)
    safe = SafeMode(tmp_path / "engine.json")
    with pytest.raises(ModelLoadError) as caught:
        runner.run(LocalBackend.load(LocalModelConfig(path=bad, n_ctx=512), safe_mode=safe))
    message = str(caught.value)
    assert bad.name in message
    assert "llama.cpp" in message


def test_memory_comes_back_after_unload(
    runner: asyncio.Runner, model_path: Path, tmp_path: Path
) -> None:
    me = psutil.Process()
    before = me.memory_info().rss
    safe = SafeMode(tmp_path / "engine.json")
    backend = runner.run(
        LocalBackend.load(LocalModelConfig(path=model_path, n_ctx=1024), safe_mode=safe)
    )
    pid = backend.engine.pid
    assert pid is not None
    engine_rss = psutil.Process(pid).memory_info().rss
    assert engine_rss > 300 * 2**20, "the engine holds the model's weights"
    runner.run(_collect(backend, SHORT))
    runner.run(backend.aclose())
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    after = me.memory_info().rss
    # The app never held the weights: its own memory stays within 64 MiB of where it was.
    assert after - before < 64 * 2**20, f"{(after - before) / 2**20:.0f} MiB more"


def test_stop_during_a_long_prompt_is_bounded(
    runner: asyncio.Runner, backend: LocalBackend
) -> None:
    long_prompt = GenerationRequest(
        question="Summarise: " + "the quick brown fox jumps over the lazy dog. " * 80,
        policy=BudgetPolicy(max_thinking=16, max_answer=8),
    )

    async def go() -> tuple[list[StreamEvent], float]:
        cancel = CancelToken()
        asyncio.get_running_loop().call_later(0.2, cancel.cancel)
        start = time.perf_counter()
        events = [e async for e in backend.stream(long_prompt, cancel)]
        return events, time.perf_counter() - start

    events, took = runner.run(go())
    t = Transcript(events)
    assert t.done.reason is FinishReason.CANCELLED
    assert took < 3.0, f"Stop took {took:.1f} s"
    # The engine is ready for the next question.
    assert Transcript(runner.run(_collect(backend, SHORT))).done.reason is FinishReason.STOP


def test_an_illegal_instruction_is_remembered_and_the_next_engine_runs_safely(
    runner: asyncio.Runner, model_path: Path, tmp_path: Path
) -> None:
    safe = SafeMode(tmp_path / "engine.json", signature="test machine")
    backend = runner.run(
        LocalBackend.load(LocalModelConfig(path=model_path, n_ctx=1024), safe_mode=safe)
    )
    try:
        t = Transcript(runner.run(_kill_after_thinking(backend, signal.SIGILL)))
        assert "SIGILL" in t.error.message
        assert safe.needed(), "a SIGILL is remembered for this machine"
        after = Transcript(runner.run(_collect(backend, SHORT)))
        assert after.done.reason is FinishReason.STOP
        assert backend.engine.config.extra_buffers is False
        assert backend.loaded.extra_buffers is False
        notice = backend.take_notice()
        assert notice is not None
        assert "crashed on this processor (SIG" in notice
        assert backend.take_notice() is None, "told once"
    finally:
        runner.run(backend.aclose())


def _has_amx() -> bool:
    try:
        return "amx_tile" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def test_first_load_finds_out_whether_extra_buffers_are_safe_here(
    runner: asyncio.Runner, model_path: Path, tmp_path: Path
) -> None:
    """On CPUs whose AMX kernel faults (such as the CI machine) the engine falls back by itself."""
    safe = SafeMode(tmp_path / "engine.json")
    backend = runner.run(
        LocalBackend.load(LocalModelConfig(path=model_path, n_ctx=512), safe_mode=safe)
    )
    try:
        assert Transcript(runner.run(_collect(backend, SHORT))).done.reason is FinishReason.STOP
        if safe.needed():
            assert _has_amx(), "only AMX machines are known to fault"
            assert backend.loaded.extra_buffers is False
            notice = backend.take_notice()
            assert notice is not None
            assert "tokens/s" in notice
        else:
            assert backend.loaded.extra_buffers is True
    finally:
        runner.run(backend.aclose())


def test_errors_are_events_not_exceptions(runner: asyncio.Runner, backend: LocalBackend) -> None:
    too_long = GenerationRequest(question="word " * 2000, policy=BudgetPolicy(max_thinking=16))
    t = Transcript(runner.run(_collect(backend, too_long)))
    assert isinstance(t.events[-1], ErrorEvent)
    assert "context" in t.error.message


def test_an_engine_that_does_not_answer_a_stop_is_ended_and_the_next_question_works(
    runner: asyncio.Runner, backend: LocalBackend
) -> None:
    """A frozen engine (SIGSTOP: a GPU kernel that cannot be aborted looks the same)."""

    async def go() -> list[StreamEvent]:
        cancel = CancelToken()
        events: list[StreamEvent] = []
        async for event in backend.stream(LONG, cancel):
            events.append(event)
            if isinstance(event, ThinkingText) and not cancel.cancelled:
                pid = backend.engine.pid
                assert pid is not None
                os.kill(pid, signal.SIGSTOP)
                cancel.cancel()
        return events

    start = time.perf_counter()
    t = Transcript(runner.run(go()))
    assert t.done.reason is FinishReason.CANCELLED, "a stop, not a crash"
    assert time.perf_counter() - start < 30
    after = Transcript(runner.run(_collect(backend, SHORT)))
    assert after.done.reason is FinishReason.STOP
