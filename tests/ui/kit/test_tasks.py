"""Background tasks: tracked while they run, awaited together, failures logged not raised."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from s1desk.ui.kit.tasks import Tasks


def test_wait_returns_once_every_task_and_those_they_start_ended(
    arun: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    tasks = Tasks()
    done: list[str] = []

    async def step(name: str, then: str | None = None) -> None:
        await asyncio.sleep(0.02)
        done.append(name)
        if then is not None:
            tasks.spawn(step(then))

    async def broken() -> None:
        raise RuntimeError("a load failed")

    async def scenario() -> None:
        tasks.spawn(step("a", then="b"))
        tasks.spawn(broken())
        assert len(tasks) == 2
        await tasks.wait()

    with caplog.at_level(logging.ERROR):
        arun(scenario())
    assert done == ["a", "b"]
    assert len(tasks) == 0
    assert "a load failed" in caplog.text
