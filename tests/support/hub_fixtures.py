"""Fixtures for the model tests: a hub-compatible server on loopback and a private HF cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.hub_server import HostedFile, HubServer, HubState
from support.testmodel import SHA256

REPO = "simplescaling-test/s1-test-GGUF"
MODEL_FILE = "s1-test-Q4_K_M.gguf"
SMALL_FILE = "s1-test-slice.bin"
SMALL_SIZE = 24 << 20


@pytest.fixture(scope="session")
def hub(model_path: Path) -> Iterator[HubServer]:
    with HubServer() as server:
        yield server


@pytest.fixture
def hub_state(hub: HubServer, model_path: Path) -> HubState:
    """The server's state, reset for each test: one repository with the real test model."""
    state = hub.state
    state.reset(
        {
            REPO: {
                MODEL_FILE: HostedFile(model_path, sha256=SHA256),
                SMALL_FILE: HostedFile(model_path, offset=1 << 20, length=SMALL_SIZE),
            }
        }
    )
    return state


@pytest.fixture
def hf_env(tmp_path: Path, hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HF_HOME, HF_HUB_CACHE and HF_ENDPOINT pointed at tmp_path and the loopback hub."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.setenv("S1DESK_HOME", str(tmp_path / "s1desk"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return tmp_path / "hf" / "hub"
