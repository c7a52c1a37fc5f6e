"""Cost of one "Wait" continuation on a remote server, against a fresh request of the same prompt.

The remote backend resends the grown prompt after each injected "Wait". With
a prefix cache (vLLM's, or llama_cpp.server's single-slot cache) the server
evaluates only the new tokens, so the time from the ``wait`` event to the next
token should be far below the time to first token of the same full prompt sent
cold (after an unrelated prompt has pushed it out of the cache).

Both are times to the next token, seen by a client on this side: ours from the
``wait`` event at the app's consumer (the app resends the grown prompt, the
server evaluates what is new and samples) to the next thinking text; the cold
one from posting the same full prompt with a bare client (``max_tokens`` 1)
to its first streamed data line. Rounds alternate which side goes first (the
cold side replays the prompts the first stream produced; the output is
greedy), and an unrelated prompt clears the server's cache before each side.

Usage: .venv/bin/python benchmarks/remote_wait_cost.py [--rounds R] [--url URL --model NAME]
(without --url it starts llama_cpp.server on the test model on loopback).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from _common import median, model_path, parse_args, report, rotated
from s1desk.backends.base import GenerationRequest
from s1desk.backends.remote import RemoteBackend
from s1desk.backends.remote_config import RemoteServerConfig
from s1desk.events import StreamEvent, ThinkingText, WaitInjected
from s1desk.thinking.format import THINK_OPEN, Turn, render_prompt
from s1desk.thinking.policy import BudgetPolicy
from support.servers import MODEL_ALIAS, LlamaCppServer

QUESTION = "What is 2+2? Reply with just the number."


def history(lines: int) -> list[Turn]:
    notes = "\n".join(
        f"Note {i}: measurement {i * 7 % 13} was recorded at station {i % 5}." for i in range(lines)
    )
    return [Turn("user", "Keep these notes for later:\n" + notes), Turn("assistant", "Noted.")]


async def first_token_s(client: httpx.AsyncClient, url: str, model: str, prompt: str) -> float:
    body = {"model": model, "prompt": prompt, "max_tokens": 1, "temperature": 0, "stream": True}
    start = time.perf_counter()
    async with client.stream("POST", f"{url}/v1/completions", json=body) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: {"):
                return time.perf_counter() - start
    raise RuntimeError("no token")


async def stream_once(
    backend: RemoteBackend, request: GenerationRequest, base: str
) -> tuple[list[float], list[str]]:
    """The gaps from each Wait to the next thinking text, and the full prompt at each Wait."""
    timed: list[tuple[float, StreamEvent]] = [
        (time.perf_counter(), e) async for e in backend.stream(request)
    ]
    gaps: list[float] = []
    prompts: list[str] = []
    reasoning = ""
    for i, (t0, event) in enumerate(timed):
        if isinstance(event, ThinkingText):
            reasoning += event.text
        if not isinstance(event, WaitInjected):
            continue
        reasoning += event.text
        nxt = next((t for t, e in timed[i + 1 :] if isinstance(e, ThinkingText)), None)
        if nxt is None:
            continue
        gaps.append(nxt - t0)
        prompts.append(base + reasoning)
    return gaps, prompts


async def measure(url: str, model: str, lines: int, rounds: int) -> dict[str, object]:
    turns = history(lines)
    request = GenerationRequest(
        question=QUESTION,
        history=turns,
        policy=BudgetPolicy(max_thinking=300, min_thinking=200, max_waits=4, max_answer=1),
    )
    unrelated = "Unrelated text to reset the cache. " * 20
    async with (
        await RemoteBackend.connect(RemoteServerConfig(url, model)) as backend,
        httpx.AsyncClient(timeout=600, trust_env=False) as client,
    ):
        base = render_prompt(turns, QUESTION) + THINK_OPEN
        prompt_tokens = await backend._tokenizer.count(base)
        continuation: list[float] = []
        fresh: list[float] = []
        prompts: list[str] = []
        for r in range(rounds):
            for side in rotated(["continuation", "fresh"], r):
                await first_token_s(client, url, model, unrelated)
                if side == "continuation":
                    gaps, seen = await stream_once(backend, request, base)
                    continuation += gaps
                    prompts = prompts or seen
                    continue
                for prompt in prompts:
                    # The same full prompt, cold: an unrelated prompt first evicts the prefix.
                    await first_token_s(client, url, model, unrelated)
                    fresh.append(await first_token_s(client, url, model, prompt))
    if not continuation:
        raise RuntimeError("the model never stopped early, so no Wait was injected")
    return {
        "prompt_tokens": prompt_tokens,
        "rounds": rounds,
        "waits": len(continuation),
        "cold_requests": len(fresh),
        "after_wait_ms_median": round(median(continuation) * 1000, 1),
        "fresh_full_prompt_first_token_ms_median": round(median(fresh) * 1000, 1),
        "fresh_over_continuation": round(median(fresh) / median(continuation), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--url", help="an already running server (default: start llama_cpp.server)")
    parser.add_argument("--model", default=MODEL_ALIAS)
    parser.add_argument("--lines", type=int, default=60, help="lines of notes in the history")
    args = parse_args(parser)
    if args.url:
        result = asyncio.run(measure(args.url, args.model, args.lines, args.rounds))
        server = args.url
    else:
        with LlamaCppServer(model_path(), n_ctx=4096) as s:
            result = asyncio.run(measure(s.base_url, args.model, args.lines, args.rounds))
        server = "llama_cpp.server on loopback"
    report("remote_wait_cost", {"server": server, **result})


if __name__ == "__main__":
    main()
