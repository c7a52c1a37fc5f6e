"""Decoding beside a busy program: the engine's default thread choice against the best fixed count.

llama.cpp's threads spin at barriers, so one thread more than the free cores
costs several times the speed. For each condition (quiet, and beside one busy
process spinning on a core) this measures, in the same run and in rotating
order: the engine with its default (adaptive) threads, and a bare decode loop
in this process with each fixed thread count. The figure is ours over the best
fixed count of the bare loop. The bare loop only decodes (no sampling, no
detokenizing, no process boundary, and the best count chosen after the fact),
so it bounds ours from above. Each side is timed where its tokens arrive, from
its own count.

Target: >= 0.9 quiet and busy.
Usage: .venv/bin/python benchmarks/engine_contention.py [--tokens N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import dataclasses
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import llama_cpp
from _engine_rate import QUESTION, engine_rate, rate

from _common import median, model_path, parse_args, report
from s1desk.backends.llama_session import LlamaSession
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig, usable_cores
from s1desk.thinking.format import THINK_OPEN, render_prompt_parts


def bare(session: LlamaSession, prompt: list[int], threads: int, n: int) -> float:
    session.set_threads(threads)
    session.reset()
    session.llama.eval(prompt)
    token = ctypes.c_int32(prompt[-1])
    stamps = []
    for _ in range(n):
        batch = llama_cpp.llama_batch_get_one(ctypes.pointer(token), 1)
        if llama_cpp.llama_decode(session.ctx, batch) != 0:
            raise RuntimeError("llama_decode failed")
        stamps.append(time.perf_counter())
    session.reset()
    return rate(stamps)


@contextlib.contextmanager
def busy(on: bool) -> Iterator[None]:
    """One other program keeping a core busy (a compiler, a browser tab)."""
    if not on:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=192)
    parser.add_argument("--rounds", type=int, default=3)
    args = parse_args(parser)
    config = LocalModelConfig(path=model_path(), n_ctx=2048)
    counts = list(range(1, usable_cores() + 1))
    out: dict[str, dict[str, object]] = {}
    with asyncio.Runner() as runner:
        backend = runner.run(LocalBackend.load(config))
        session = LlamaSession(
            dataclasses.replace(config, extra_buffers=backend.loaded.extra_buffers)
        )
        prompt = session.tokenize_parts(render_prompt_parts([], QUESTION)) + session.tokenize(
            THINK_OPEN
        )
        for condition in ("quiet", "busy"):
            sides: dict[str, Callable[[], float]] = {
                "ours_default": lambda: engine_rate(backend, runner, args.tokens)
            }
            for c in counts:
                sides[f"bare_{c}_threads"] = lambda c=c: bare(session, prompt, c, args.tokens)  # type: ignore[misc]
            results: dict[str, list[float]] = {name: [] for name in sides}
            names = list(sides)
            with busy(condition == "busy"):
                for r in range(args.rounds):
                    order = names[r % len(names) :] + names[: r % len(names)]
                    for name in order:
                        results[name].append(sides[name]())
            m = {k: median(v) for k, v in results.items()}
            best = max((k for k in m if k.startswith("bare_")), key=lambda k: m[k])
            out[condition] = {
                "tokens_per_second": {k: round(v, 2) for k, v in m.items()},
                "all_rounds": {k: [round(x, 2) for x in v] for k, v in results.items()},
                "best_fixed": best,
                "ours_over_best_fixed": round(m["ours_default"] / m[best], 3),
            }
        runner.run(backend.aclose())
        session.close()
    report(
        "engine_contention",
        {"tokens": args.tokens, "rounds": args.rounds, "conditions": out, "target": 0.9},
    )


if __name__ == "__main__":
    main()
