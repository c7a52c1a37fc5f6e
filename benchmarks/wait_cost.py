"""Cost of a "Wait" injection at a short and at a long (>= 2,000-token) context.

The time from a ``wait`` event to the next event is the cost of forcing the
extension and sampling after it. Injected text is decoded on top of the KV
cache, so it must cost about one ordinary token step and must not grow with
the context. For contrast, the script also times re-evaluating the long
prompt from scratch, which is what a loop without a kept cache would pay.

Usage: .venv/bin/python benchmarks/wait_cost.py
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import threading
import time
from collections.abc import Sequence

from _common import median, model_path, report
from s1desk.backends.base import GenerationRequest
from s1desk.backends.llama_session import LlamaSession
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig
from s1desk.events import StreamEvent, ThinkingText, WaitInjected
from s1desk.thinking.format import THINK_OPEN, Turn, render_prompt_parts
from s1desk.thinking.policy import BudgetPolicy
from support import vocab

QUESTION = "What is 2+2? Reply with just the number."


def long_history(min_tokens: int) -> list[Turn]:
    lines: list[str] = []
    i = 0
    while len(vocab.tokenize(model_path(), "\n".join(lines))) < min_tokens:
        lines.extend(
            f"Note {j}: measurement {j * 7 % 13} was recorded at station {j % 5}."
            for j in range(i, i + 20)
        )
        i += 20
    text = "\n".join(lines)
    return [Turn("user", "Keep these notes for later:\n" + text), Turn("assistant", "Noted.")]


def gaps(events: Sequence[tuple[float, StreamEvent]]) -> tuple[list[float], list[float]]:
    after_wait: list[float] = []
    normal: list[float] = []
    for (t0, e0), (t1, _e1) in itertools.pairwise(events):
        if isinstance(e0, WaitInjected):
            after_wait.append(t1 - t0)
        elif isinstance(e0, ThinkingText):
            normal.append(t1 - t0)
    return after_wait, normal


async def timed(
    backend: LocalBackend, request: GenerationRequest
) -> list[tuple[float, StreamEvent]]:
    return [(time.perf_counter(), e) async for e in backend.stream(request)]


def main() -> None:
    config = LocalModelConfig(path=model_path(), n_ctx=8192)
    policy = BudgetPolicy(max_thinking=400, min_thinking=300, max_waits=12, max_answer=1)
    results: dict[str, dict[str, float]] = {}
    with asyncio.Runner() as runner:
        backend = runner.run(LocalBackend.load(config))
        bare = LlamaSession(dataclasses.replace(config, extra_buffers=backend.loaded.extra_buffers))
        contexts = {"short": [], "long": long_history(2000)}
        for name, history in contexts.items():
            request = GenerationRequest(question=QUESTION, history=history, policy=policy)
            events = runner.run(timed(backend, request))
            after_wait, normal = gaps(events)
            # A full evaluation of the same prompt in a bare session, for contrast.
            tokens = bare.tokenize_parts(render_prompt_parts(history, QUESTION)) + bare.tokenize(
                THINK_OPEN
            )
            n_prompt = len(tokens)
            bare.reset()
            start = time.perf_counter()
            bare.prefill(tokens, threading.Event())
            reeval = time.perf_counter() - start
            results[name] = {
                "prompt_tokens": n_prompt,
                "waits": len(after_wait),
                "after_wait_ms_median": round(median(after_wait) * 1000, 2),
                "normal_token_ms_median": round(median(normal) * 1000, 2),
                "wait_over_normal": round(median(after_wait) / median(normal), 3),
                "full_prompt_reeval_ms": round(reeval * 1000, 1),
            }
        runner.run(backend.aclose())
        bare.close()
    report(
        "wait_cost",
        {
            "contexts": results,
            "after_wait_long_over_short": round(
                results["long"]["after_wait_ms_median"] / results["short"]["after_wait_ms_median"],
                3,
            ),
        },
    )


if __name__ == "__main__":
    main()
