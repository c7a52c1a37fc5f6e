"""``s1desk models …`` end to end: a catalog download from the loopback hub, list, fit, rm."""

from __future__ import annotations

from pathlib import Path

import pytest

from s1desk.cli import main
from support.hub_server import HostedFile, HubState
from support.testmodel import SHA256

CATALOG_REPO = "mradermacher/s1.1-1.5B-GGUF"
CATALOG_FILE = "s1.1-1.5B.Q4_K_M.gguf"


@pytest.fixture
def catalog_hub(hub_state: HubState, model_path: Path) -> HubState:
    """Serve the test model under a name the packaged catalog knows."""
    hub_state.repos[CATALOG_REPO] = {CATALOG_FILE: HostedFile(model_path, sha256=SHA256)}
    return hub_state


def test_download_list_and_rm(
    catalog_hub: HubState, hf_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "download", "s1.1-1.5B", "Q4_K_M"]) == 0
    out, err = capsys.readouterr()
    assert "Ready:" in out
    assert CATALOG_FILE in out
    assert "100.0%" in err
    assert "MB/s" in err

    assert main(["models", "list", "--catalog"]) == 0
    out, _ = capsys.readouterr()
    assert f"{CATALOG_REPO}/{CATALOG_FILE}  Q4_K_M" in out
    assert "[downloaded]" in out

    # Without a terminal and without --yes nothing is deleted.
    assert main(["models", "rm", CATALOG_FILE]) == 1
    _, err = capsys.readouterr()
    assert "--yes" in err
    assert main(["models", "rm", CATALOG_FILE, "--yes"]) == 0
    assert main(["models", "list"]) == 0
    out, _ = capsys.readouterr()
    assert "No models on this machine yet." in out


def test_refresh_reads_sizes_and_checksums_from_the_hub(
    catalog_hub: HubState, hf_env: Path, model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from s1desk.models.catalog import load_catalog

    assert main(["models", "list", "--catalog", "--refresh"]) == 0
    _, err = capsys.readouterr()
    assert "warning:" in err  # the other catalog repositories are not on this hub
    q = load_catalog().quantization("s1.1-1.5B", "Q4_K_M")
    assert not q.estimated
    assert q.size == model_path.stat().st_size
    assert q.files[0].sha256 == SHA256
    # Repositories the hub could not list keep their estimated entries.
    assert load_catalog().quantization("s1.1-32B", "Q4_K_M").estimated


def test_fit_on_this_machine(hf_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "fit", "--ctx", "8192"]) == 0
    out, _ = capsys.readouterr()
    assert "RAM:" in out
    assert "Recommended:" in out


def test_fit_of_a_local_file(
    hf_env: Path, model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "fit", str(model_path), "--ctx", "4096"]) == 0
    out, _ = capsys.readouterr()
    assert model_path.name in out


def test_unknown_quantization_is_a_clear_error(
    hf_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "download", "s1.1-1.5B", "Q9_K"]) == 1
    _, err = capsys.readouterr()
    assert "no quantization 'Q9_K'" in err
    assert "Q4_K_M" in err
