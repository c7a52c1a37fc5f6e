"""Backends under test: every contract test runs against each of them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from s1desk.backends.base import Backend
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig

TEST_CONTEXT = 4096


@pytest.fixture(scope="session")
def local_backend(runner: asyncio.Runner, model_path: Path) -> Iterator[LocalBackend]:
    backend = runner.run(LocalBackend.load(LocalModelConfig(path=model_path, n_ctx=TEST_CONTEXT)))
    yield backend
    runner.run(backend.aclose())


@pytest.fixture(params=["local"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each backend that implements the protocol, loaded once per session."""
    fixture: Backend = request.getfixturevalue(f"{request.param}_backend")
    return fixture
