"""The engine's decode rate as a consumer sees it: the one measurement several benchmarks share."""

from __future__ import annotations

import asyncio
import time

from s1desk.backends.base import GenerationRequest
from s1desk.backends.local import LocalBackend
from s1desk.events import ThinkingText
from s1desk.thinking.policy import BudgetPolicy

QUESTION = "Count from 1 to 400, separated by commas."


def rate(stamps: list[float]) -> float:
    """Tokens per second from the arrival time of each, second to last."""
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def engine_rate(backend: LocalBackend, runner: asyncio.Runner, n: int) -> float:
    """Decode ``n`` thinking tokens (forced to exactly ``n``) and time them at the consumer."""
    request = GenerationRequest(
        question=QUESTION,
        policy=BudgetPolicy(max_thinking=n, min_thinking=n, max_waits=50, max_answer=1),
    )

    async def go() -> float:
        stamps = [
            time.perf_counter()
            async for event in backend.stream(request)
            if isinstance(event, ThinkingText)
        ]
        return rate(stamps)

    return runner.run(go())
