"""The Models window's downloads, driven through its buttons against a loopback hub.

The real ``huggingface_hub`` client fetches real files from the hub-compatible
server in tests/support/hub_server.py (``HF_ENDPOINT``) into a Hugging Face
cache under ``tmp_path``. The files are small GGUFs written here (24 MiB: the
client hands data over in 10 MiB pieces, so a download reports progress a few
times), throttled where a test must act mid-transfer.
"""

from __future__ import annotations

import asyncio
import random
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from s1desk.backends.scripted import ScriptedBackend, synthetic_reply
from s1desk.models.architecture import Architecture
from s1desk.models.catalog import Catalog, CatalogModel, CatalogRepo, group_files
from s1desk.models.download import DownloadRequest, download
from s1desk.models.hardware import Hardware
from s1desk.ui.models.models_dialog import ModelManagerDialog
from s1desk.ui.models.quant_row import QuantRow
from support.hub_server import HostedFile, HubServer, HubState
from support.qt import Windows, until

REPO = "simplescaling-test/s1-tiny-GGUF"
PRIVATE = "simplescaling-test/s1-private-GGUF"
MODEL = "s1-tiny"
Q4 = "s1-tiny-Q4_K_M.gguf"
Q8 = "s1-tiny-Q8_0.gguf"  # listed in the catalog, missing on the hub until a test adds it
Q6 = "s1-tiny-Q6_K.gguf"  # in a private repository
TENSOR_BYTES = 24 << 20
ARCH = Architecture(n_layers=24, n_heads=14, n_kv_heads=2, head_dim=64, n_embd=896, n_vocab=151_936)
NO_GPU = Hardware(
    gpus=(),
    offload_supported=False,
    ram_total=16 << 30,
    ram_available=12 << 30,
    notes=("No NVIDIA driver found (libnvidia-ml is missing): running on the CPU.",),
)


def write_gguf(path: Path, file_type: int, tensor_bytes: int = TENSOR_BYTES, seed: int = 1) -> Path:
    """A small but well-formed GGUF: a qwen2 header and one int8 tensor of random bytes."""

    def string(s: str) -> bytes:
        raw = s.encode()
        return struct.pack("<Q", len(raw)) + raw

    header = b"GGUF" + struct.pack("<IQQ", 3, 1, 3)
    header += string("general.architecture") + struct.pack("<I", 8) + string("qwen2")
    header += string("general.name") + struct.pack("<I", 8) + string("s1 tiny")
    header += string("general.file_type") + struct.pack("<II", 4, file_type)
    header += string("blob") + struct.pack("<IQIQ", 1, tensor_bytes, 24, 0)  # I8, offset 0
    header += b"\0" * (-len(header) % 32)
    path.write_bytes(header + random.Random(seed).randbytes(tensor_bytes))
    return path


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("tiny")
    return {
        Q4: write_gguf(d / Q4, 15, seed=1),
        Q8: write_gguf(d / Q8, 7, seed=2),
        Q6: write_gguf(d / Q6, 18, seed=3),
    }


@pytest.fixture(scope="module")
def hub() -> Iterator[HubServer]:
    with HubServer() as server:
        yield server


@pytest.fixture
def hub_state(hub: HubServer, tiny_files: dict[str, Path]) -> HubState:
    state = hub.state
    state.reset(
        {
            REPO: {Q4: HostedFile(tiny_files[Q4])},
            PRIVATE: {Q6: HostedFile(tiny_files[Q6])},
        },
        token="s3cret",
        private={PRIVATE},
    )
    return state


@pytest.fixture
def hf_cache(tmp_path: Path, hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HF_HOME and HF_HUB_CACHE in tmp_path, HF_ENDPOINT at the loopback hub, no token."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return tmp_path / "hf" / "hub"


def tiny_catalog(tiny_files: dict[str, Path]) -> Catalog:
    """The catalog the window shows here: the loopback repositories, with the files' real sizes."""

    def entries(*names: str) -> list[dict[str, Any]]:
        return [{"name": n, "size": tiny_files[n].stat().st_size, "listed": True} for n in names]

    params = 500_000_000
    return Catalog(
        (
            CatalogModel(
                id=MODEL,
                base_model="simplescaling-test/s1-tiny",
                description="A tiny stand-in served by the test hub.",
                params=params,
                architecture=ARCH,
                repos=(
                    CatalogRepo(REPO, group_files(MODEL, REPO, params, entries(Q4, Q8))),
                    CatalogRepo(PRIVATE, group_files(MODEL, PRIVATE, params, entries(Q6))),
                ),
            ),
        )
    )


@pytest.fixture
def manager(
    hub_state: HubState, hf_cache: Path, tiny_files: dict[str, Path], arun: Callable[..., Any]
) -> Iterator[ModelManagerDialog]:
    dialog = ModelManagerDialog(catalog=tiny_catalog(tiny_files), hardware=NO_GPU)
    dialog.show()
    yield dialog
    arun(dialog.shutdown())
    dialog.close()
    dialog.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def row(dialog: ModelManagerDialog, quant: str) -> QuantRow:
    return dialog.catalog_view.row(MODEL, quant)


def test_a_download_shows_progress_completes_and_is_listed(
    manager: ModelManagerDialog, hub_state: HubState, hf_cache: Path, arun: Callable[..., Any]
) -> None:
    hub_state.throttle_bytes_per_s = 16 << 20
    r = row(manager, "Q4_K_M")
    assert r.download_button.isVisible()
    assert manager.intro.isVisible()  # a new user is told what to do
    assert manager.local_view.models == []
    seen: list[tuple[int, str]] = []
    manager.downloads.update.connect(
        lambda _u: seen.append((r.progress.value(), r.status_label.text()))
    )
    r.download_button.click()
    assert r.progress.isVisible()
    assert r.pause_button.isVisible()
    assert r.cancel_button.isVisible()
    assert not r.download_button.isVisible()
    arun(until(lambda: r.state == "downloaded", 30, "the download"))
    partway = [(v, text) for v, text in seen if 0 < v < 1000 and "MB/s" in text]
    assert partway, seen  # a bar part-filled, with a speed ...
    assert any("left" in text for _v, text in partway)  # ... and the time left
    assert any("Verifying" in text for _v, text in seen)
    assert r.use_button.isVisible()
    assert not r.progress.isVisible()
    assert r.status_label.text() == "Downloaded"
    # It is in the Hugging Face cache, verified, and on the local list.
    [local] = manager.local_view.models
    assert local.source == "cache"
    assert local.repo_id == REPO
    assert local.quantization == "Q4_K_M"
    assert local.path == r.path
    assert local.path.read_bytes()[:4] == b"GGUF"
    assert manager.tabs.tabText(1) == "On this machine (1)"
    assert not manager.intro.isVisible()
    # Use hands the file to whoever loads models, and gets out of the way.
    chosen: list[Path] = []
    manager.use_requested.connect(chosen.append)
    r.use_button.click()
    assert chosen == [local.path]
    assert not manager.isVisible()
    # A new window finds it already downloaded.
    again = ModelManagerDialog(catalog=manager.catalog_view.catalog, hardware=NO_GPU)
    assert row(again, "Q4_K_M").use_button.isVisibleTo(again)
    assert not row(again, "Q4_K_M").download_button.isVisibleTo(again)
    arun(again.shutdown())
    again.deleteLater()


def test_pause_then_resume_goes_on_from_the_partial_file(
    manager: ModelManagerDialog, hub_state: HubState, hf_cache: Path, arun: Callable[..., Any]
) -> None:
    hub_state.throttle_bytes_per_s = 8 << 20
    r = row(manager, "Q4_K_M")
    r.download_button.click()
    arun(until(lambda: r.progress.value() > 0, 30, "some progress"))
    r.pause_button.click()
    arun(until(lambda: r.state == "paused", 30, "the pause"))
    assert r.resume_button.isVisible()
    assert not r.pause_button.isVisible()
    assert r.cancel_button.isVisible()
    assert r.status_label.text().startswith("Paused at")
    held = r.progress.value()
    assert 0 < held < 1000
    [partial] = hf_cache.rglob("*.incomplete")
    kept = partial.stat().st_size
    assert kept > 0
    arun(asyncio.sleep(0.5))
    assert partial.stat().st_size == kept  # nothing moves while paused
    assert r.progress.value() == held
    hub_state.throttle_bytes_per_s = None
    r.resume_button.click()
    arun(until(lambda: r.state == "downloaded", 30, "the rest"))
    gets = hub_state.requests_for(Q4)
    assert len(gets) == 2
    assert gets[1].range is not None  # resumed with a Range request, not from zero
    start = int(gets[1].range.removeprefix("bytes=").rstrip("-"))
    assert start == kept
    assert gets[1].body_bytes == r.quant.size - start


def test_cancel_stops_and_keeps_the_partial_file(
    manager: ModelManagerDialog, hub_state: HubState, hf_cache: Path, arun: Callable[..., Any]
) -> None:
    hub_state.throttle_bytes_per_s = 8 << 20
    r = row(manager, "Q4_K_M")
    r.download_button.click()
    arun(until(lambda: r.progress.value() > 0, 30, "some progress"))
    r.cancel_button.click()
    arun(until(lambda: r.state == "idle", 30, "the cancel"))
    assert r.download_button.isVisible()
    assert not r.progress.isVisible()
    assert "Cancelled" in r.status_label.text()
    assert "resumes" in r.status_label.text()
    assert [p.stat().st_size > 0 for p in hf_cache.rglob("*.incomplete")] == [True]
    assert manager.local_view.models == []
    # Download again: it goes on from the kept bytes.
    hub_state.throttle_bytes_per_s = None
    r.download_button.click()
    arun(until(lambda: r.state == "downloaded", 30, "the download"))
    assert any(g.range is not None for g in hub_state.requests_for(Q4))


def test_a_missing_file_shows_404_and_retry_fetches_it_once_it_is_there(
    manager: ModelManagerDialog,
    hub_state: HubState,
    tiny_files: dict[str, Path],
    arun: Callable[..., Any],
) -> None:
    r = row(manager, "Q8_0")
    r.download_button.click()
    arun(until(lambda: r.state == "failed", 30, "the failure"))
    assert r.error_label.isVisible()
    text = r.error_label.text()
    assert "Not found" in text
    assert "404" in text
    assert Q8 in text
    assert r.retry_button.isVisible()
    assert not r.download_button.isVisible()
    assert not r.progress.isVisible()
    with hub_state.lock:
        hub_state.repos[REPO][Q8] = HostedFile(tiny_files[Q8])
    r.retry_button.click()
    assert not r.error_label.isVisible()
    arun(until(lambda: r.state == "downloaded", 30, "the download"))
    assert [m.quantization for m in manager.local_view.models] == ["Q8_0"]


def test_a_private_repository_says_to_log_in_with_the_hubs_login(
    manager: ModelManagerDialog, arun: Callable[..., Any]
) -> None:
    r = row(manager, "Q6_K")
    r.download_button.click()
    arun(until(lambda: r.state == "failed", 30, "the failure"))
    text = r.error_label.text()
    assert "Access refused" in text
    assert "401" in text
    assert "hf auth login" in text
    assert r.retry_button.isVisible()


def test_no_network_is_said_plainly(
    manager: ModelManagerDialog, monkeypatch: pytest.MonkeyPatch, arun: Callable[..., Any]
) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("HF_ENDPOINT", closed)
    r = row(manager, "Q4_K_M")
    r.download_button.click()
    arun(until(lambda: r.state == "failed", 60, "the failure"))
    assert "No network" in r.error_label.text()
    assert "Cannot reach" in r.error_label.text()


def test_a_corrupted_download_is_caught_by_the_checksum(
    manager: ModelManagerDialog, hub_state: HubState, hf_cache: Path, arun: Callable[..., Any]
) -> None:
    hub_state.corrupt.add(Q4)
    r = row(manager, "Q4_K_M")
    r.download_button.click()
    arun(until(lambda: r.state == "failed", 30, "the failure"))
    assert "Checksum mismatch" in r.error_label.text()
    assert "sha256" in r.error_label.text()
    assert manager.local_view.models == []
    hub_state.corrupt.clear()
    r.retry_button.click()
    arun(until(lambda: r.state == "downloaded", 30, "the download"))


def test_delete_asks_first_and_then_removes_the_files(
    manager: ModelManagerDialog, hf_cache: Path, arun: Callable[..., Any]
) -> None:
    path = download(DownloadRequest(REPO, (Q4,)))
    blob = path.resolve()
    manager.local_view.refresh()
    manager.catalog_view.refresh_downloaded()
    manager.show_local()
    view = manager.local_view
    assert [m.path for m in view.models] == [path]
    assert view.selected() is not None
    view.delete_button.click()
    box = view.confirm_box
    assert isinstance(box, QMessageBox)
    assert box.isVisible()
    assert "Delete" in box.text()
    assert REPO in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert path.exists()  # "Cancel" keeps it
    assert len(view.models) == 1
    view.delete_button.click()
    box = view.confirm_box
    assert box is not None
    [confirm] = [b for b in box.buttons() if b.objectName() == "confirmButton"]
    confirm.click()
    assert not path.exists()
    assert not blob.exists()
    assert view.models == []
    assert "Deleted" in view.message.text()
    r = row(manager, "Q4_K_M")
    assert r.state == "idle"  # back to downloadable in the catalog
    assert r.download_button.isVisibleTo(r)
    assert manager.intro.isVisible()


def test_chatting_goes_on_while_a_model_downloads(
    windows: Windows,
    hub_state: HubState,
    hf_cache: Path,
    tiny_files: dict[str, Path],
    arun: Callable[..., Any],
) -> None:
    hub_state.throttle_bytes_per_s = 6 << 20  # about 4 s
    w = windows.make(ScriptedBackend(lambda _r: synthetic_reply(200), rate=2000))
    w.actions_by_name["models"].trigger()
    manager = w.dialogs.model_manager
    assert manager is not None
    assert manager.isVisible()
    assert not manager.isModal()
    manager.catalog_view.set_catalog(tiny_catalog(tiny_files))
    r = row(manager, "Q4_K_M")
    r.download_button.click()
    manager.close()  # the download goes on with the window closed
    w.chat.submit("What is 7×8?")
    arun(w.controller.wait_idle())
    reply = w.controller.message(0)
    assert reply is not None
    assert "56" in reply.answer
    assert r.state == "running"  # the reply finished first; the download is still going
    arun(until(lambda: r.state == "downloaded", 30, "the download"))
    w.actions_by_name["models"].trigger()  # the same window, with its finished download
    assert w.dialogs.model_manager is manager
    assert [m.quantization for m in manager.local_view.models] == ["Q4_K_M"]


def test_refresh_from_hub_reads_real_sizes_and_names_unreadable_repositories(
    hub_state: HubState, hf_cache: Path, tiny_files: dict[str, Path], arun: Callable[..., Any]
) -> None:
    name = "s1.1-1.5B.Q4_K_M.gguf"
    with hub_state.lock:
        hub_state.repos["mradermacher/s1.1-1.5B-GGUF"] = {name: HostedFile(tiny_files[Q4])}
    dialog = ModelManagerDialog(hardware=NO_GPU)  # the packaged catalog
    try:
        view = dialog.catalog_view
        before = view.row("s1.1-1.5B", "Q4_K_M")
        assert before.quant.estimated
        assert before.size_label.text().startswith("≈")
        view.refresh_button.click()
        assert not view.refresh_button.isEnabled()
        arun(until(lambda: view.refresh_button.isEnabled(), 60, "the refresh"))
        after = view.row("s1.1-1.5B", "Q4_K_M")
        assert not after.quant.estimated
        assert after.quant.size == tiny_files[Q4].stat().st_size
        assert after.size_label.text() == "25 MB"
        assert after.verdict_label.text()  # re-assessed with the real size
        # The repositories the loopback hub does not hold are named, not hidden.
        assert "could not be read" in view.refresh_label.text()
        assert "bartowski/simplescaling_s1.1-32B-GGUF" in view.refresh_label.text()
    finally:
        arun(dialog.shutdown())
        dialog.deleteLater()
