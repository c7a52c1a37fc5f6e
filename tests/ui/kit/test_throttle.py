"""The throttle: the first call goes at once, calls inside the interval collapse into one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from s1desk.ui.kit.throttle import Throttle


def test_calls_inside_the_interval_collapse_into_the_last(arun: Callable[..., Any]) -> None:
    seen: list[int] = []
    throttle = Throttle(seen.append, 100)
    throttle(1)
    throttle(2)
    throttle(3)
    assert seen == [1]  # the first at once, the rest held

    async def later() -> None:
        await asyncio.sleep(0.3)

    arun(later())
    assert seen == [1, 3]  # the held call ran with the latest arguments


def test_now_calls_at_once_and_drops_what_was_held(arun: Callable[..., Any]) -> None:
    seen: list[str] = []
    throttle = Throttle(seen.append, 100)
    throttle("first")
    throttle("held")
    throttle.now("final")

    async def later() -> None:
        await asyncio.sleep(0.3)

    arun(later())
    assert seen == ["first", "final"]
