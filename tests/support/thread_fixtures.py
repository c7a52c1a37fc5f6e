"""The leaked-thread check, for every test: a plugin, so it sees session-wide fixtures too.

pytest calls a conftest's hooks only for nodes below it, and a session-wide
fixture (a session's backend in support.backend_fixtures) is set up on the
session node, so the hook that gives such a fixture its threads lives here.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator

import pytest

from support.threads import FIXTURE_THREADS, leaked_threads


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[object]) -> Generator[None, object, object]:
    """Threads a fixture wider than one test starts while it is set up are its own."""
    if fixturedef.scope == "function":
        return (yield)
    before = set(threading.enumerate())
    try:
        return (yield)
    finally:
        FIXTURE_THREADS.update(set(threading.enumerate()) - before)


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a new non-daemon thread, or any app worker thread, running.

    Threads started by the setup of a fixture wider than the test (a session's
    backend and its engine's reader threads) belong to that fixture and do not
    count against the test.
    """
    before = set(threading.enumerate())
    yield
    still = leaked_threads(before)
    assert not still, f"threads left running: {still}"
