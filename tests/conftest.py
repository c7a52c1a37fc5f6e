"""Fixtures shared by every test: the real test model, an event-loop runner, hygiene."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from support.testmodel import test_model_path

# Fixtures for more than one folder (the CLI tests use the backends' servers and the hub),
# and the leaked-thread check every test gets.
pytest_plugins = [
    "support.backend_fixtures",
    "support.hub_fixtures",
    "support.store_fixtures",
    "support.thread_fixtures",
]


QT_FOLDERS = ("ui", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the Qt tests (tests/ui, tests/e2e) after the others: their session's asyncio loop
    runs on Qt's and stays marked running until the session ends, where the core tests'
    own loops (``asyncio.run``, the ``runner`` fixture) could not start."""
    tests = Path(__file__).parent

    def is_qt(item: pytest.Item) -> bool:
        parts = item.path.relative_to(tests).parts
        return bool(parts) and parts[0] in QT_FOLDERS

    items.sort(key=is_qt)  # stable: the order within each group is kept


@pytest.fixture(scope="session", autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep every test's user state (settings, history, the engine's records) out of ~."""
    old = os.environ.get("S1DESK_HOME")
    os.environ["S1DESK_HOME"] = str(tmp_path_factory.mktemp("s1desk-home"))
    yield
    if old is None:
        os.environ.pop("S1DESK_HOME", None)
    else:
        os.environ["S1DESK_HOME"] = old


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The real Qwen2.5-Coder-0.5B-Instruct GGUF, assembled and checksummed."""
    return test_model_path()


@pytest.fixture(scope="session")
def runner() -> Iterator[asyncio.Runner]:
    """One event loop for the session, so backends can outlive a single test."""
    with asyncio.Runner() as r:
        yield r


async def collect(stream: AsyncIterator[object]) -> list[object]:
    return [event async for event in stream]
