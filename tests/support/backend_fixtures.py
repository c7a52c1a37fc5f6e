"""Backends under test: every contract test runs against each of them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from s1desk.backends.base import Backend
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig
from s1desk.backends.remote import RemoteBackend
from s1desk.backends.remote_config import RemoteServerConfig
from support.servers import MODEL_ALIAS, LlamaCppServer

TEST_CONTEXT = 4096


@pytest.fixture(scope="session")
def local_backend(runner: asyncio.Runner, model_path: Path) -> Iterator[LocalBackend]:
    backend = runner.run(LocalBackend.load(LocalModelConfig(path=model_path, n_ctx=TEST_CONTEXT)))
    yield backend
    runner.run(backend.aclose())


@pytest.fixture(scope="session")
def llama_server(
    model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaCppServer]:
    """A real OpenAI-compatible server (llama_cpp.server) on the test model, on loopback."""
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with LlamaCppServer(model_path, n_ctx=TEST_CONTEXT, log_path=log) as server:
        yield server


@pytest.fixture(scope="session")
def remote_backend(runner: asyncio.Runner, llama_server: LlamaCppServer) -> Iterator[RemoteBackend]:
    config = RemoteServerConfig(
        base_url=llama_server.base_url, model=MODEL_ALIAS, context_length=TEST_CONTEXT
    )
    backend = runner.run(RemoteBackend.connect(config))
    yield backend
    runner.run(backend.aclose())


@pytest.fixture(params=["local", "remote"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each backend that implements the protocol, loaded once per session."""
    fixture: Backend = request.getfixturevalue(f"{request.param}_backend")
    return fixture
