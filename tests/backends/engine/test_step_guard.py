"""A decoding step that runs far past its time is stopped and redone on fewer threads, with the
same tokens; the guard's abort reaches a real llama.cpp evaluation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import llama_cpp
import pytest

from s1desk.backends import thread_tuner
from s1desk.backends.llama_session import LlamaSession, SamplerChain
from s1desk.backends.local_config import LocalModelConfig
from s1desk.backends.step_guard import StepGuard
from s1desk.backends.thread_tuner import ThreadTuner
from s1desk.sampling import SamplerSettings

PROMPT = "Write the numbers from 1 to 60, separated by commas."


@pytest.fixture(scope="module")
def session(model_path: Path) -> Iterator[LlamaSession]:
    s = LlamaSession(LocalModelConfig(path=model_path, n_ctx=1024, extra_buffers=False))
    yield s
    s.close()


def greedy(session: LlamaSession, n: int) -> list[int]:
    session.reset()
    session.generation_started()
    chain = SamplerChain(SamplerSettings(), session.n_vocab, session.ctx)
    out: list[int] = []
    try:
        session.prefill(session.tokenize(PROMPT, first=True), threading.Event())
        step_start = time.perf_counter()
        for _ in range(n):
            token = chain.sample(session.ctx)
            out.append(token)
            session.eval((token,))
            now = time.perf_counter()
            session.tuned_step(now - step_start)
            step_start = now
    finally:
        chain.close()
    return out


def test_a_stopped_step_is_redone_on_fewer_threads_with_the_same_tokens(
    session: LlamaSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.tuner = None
    session.set_threads(1)
    reference = greedy(session, 48)
    # Every step on 2 threads overruns at once: each is stopped, and redone on 1.
    monkeypatch.setattr(thread_tuner, "OVERRUN", 0.0)
    monkeypatch.setattr(thread_tuner, "MIN_LIMIT", 0.0)
    session.tuner = ThreadTuner([2, 1])
    session.overruns = 0
    tokens = greedy(session, 48)
    assert session.overruns >= 1
    assert tokens == reference


def test_the_guard_aborts_a_long_evaluation_and_llama_cpp_drops_its_positions(
    session: LlamaSession,
) -> None:
    session.reset()
    tokens = (session.tokenize(PROMPT, first=True) * 40)[:512]
    batch = llama_cpp.llama_batch_init(len(tokens), 0, 1)
    try:
        batch.n_tokens = len(tokens)
        for i, t in enumerate(tokens):
            batch.token[i] = t
            batch.pos[i] = i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = i == len(tokens) - 1
        guard = StepGuard(session.ctx)
        assert guard.available
        guard.install()
        start = time.perf_counter()
        guard.expect(0.05)
        code = llama_cpp.llama_decode(session.ctx, batch)
        took = time.perf_counter() - start
        assert guard.done()
        assert code == 2, "aborted"
        assert took < 0.5
        memory = llama_cpp.llama_get_memory(session.ctx)
        assert llama_cpp.llama_memory_seq_pos_max(memory, 0) == -1, "nothing of it kept"
        # Without a deadline the same evaluation runs to its end.
        guard.expect(None)
        assert llama_cpp.llama_decode(session.ctx, batch) == 0
        assert not guard.done()
        assert llama_cpp.llama_memory_seq_pos_max(memory, 0) == len(tokens) - 1
        guard.close()
    finally:
        llama_cpp.llama_batch_free(batch)
        session.reset()
        session._guard.install()


class _NeverFastEnough(ThreadTuner):
    """A tuner whose every step is due at once and which never changes the count: the
    fault a real tuner cannot be brought to (it moves to the smallest count, which has no
    limit)."""

    def step_limit(self) -> float | None:
        return 0.0

    def overran(self, seconds: float) -> int | None:
        return None


def test_a_step_stopped_again_and_again_still_ends(session: LlamaSession) -> None:
    session.tuner = None
    session.set_threads(1)
    reference = greedy(session, 16)
    session.tuner = _NeverFastEnough([2, 1])
    session.set_threads(2)
    session.overruns = 0
    assert greedy(session, 16) == reference
    assert session.overruns <= 2 * 16
