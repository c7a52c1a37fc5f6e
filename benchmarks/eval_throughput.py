"""The eval's request throughput against a bare concurrent HTTP client sending the same requests.

The eval runs a small sweep against a real server with P requests in flight
(one connection each); every HTTP request it makes is recorded per
connection. The bare client then replays exactly those requests, P
connections at once, each in its recorded order, reading every streamed
response to its end (it parses nothing, scores nothing and keeps no journal;
the eval does all three). Rounds alternate which side goes first; each is
timed from its first request to the end of its last response, and its
throughput is the generations it completed per second. Target: eval / bare
>= 0.95, as the median of the per-round ratios. The result is kept as
``eval_throughput_pP`` (P requests in flight).

Without --url it starts llama_cpp.server on the test model, told to queue
concurrent requests (by default it interrupts a streaming request when
another arrives); it decodes one at a time, so P > 1 measures the client's
overhead only. A vLLM server (--url, --model) batches what is in flight.

Usage: .venv/bin/python benchmarks/eval_throughput.py [--parallel P] [--rounds N]
       [--url URL --model NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from _common import median, model_path, parse_args, report, rotated
from s1desk.backends.base import Backend
from s1desk.backends.remote import RemoteBackend
from s1desk.backends.remote_config import RemoteServerConfig
from s1desk.lab.journal import Journal
from s1desk.lab.plan import EvalPlan, Mode
from s1desk.lab.questions import AnswerKind, Question
from s1desk.lab.runner import EvalRun
from support.servers import MODEL_ALIAS

QUESTIONS = [
    Question(
        str(i), f"What is {i} + {i}? End with a line Answer: N", str(2 * i), AnswerKind.INTEGER
    )
    for i in range(1, 5)
]
PLAN = EvalPlan(budgets=(0, 16), mode=Mode.FORCE, max_answer=16)
CONTEXT = 1024


class Recording(httpx.AsyncBaseTransport):
    """Passes requests on and keeps (method, url, body) of each, in order."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.log: list[tuple[str, str, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.log.append((request.method, str(request.url), body))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def eval_run(
    url: str, model: str, parallel: int, record: bool
) -> tuple[float, list[Recording]]:
    config = RemoteServerConfig(url, model, context_length=CONTEXT)
    transports = [Recording() for _ in range(parallel)] if record else []
    backends: list[Backend] = []
    for i in range(parallel):
        transport = transports[i] if record else None
        backends.append(await RemoteBackend.connect(config, transport=transport))
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal.open(Path(tmp) / "run", {}, resume=False)
        start = time.perf_counter()
        run = EvalRun(QUESTIONS, PLAN, backends, journal, parallel=parallel)
        async for _event in run.events():
            pass
        elapsed = time.perf_counter() - start
        journal.close()
    for b in backends:
        await b.aclose()
    if run.done != run.total:
        raise RuntimeError(f"the eval finished {run.done} of {run.total} generations")
    return elapsed, transports


async def bare_run(logs: list[list[tuple[str, str, bytes]]]) -> float:
    async def replay(log: list[tuple[str, str, bytes]]) -> None:
        async with httpx.AsyncClient(timeout=300, trust_env=False) as client:
            for method, url, body in log:
                headers = {"Content-Type": "application/json"} if body else {}
                async with client.stream(method, url, content=body, headers=headers) as r:
                    async for _ in r.aiter_raw():
                        pass

    start = time.perf_counter()
    await asyncio.gather(*(replay(log) for log in logs))
    return time.perf_counter() - start


async def measure(url: str, model: str, parallel: int, rounds: int) -> dict[str, object]:
    _, recorded = await eval_run(url, model, parallel, record=True)  # also warms the server
    logs = [r.log for r in recorded]
    generations = len(QUESTIONS) * len(PLAN.budgets)
    rates: dict[str, list[float]] = {"eval": [], "bare": []}
    for r in range(rounds):
        for side in rotated(["eval", "bare"], r):
            if side == "eval":
                took, _ = await eval_run(url, model, parallel, record=False)
            else:
                took = await bare_run(logs)
            rates[side].append(generations / took)
        print(
            f"round {r}: eval {generations / rates['eval'][-1]:.2f} s | "
            f"bare {generations / rates['bare'][-1]:.2f} s ({sum(map(len, logs))} requests)"
        )
    by_round = [e / b for e, b in zip(rates["eval"], rates["bare"], strict=True)]
    return {
        "parallel": parallel,
        "generations_per_round": generations,
        "requests_per_round": sum(map(len, logs)),
        "rounds": rounds,
        "eval_generations_per_s_median": round(median(rates["eval"]), 3),
        "bare_generations_per_s_median": round(median(rates["bare"]), 3),
        "eval_over_bare": round(median(by_round), 3),
        "eval_over_bare_by_round": [round(x, 3) for x in by_round],
        "target": 0.95,
    }


@contextlib.contextmanager
def server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    # tests/ is on the path once _common is imported, which the sorted imports put later.
    from lab.queueing_server import queueing_server

    log = Path(tempfile.gettempdir()) / "eval-bench-server.log"
    with queueing_server(model_path(), CONTEXT, log) as s:
        yield s.base_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url", default=None, help="a running server (default: llama_cpp.server)")
    parser.add_argument("--model", default=MODEL_ALIAS)
    args = parse_args(parser)
    with server(args.url) as url:
        result = asyncio.run(measure(url, args.model, args.parallel, args.rounds))
    where = args.url or "llama_cpp.server on loopback"
    report(f"eval_throughput_p{args.parallel}", {"server": where, **result})


if __name__ == "__main__":
    main()
