"""Fixtures shared by every test: the real test model, an event-loop runner, hygiene."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import pytest

from support.testmodel import test_model_path


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The real Qwen2.5-Coder-0.5B-Instruct GGUF, assembled and checksummed."""
    return test_model_path()


@pytest.fixture(scope="session")
def runner() -> Iterator[asyncio.Runner]:
    """One event loop for the session, so backends can outlive a single test."""
    with asyncio.Runner() as r:
        yield r


#: Prefix of every thread the app starts itself (llama.cpp worker, checkpointer, downloads).
APP_THREAD_PREFIX = "s1desk-"


#: Threads started while a fixture wider than one test was set up (a session's backend):
#: they belong to that fixture, not to the test that first asked for it.
_FIXTURE_THREADS: set[threading.Thread] = set()


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[object]) -> Generator[None, object, object]:
    if fixturedef.scope == "function":
        return (yield)
    before = set(threading.enumerate())
    try:
        return (yield)
    finally:
        _FIXTURE_THREADS.update(set(threading.enumerate()) - before)


def leaked_threads(before: set[threading.Thread], grace: float = 5.0) -> list[str]:
    """Threads started since ``before`` that are still running after ``grace`` seconds.

    Any new non-daemon thread counts, and so does every thread of the app's own
    (named ``s1desk-…``), daemon or not: a worker left behind by a closed
    backend, store or download is a leak even when it would not block exit.
    """
    new = [
        t
        for t in threading.enumerate()
        if t not in before
        and t not in _FIXTURE_THREADS
        and t.is_alive()
        and (not t.daemon or t.name.startswith(APP_THREAD_PREFIX))
    ]
    for t in new:
        t.join(timeout=grace)
    return [t.name for t in new if t.is_alive()]


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
