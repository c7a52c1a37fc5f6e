"""Client overhead of the remote backend: tokens/s the app sees vs a bare streaming client.

Both stream the same prompt from the same llama_cpp.server on loopback, in
rounds of one run, the first side alternating (the server keeps one cached
prompt, so whoever goes second would otherwise always find it warm). The app's
figure includes everything it does (tokenizer requests, SSE parsing, the
budget-forcing machine, the event queue); the bare client posts the prompt and
reads the SSE lines, nothing else (no JSON parsing, no tokenizer, no queue).
Each side is timed at its own consumer, one stamp per streamed piece of text
(an answer-text event; a data line with text), and its rate comes from its own
count, between its first and its last piece; the time from sending the request
to the last piece is kept too. Target: app / bare >= 0.95.

Usage: .venv/bin/python benchmarks/remote_overhead.py [--rounds N] [--tokens N]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from _common import median, model_path, parse_args, rate, report, rotated
from s1desk.backends.base import GenerationRequest
from s1desk.backends.remote import RemoteBackend
from s1desk.backends.remote_config import RemoteServerConfig
from s1desk.events import AnswerText
from s1desk.thinking.format import ANSWER_OPEN, render_prompt
from s1desk.thinking.policy import BudgetPolicy
from support.servers import MODEL_ALIAS, LlamaCppServer

QUESTION = "Explain in detail, step by step, how a hash table handles collisions."


Timed = tuple[list[float], float]  # stamps of the pieces of text, and when the request began


async def app_run(backend: RemoteBackend, tokens: int) -> Timed:
    request = GenerationRequest(
        question=QUESTION, policy=BudgetPolicy(max_thinking=0, max_answer=tokens)
    )
    start = time.perf_counter()
    stamps = [
        time.perf_counter()
        async for event in backend.stream(request)
        if isinstance(event, AnswerText) and event.text
    ]
    return stamps, start


async def bare_run(client: httpx.AsyncClient, url: str, tokens: int) -> Timed:
    body = {
        "model": MODEL_ALIAS,
        "prompt": render_prompt([], QUESTION) + ANSWER_OPEN,
        "max_tokens": tokens,
        "temperature": 0,
        "stream": True,
    }
    start = time.perf_counter()
    stamps: list[float] = []
    async with client.stream("POST", f"{url}/v1/completions", json=body) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: {") and '"text": ""' not in line:
                stamps.append(time.perf_counter())
    return stamps, start


async def measure(url: str, rounds: int, tokens: int) -> dict[str, object]:
    tps: dict[str, list[float]] = {"app": [], "bare": []}
    pieces: dict[str, list[int]] = {"app": [], "bare": []}
    request_s: dict[str, list[float]] = {"app": [], "bare": []}
    async with (
        await RemoteBackend.connect(RemoteServerConfig(url, MODEL_ALIAS)) as backend,
        httpx.AsyncClient(timeout=120, trust_env=False) as client,
    ):
        await app_run(backend, 8)  # warm both paths and the server
        await bare_run(client, url, 8)
        for r in range(rounds):
            for side in rotated(["app", "bare"], r):
                if side == "app":
                    stamps, start = await app_run(backend, tokens)
                else:
                    stamps, start = await bare_run(client, url, tokens)
                tps[side].append(rate(stamps))
                pieces[side].append(len(stamps))
                request_s[side].append(stamps[-1] - start)
            print(
                f"round {r}: app {pieces['app'][-1]} pieces {tps['app'][-1]:.2f}/s | "
                f"bare {pieces['bare'][-1]} pieces {tps['bare'][-1]:.2f}/s"
            )
    return {
        "tokens": tokens,
        "rounds": rounds,
        "app_tokens_per_s_median": round(median(tps["app"]), 2),
        "bare_tokens_per_s_median": round(median(tps["bare"]), 2),
        "app_over_bare": round(median(tps["app"]) / median(tps["bare"]), 3),
        "app_over_bare_by_round": [
            round(a / b, 3) for a, b in zip(tps["app"], tps["bare"], strict=True)
        ],
        "pieces": pieces,
        "request_to_last_s_median": {k: round(median(v), 3) for k, v in request_s.items()},
        "all_rounds_tokens_per_s": {k: [round(x, 2) for x in v] for k, v in tps.items()},
        "target": 0.95,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=160)
    args = parse_args(parser)
    with LlamaCppServer(model_path(), n_ctx=4096) as server:
        result = asyncio.run(measure(server.base_url, args.rounds, args.tokens))
    report("remote_overhead", {"server": "llama_cpp.server on loopback", **result})


if __name__ == "__main__":
    main()
