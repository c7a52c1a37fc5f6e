"""Fixtures shared by every test: the real test model, an event-loop runner, hygiene."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import pytest

from support.testmodel import test_model_path
from support.threads import FIXTURE_THREADS, leaked_threads


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The real Qwen2.5-Coder-0.5B-Instruct GGUF, assembled and checksummed."""
    return test_model_path()


@pytest.fixture(scope="session")
def runner() -> Iterator[asyncio.Runner]:
    """One event loop for the session, so backends can outlive a single test."""
    with asyncio.Runner() as r:
        yield r


class _FixtureThreads:
    """Marks the threads a fixture wider than one test starts while it is set up as its own.

    A plugin rather than a hook of this file: pytest calls a conftest's hooks only
    for nodes below it, and a session-wide fixture is set up on the session node.
    """

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[object]
    ) -> Generator[None, object, object]:
        if fixturedef.scope == "function":
            return (yield)
        before = set(threading.enumerate())
        try:
            return (yield)
        finally:
            FIXTURE_THREADS.update(set(threading.enumerate()) - before)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_FixtureThreads(), "s1desk-fixture-threads")


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a new non-daemon thread, or any app worker thread, running.

    Threads started by the setup of a fixture wider than the test (a session's
    backend) belong to that fixture and do not count against the test.
    """
    before = set(threading.enumerate())
    yield
    still = leaked_threads(before)
    assert not still, f"threads left running: {still}"


async def collect(stream: AsyncIterator[object]) -> list[object]:
    return [event async for event in stream]
