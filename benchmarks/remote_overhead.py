"""Client overhead of the remote backend: tokens/s the app sees vs a bare streaming client.

Both stream the same prompt from the same llama_cpp.server on loopback, in
alternating rounds of one run. The app's figure includes everything it does
(tokenizer requests, SSE parsing, the budget-forcing machine, the event
queue). Target: app / bare >= 0.95.

Usage: .venv/bin/python benchmarks/remote_overhead.py [--rounds N] [--tokens N]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from _common import median, model_path, report
from s1desk.backends.base import GenerationRequest
from s1desk.backends.remote import RemoteBackend
from s1desk.backends.remote_config import RemoteServerConfig
from s1desk.events import Stats
from s1desk.thinking.format import ANSWER_OPEN, render_prompt
from s1desk.thinking.policy import BudgetPolicy
from support.servers import MODEL_ALIAS, LlamaCppServer

QUESTION = "Explain in detail, step by step, how a hash table handles collisions."


async def app_run(backend: RemoteBackend, tokens: int) -> tuple[int, float]:
    request = GenerationRequest(
        question=QUESTION, policy=BudgetPolicy(max_thinking=0, max_answer=tokens)
    )
    start = time.perf_counter()
    count = 0
    async for event in backend.stream(request):
        if isinstance(event, Stats):
            count = event.answer_tokens
    return count, time.perf_counter() - start


async def bare_run(client: httpx.AsyncClient, url: str, tokens: int) -> tuple[int, float]:
    body = {
        "model": MODEL_ALIAS,
        "prompt": render_prompt([], QUESTION) + ANSWER_OPEN,
        "max_tokens": tokens,
        "temperature": 0,
        "stream": True,
    }
    start = time.perf_counter()
    chunks = 0
    async with client.stream("POST", f"{url}/v1/completions", json=body) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: {") and '"text": ""' not in line:
                chunks += 1
    return chunks, time.perf_counter() - start


async def measure(url: str, rounds: int, tokens: int) -> dict[str, object]:
    app_tps: list[float] = []
    bare_tps: list[float] = []
    async with (
        await RemoteBackend.connect(RemoteServerConfig(url, MODEL_ALIAS)) as backend,
        httpx.AsyncClient(timeout=120, trust_env=False) as client,
    ):
        await app_run(backend, 8)  # warm both paths and the server's cache
        await bare_run(client, url, 8)
        for _ in range(rounds):
            n_app, t_app = await app_run(backend, tokens)
            n_bare, t_bare = await bare_run(client, url, tokens)
            app_tps.append(n_app / t_app)
            bare_tps.append(n_app / t_bare)  # same greedy generation: same tokens
            print(f"app {n_app} tok {t_app:.2f} s | bare {n_bare} chunks {t_bare:.2f} s")
    return {
        "tokens": tokens,
        "rounds": rounds,
        "app_tokens_per_s_median": round(median(app_tps), 2),
        "bare_tokens_per_s_median": round(median(bare_tps), 2),
        "app_over_bare": round(median(app_tps) / median(bare_tps), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=160)
    args = parser.parse_args()
    with LlamaCppServer(model_path(), n_ctx=4096) as server:
        result = asyncio.run(measure(server.base_url, args.rounds, args.tokens))
    report("remote_overhead", {"server": "llama_cpp.server on loopback", **result})


if __name__ == "__main__":
    main()
