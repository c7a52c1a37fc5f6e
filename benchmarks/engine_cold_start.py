"""Cold start of the engine process (spawn, import, load, probe) against an in-process load.

Three ways to get a model ready, alternated, each timed until a first token is
decoded: (a) ``LocalBackend.load`` into a fresh engine process with the safe
mode already known; (b) the same on a machine seen for the first time, where
faulty extra-buffer kernels are found by a crash and a second load; (c) a bare
``LlamaSession`` in this process plus one decode (no isolation). (c) pays for
no process start, no imports (llama.cpp is already imported here) and no pipe;
(a) and (b) pay for all three, which is what the figure shows.
Usage: .venv/bin/python benchmarks/engine_cold_start.py [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from _common import median, model_path, parse_args, report
from s1desk.backends.engine.safe_mode import SafeMode
from s1desk.backends.llama_session import LlamaSession
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig


def engine(runner: asyncio.Runner, config: LocalModelConfig, safe: SafeMode) -> float:
    start = time.perf_counter()
    backend = runner.run(LocalBackend.load(config, safe_mode=safe))
    took = time.perf_counter() - start
    runner.run(backend.aclose())
    return took


def in_process(config: LocalModelConfig) -> float:
    start = time.perf_counter()
    session = LlamaSession(config)
    tokens = session.tokenize("Hello", first=True)
    session.prefill(tokens, threading.Event())
    session.eval(tokens[-1:])
    took = time.perf_counter() - start
    session.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parse_args(parser)
    config = LocalModelConfig(path=model_path(), n_ctx=4096)
    results: dict[str, list[float]] = {"engine": [], "engine_first_time": [], "in_process": []}
    with asyncio.Runner() as runner, tempfile.TemporaryDirectory() as tmp:
        known = SafeMode(Path(tmp) / "known.json")
        probe = runner.run(LocalBackend.load(config, safe_mode=known))
        safe_config = LocalModelConfig(
            path=config.path, n_ctx=config.n_ctx, extra_buffers=probe.loaded.extra_buffers
        )
        runner.run(probe.aclose())
        for r in range(args.rounds):
            fresh = SafeMode(Path(tmp) / f"fresh-{r}.json")
            sides: list[tuple[str, Callable[[], float]]] = [
                ("engine", lambda: engine(runner, config, known)),
                ("engine_first_time", functools.partial(engine, runner, config, fresh)),
                ("in_process", lambda: in_process(safe_config)),
            ]
            sides = sides[r % 3 :] + sides[: r % 3]
            for name, side in sides:
                results[name].append(side())
    m = {k: median(v) for k, v in results.items()}
    report(
        "engine_cold_start",
        {
            "rounds": args.rounds,
            "seconds": {k: round(v, 3) for k, v in m.items()},
            "all_rounds": {k: [round(x, 3) for x in v] for k, v in results.items()},
            "extra_buffers_safe_here": safe_config.extra_buffers,
            "engine_over_in_process": round(m["engine"] / m["in_process"], 3),
        },
    )


if __name__ == "__main__":
    main()
