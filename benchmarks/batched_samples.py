"""K samples of a question decoded together against the same K one after another.

The local backend's ``stream_samples`` runs a question's samples in one
llama.cpp batch (``s1desk eval --parallel K``, the default) or as K ordinary
generations in a row (``--parallel 1``). Both sides run on one engine in the
same run, in alternating order round by round; each side's rate is the tokens
its own samples generated (thinking + answer, from their Stats) over its wall
time, prompt evaluation included. Budget forcing (min = max thinking) makes
every sample think the same length. Target on a 2-core CPU: batched / one after
another >= 2.0 for K = 4.

Usage: .venv/bin/python benchmarks/batched_samples.py [--samples K] [--budget T]
       [--rounds N] [--threads N] [--flash-attn]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from _common import median, model_path, report
from s1desk.backends.base import GenerationRequest
from s1desk.backends.engine.safe_mode import SafeMode
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig
from s1desk.events import Done, ErrorEvent, Stats
from s1desk.sampling import SamplerSettings
from s1desk.thinking.policy import BudgetPolicy

QUESTION = "What is 17 * 23? Think it through, then end with a line Answer: N"


async def _side(
    backend: LocalBackend, together: int, request: GenerationRequest, k: int, seed: int
) -> tuple[int, float]:
    """Tokens generated and seconds taken by K samples, ``together`` at a time."""
    backend.together = together
    samplers = [SamplerSettings(temperature=0.8, seed=seed + i) for i in range(k)]
    tokens = 0
    start = time.perf_counter()
    async for _, event in backend.stream_samples(request, samplers):
        if isinstance(event, Stats):
            tokens += event.thinking_tokens + event.answer_tokens
        elif isinstance(event, ErrorEvent):
            raise SystemExit(f"generation failed: {event.message}")
        elif isinstance(event, Done):
            pass
    return tokens, time.perf_counter() - start


async def run(args: argparse.Namespace) -> None:
    config = LocalModelConfig(
        path=model_path(),
        n_ctx=args.ctx,
        n_threads=args.threads,
        flash_attn=args.flash_attn,
    )
    with tempfile.TemporaryDirectory() as tmp:
        backend = await LocalBackend.load(config, safe_mode=SafeMode(Path(tmp) / "engine.json"))
        try:
            request = GenerationRequest(
                question=QUESTION,
                policy=BudgetPolicy(
                    max_thinking=args.budget, min_thinking=args.budget, max_answer=args.answer
                ),
            )
            await _side(backend, 1, request, 1, 999)  # warm-up: caches, threads
            rounds: list[dict[str, float]] = []
            for r in range(args.rounds):
                order = ["batched", "sequential"] if r % 2 == 0 else ["sequential", "batched"]
                result: dict[str, float] = {}
                for side in order:
                    together = args.samples if side == "batched" else 1
                    tokens, seconds = await _side(backend, together, request, args.samples, 100 * r)
                    result[f"{side}_tokens"] = tokens
                    result[f"{side}_s"] = round(seconds, 3)
                    result[f"{side}_rate"] = round(tokens / seconds, 2)
                result["ratio"] = round(result["batched_rate"] / result["sequential_rate"], 3)
                rounds.append(result)
                print(f"round {r + 1}: {result}", flush=True)
        finally:
            await backend.aclose()
    batched = sum(x["batched_tokens"] for x in rounds) / sum(x["batched_s"] for x in rounds)
    sequential = sum(x["sequential_tokens"] for x in rounds) / sum(
        x["sequential_s"] for x in rounds
    )
    report(
        "batched_samples",
        {
            "samples": args.samples,
            "budget": args.budget,
            "flash_attn": args.flash_attn,
            "threads": args.threads or "tuned",
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "rounds": rounds,
            "median_ratio": median([x["ratio"] for x in rounds]),
            "aggregate_ratio": round(batched / sequential, 3),
            "batched_tokens_per_s": round(batched, 2),
            "sequential_tokens_per_s": round(sequential, 2),
            "target": 2.0,
        },
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--budget", type=int, default=64, help="thinking tokens per sample (forced)")
    p.add_argument("--answer", type=int, default=16, help="answer tokens at most")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--ctx", type=int, default=2048)
    p.add_argument("--threads", type=int, default=None, help="fixed (default: tuned)")
    p.add_argument("--flash-attn", action="store_true")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
