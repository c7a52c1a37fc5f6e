"""Cost of a "Wait" injection at a short and at a long (>= 2,000-token) context.

The time from a ``wait`` event to the next event is the cost of forcing the
extension and sampling after it. Injected text is decoded on top of the KV
cache, so it must cost about one ordinary token step and must not grow with
the context. For contrast, the script also times re-evaluating the long
prompt from scratch, which is what a loop without a kept cache would pay.

Both gaps are timed at the same asyncio consumer, in the same stream: after a
``wait`` event the engine decodes the forced text on top of the cache and
samples; after a thinking-text event it decodes that one token and samples.
The from-scratch figure is a bare prefill in this process (no sampling, no
process boundary). Each round runs both contexts, the first rotating; the
medians are over every gap of every round.

Usage: .venv/bin/python benchmarks/wait_cost.py [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import threading
import time
from collections.abc import Sequence

from _common import median, model_path, parse_args, report, rotated
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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    args = parse_args(parser)
    config = LocalModelConfig(path=model_path(), n_ctx=8192)
    policy = BudgetPolicy(max_thinking=400, min_thinking=300, max_waits=12, max_answer=1)
    contexts = {"short": [], "long": long_history(2000)}
    gathered: dict[str, dict[str, list[float]]] = {
        name: {"after_wait": [], "normal": [], "reeval": [], "ratio": []} for name in contexts
    }
    prompt_tokens: dict[str, int] = {}
    with asyncio.Runner() as runner:
        backend = runner.run(LocalBackend.load(config))
        bare = LlamaSession(dataclasses.replace(config, extra_buffers=backend.loaded.extra_buffers))
        for r in range(args.rounds):
            for name in rotated(list(contexts), r):
                history = contexts[name]
                request = GenerationRequest(question=QUESTION, history=history, policy=policy)
                events = runner.run(timed(backend, request))
                after_wait, normal = gaps(events)
                # A full evaluation of the same prompt in a bare session, for contrast.
                tokens = bare.tokenize_parts(
                    render_prompt_parts(history, QUESTION)
                ) + bare.tokenize(THINK_OPEN)
                prompt_tokens[name] = len(tokens)
                bare.reset()
                start = time.perf_counter()
                bare.prefill(tokens, threading.Event())
                got = gathered[name]
                got["reeval"].append(time.perf_counter() - start)
                got["after_wait"] += after_wait
                got["normal"] += normal
                got["ratio"].append(median(after_wait) / median(normal))
        runner.run(backend.aclose())
        bare.close()
    results: dict[str, dict[str, object]] = {}
    for name, got in gathered.items():
        results[name] = {
            "prompt_tokens": prompt_tokens[name],
            "waits": len(got["after_wait"]),
            "ordinary_steps": len(got["normal"]),
            "after_wait_ms_median": round(median(got["after_wait"]) * 1000, 2),
            "normal_token_ms_median": round(median(got["normal"]) * 1000, 2),
            "wait_over_normal": round(median(got["after_wait"]) / median(got["normal"]), 3),
            "wait_over_normal_by_round": [round(x, 3) for x in got["ratio"]],
            "full_prompt_reeval_ms": round(median(got["reeval"]) * 1000, 1),
        }
    report(
        "wait_cost",
        {
            "rounds": args.rounds,
            "contexts": results,
            "after_wait_long_over_short": round(
                median(gathered["long"]["after_wait"]) / median(gathered["short"]["after_wait"]),
                3,
            ),
        },
    )


if __name__ == "__main__":
    main()
