"""Fixtures for the scaling lab: a hub with dataset routes, a real server, question files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lab.dataset_hub import serve_datasets
from lab.queueing_server import queueing_server
from lab.sums import LAB_CONTEXT, SUMS, write_questions

from support.hub_server import HubServer
from support.servers import LlamaCppServer


@pytest.fixture
def sums(tmp_path: Path) -> Path:
    return write_questions(tmp_path / "sums.jsonl", SUMS)


@pytest.fixture(scope="session")
def dataset_hub() -> Iterator[HubServer]:
    with HubServer() as server:
        yield serve_datasets(server)


@pytest.fixture
def lab_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """S1DESK_HOME and the HF cache in tmp_path, so no run touches real user state."""
    home = tmp_path / "home"
    monkeypatch.setenv("S1DESK_HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return home


@pytest.fixture(scope="session")
def lab_server(
    model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaCppServer]:
    """A real OpenAI-compatible server (llama_cpp.server) on the test model, on loopback."""
    log = tmp_path_factory.mktemp("lab-server") / "server.log"
    with queueing_server(model_path, LAB_CONTEXT, log) as server:
        yield server
