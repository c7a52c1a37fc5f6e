"""Decode throughput through the engine process against two in-process baselines, one run.

(a) llama-cpp-python's own streaming ``create_completion`` (greedy);
(b) a decode-only loop feeding llama.cpp one token at a time, no sampling at all.
Ours runs the full path: the engine process with its sampler chain, budget
forcing and detokenizing, pickled events over a pipe, an asyncio consumer.
(a) samples greedily and detokenizes, in this process, with no forcing machine
and no process boundary. (b) does strictly less than either: no sampling, no
detokenizing, no delivery, so ours / (b) above 1.0 can only be noise, and the
figure that matters is how far below 1.0 it stays. Ours counts thinking-text
events (a piece held back as a possible marker merges two tokens into one
event, which only lowers ours); forced Wait text is not counted but its time is.

Every side is timed where its consumer receives tokens, from its second token to
its last, and its rate comes from its own count. The order of the three sides
rotates every round. The baselines use the same extra-buffer setting as the
engine (on machines where those kernels crash, both run without them).

Targets: ours / (a) >= 1.0 and ours / (b) >= 0.95.
Usage: .venv/bin/python benchmarks/decode_throughput.py [--tokens N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import dataclasses
import time
from collections.abc import Callable

import llama_cpp
from _engine_rate import QUESTION, engine_rate, rate

from _common import median, model_path, parse_args, report
from s1desk.backends.llama_session import LlamaSession
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig, default_threads
from s1desk.thinking.format import THINK_OPEN, render_prompt, render_prompt_parts


def create_completion(session: LlamaSession, prompt: str, n: int) -> float:
    session.reset()
    stamps = [
        time.perf_counter()
        for _chunk in session.llama.create_completion(
            prompt, max_tokens=n, temperature=0.0, stream=True
        )
    ]
    return rate(stamps)


def decode_only(session: LlamaSession, prompt_tokens: list[int], n: int) -> float:
    session.reset()
    session.llama.eval(prompt_tokens)
    ctx = session.ctx
    token = ctypes.c_int32(prompt_tokens[-1])
    stamps = []
    for _ in range(n):
        batch = llama_cpp.llama_batch_get_one(ctypes.pointer(token), 1)
        if llama_cpp.llama_decode(ctx, batch) != 0:
            raise RuntimeError("llama_decode failed")
        stamps.append(time.perf_counter())
    session.reset()
    return rate(stamps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="fixed threads for all sides")
    args = parse_args(parser)
    config = LocalModelConfig(path=model_path(), n_ctx=4096, n_threads=args.threads)
    with asyncio.Runner() as runner:
        backend = runner.run(LocalBackend.load(config))
        loaded = backend.loaded
        # The baselines decode on the count the engine's tuner settles on when quiet.
        bare_config = dataclasses.replace(
            config, extra_buffers=loaded.extra_buffers, n_threads=args.threads or default_threads()
        )
        session = LlamaSession(bare_config)
        prompt = render_prompt([], QUESTION) + THINK_OPEN
        tokens = session.tokenize_parts(render_prompt_parts([], QUESTION)) + session.tokenize(
            THINK_OPEN
        )
        sides: dict[str, Callable[[], float]] = {
            "ours": lambda: engine_rate(backend, runner, args.tokens),
            "create_completion": lambda: create_completion(session, prompt, args.tokens),
            "decode_only": lambda: decode_only(session, tokens, args.tokens),
        }
        results: dict[str, list[float]] = {name: [] for name in sides}
        names = list(sides)
        for r in range(args.rounds):
            order = names[r % 3 :] + names[: r % 3]
            for name in order:
                results[name].append(sides[name]())
        runner.run(backend.aclose())
        session.close()
    m = {k: median(v) for k, v in results.items()}
    report(
        "decode_throughput",
        {
            "tokens": args.tokens,
            "rounds": args.rounds,
            "engine_threads": "adaptive" if args.threads is None else args.threads,
            "baseline_threads": bare_config.n_threads,
            "extra_buffers": loaded.extra_buffers,
            "gpu_layers": loaded.gpu_layers,
            "tokens_per_second": {k: round(v, 2) for k, v in m.items()},
            "all_rounds": {k: [round(x, 2) for x in v] for k, v in results.items()},
            "ratio_vs_create_completion": round(m["ours"] / m["create_completion"], 3),
            "ratio_vs_decode_only": round(m["ours"] / m["decode_only"], 3),
            "targets": {"vs_create_completion": 1.0, "vs_decode_only": 0.95},
        },
    )


if __name__ == "__main__":
    main()
