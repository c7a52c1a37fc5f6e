"""Decode throughput of the budget-forcing loop against two baselines, in one run.

(a) llama-cpp-python's own streaming ``create_completion`` (greedy);
(b) a decode-only loop feeding llama.cpp one token at a time, no sampling at all.
Ours runs the full path: sampler chain, budget forcing, detokenizing, and event
delivery from the worker thread to an asyncio consumer.

Targets: ours / (a) >= 1.0 and ours / (b) >= 0.95.
Usage: .venv/bin/python benchmarks/decode_throughput.py [--tokens N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import time
from concurrent.futures import ThreadPoolExecutor

import llama_cpp

from _common import median, model_path, report
from s1desk.backends.base import GenerationRequest
from s1desk.backends.llama_session import LlamaSession
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig
from s1desk.events import ThinkingText
from s1desk.thinking.format import THINK_OPEN, render_prompt
from s1desk.thinking.policy import BudgetPolicy

QUESTION = "Count from 1 to 400, separated by commas."


def ours(backend: LocalBackend, runner: asyncio.Runner, n: int) -> float:
    request = GenerationRequest(
        question=QUESTION,
        policy=BudgetPolicy(max_thinking=n, min_thinking=n, max_waits=50, max_answer=1),
    )

    async def go() -> float:
        backend.session.reset()
        stamps: list[float] = []
        async for event in backend.stream(request):
            if isinstance(event, ThinkingText):
                stamps.append(time.perf_counter())
        return (len(stamps) - 1) / (stamps[-1] - stamps[0])

    return runner.run(go())


def create_completion(session: LlamaSession, prompt: str, n: int) -> float:
    session.reset()
    stamps: list[float] = []
    for _chunk in session.llama.create_completion(
        prompt, max_tokens=n, temperature=0.0, stream=True
    ):
        stamps.append(time.perf_counter())
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def decode_only(session: LlamaSession, prompt_tokens: list[int], n: int) -> float:
    session.reset()
    session.llama.eval(prompt_tokens)
    ctx = session.ctx
    token = ctypes.c_int32(prompt_tokens[-1])
    start = time.perf_counter()
    for _ in range(n - 1):
        batch = llama_cpp.llama_batch_get_one(ctypes.pointer(token), 1)
        if llama_cpp.llama_decode(ctx, batch) != 0:
            raise RuntimeError("llama_decode failed")
    elapsed = time.perf_counter() - start
    session.reset()
    return (n - 1) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    config = LocalModelConfig(path=model_path(), n_ctx=4096)
    with asyncio.Runner() as runner:
        backend = runner.run(LocalBackend.load(config))
        session = backend.session
        executor = ThreadPoolExecutor(1)
        prompt = render_prompt([], QUESTION) + THINK_OPEN
        tokens = session.tokenize(prompt, first=True)
        results: dict[str, list[float]] = {"ours": [], "create_completion": [], "decode_only": []}
        for _ in range(args.rounds):
            # Same thread for every loop, as the backend's worker would be.
            results["decode_only"].append(
                executor.submit(decode_only, session, tokens, args.tokens).result()
            )
            results["create_completion"].append(
                executor.submit(create_completion, session, prompt, args.tokens).result()
            )
            results["ours"].append(ours(backend, runner, args.tokens))
        executor.shutdown()
        runner.run(backend.aclose())
    m = {k: median(v) for k, v in results.items()}
    report(
        "decode_throughput",
        {
            "tokens": args.tokens,
            "rounds": args.rounds,
            "tokens_per_second": {k: round(v, 2) for k, v in m.items()},
            "all_rounds": {k: [round(x, 2) for x in v] for k, v in results.items()},
            "ratio_vs_create_completion": round(m["ours"] / m["create_completion"], 3),
            "ratio_vs_decode_only": round(m["ours"] / m["decode_only"], 3),
            "targets": {"vs_create_completion": 1.0, "vs_decode_only": 0.95},
        },
    )


if __name__ == "__main__":
    main()
