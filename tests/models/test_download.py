"""Downloads with the real huggingface_hub client against a hub-compatible server on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import scan_cache_dir, try_to_load_from_cache

from s1desk.models.download import DownloadRequest, cached_path, download, start_download
from s1desk.models.download_errors import DownloadError
from s1desk.models.download_events import (
    DownloadCancelled,
    DownloadEvent,
    DownloadFailed,
    DownloadFinished,
    DownloadPaused,
    DownloadProgress,
)
from s1desk.models.gguf import read_gguf
from support.hub_fixtures import MODEL_FILE, REPO, SMALL_FILE, SMALL_SIZE
from support.hub_server import HubState
from support.testmodel import SHA256, SIZE


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _bytes_sent(state: HubState, name: str) -> int:
    return sum(r.body_bytes for r in state.requests_for(name))


def test_download_completes_verifies_and_lands_in_the_hf_cache(
    hub_state: HubState, hf_env: Path
) -> None:
    events: list[DownloadEvent] = []
    path = download(DownloadRequest(REPO, (MODEL_FILE,)), on_event=events.append)
    assert path.stat().st_size == SIZE
    assert _sha256(path) == SHA256
    assert read_gguf(path).quantization == "Q4_K_M"
    # The standard cache layout: other tools find the file, and we find theirs.
    assert try_to_load_from_cache(REPO, MODEL_FILE, cache_dir=hf_env) == str(path)
    repos = {r.repo_id for r in scan_cache_dir(hf_env).repos}
    assert REPO in repos
    progress = [e for e in events if isinstance(e, DownloadProgress)]
    assert progress[-1].phase == "verifying"
    assert progress[-1].done == progress[-1].total == SIZE
    assert any(e.speed > 0 for e in progress)
    assert isinstance(events[-1], DownloadFinished)
    assert not events[-1].reused
    # A second request reuses the cached file without transferring anything.
    before = _bytes_sent(hub_state, MODEL_FILE)
    again: list[DownloadEvent] = []
    assert download(DownloadRequest(REPO, (MODEL_FILE,)), on_event=again.append) == path
    assert _bytes_sent(hub_state, MODEL_FILE) == before
    assert isinstance(again[-1], DownloadFinished)
    assert again[-1].reused
    assert cached_path(REPO, [MODEL_FILE]) == path


def test_dropped_connection_resumes_without_starting_over(
    hub_state: HubState, hf_env: Path
) -> None:
    hub_state.drop_after[MODEL_FILE] = 150 << 20
    path = download(DownloadRequest(REPO, (MODEL_FILE,)))
    assert _sha256(path) == SHA256
    gets = hub_state.requests_for(MODEL_FILE)
    assert len(gets) == 2
    assert gets[0].range is None
    assert gets[0].body_bytes == 150 << 20
    assert gets[1].range == f"bytes={150 << 20}-"
    assert _bytes_sent(hub_state, MODEL_FILE) < 2 * SIZE
    assert _bytes_sent(hub_state, MODEL_FILE) == SIZE


def test_pause_then_resume_continues_from_the_partial_file(
    hub_state: HubState, hf_env: Path
) -> None:
    hub_state.throttle_bytes_per_s = 40 << 20
    paused = threading.Event()
    halfway = threading.Event()

    def watch(event: DownloadEvent) -> None:
        if isinstance(event, DownloadProgress) and event.done > 4 << 20:
            halfway.set()
        if isinstance(event, DownloadPaused):
            paused.set()

    handle = start_download(DownloadRequest(REPO, (SMALL_FILE,)), on_event=watch)
    assert halfway.wait(30)
    handle.pause()
    assert paused.wait(30)
    assert handle.paused
    assert not handle.done
    hub_state.throttle_bytes_per_s = None
    handle.resume()
    final = handle.wait(60)
    assert isinstance(final, DownloadFinished)
    gets = hub_state.requests_for(SMALL_FILE)
    assert len(gets) == 2
    assert gets[1].range is not None
    start = int(gets[1].range.removeprefix("bytes=").rstrip("-"))
    assert start > 4 << 20
    assert gets[1].body_bytes == SMALL_SIZE - start
    assert _bytes_sent(hub_state, SMALL_FILE) < 2 * SMALL_SIZE


def test_cancel_keeps_the_partial_file_and_a_restart_resumes_it(
    hub_state: HubState, hf_env: Path
) -> None:
    hub_state.throttle_bytes_per_s = 40 << 20
    started = threading.Event()

    def watch(event: DownloadEvent) -> None:
        if isinstance(event, DownloadProgress) and event.done > 2 << 20:
            started.set()

    handle = start_download(DownloadRequest(REPO, (SMALL_FILE,)), on_event=watch)
    assert started.wait(30)
    handle.cancel()
    final = handle.wait(30)
    assert isinstance(final, DownloadCancelled)
    partials = list(hf_env.rglob("*.incomplete"))
    assert len(partials) == 1
    kept = partials[0].stat().st_size
    assert kept > 0
    # "Restarting the app": a new download of the same file goes on from there,
    # run in a separate process so nothing survives in memory.
    hub_state.throttle_bytes_per_s = None
    code = (
        "from s1desk.models.download import DownloadRequest, download\n"
        f"print(download(DownloadRequest({REPO!r}, ({SMALL_FILE!r},))))\n"
    )
    import os
    import sys

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    path = Path(out.stdout.strip())
    assert path.stat().st_size == SMALL_SIZE
    gets = hub_state.requests_for(SMALL_FILE)
    assert gets[-1].range == f"bytes={kept}-"
    assert _bytes_sent(hub_state, SMALL_FILE) < 2 * SMALL_SIZE


def test_corrupted_bytes_are_detected_and_deleted(hub_state: HubState, hf_env: Path) -> None:
    hub_state.corrupt.add(SMALL_FILE)
    with pytest.raises(DownloadError, match="arrived damaged") as err:
        download(DownloadRequest(REPO, (SMALL_FILE,)))
    assert err.value.kind == "integrity"
    assert not list(hf_env.rglob("*.incomplete"))
    assert try_to_load_from_cache(REPO, SMALL_FILE, cache_dir=hf_env) is None


def test_private_repository_without_a_token_says_to_log_in(
    hub_state: HubState, hf_env: Path
) -> None:
    hub_state.private.add(REPO)
    hub_state.token = "hf_secret"
    with pytest.raises(DownloadError, match="hf auth login") as err:
        download(DownloadRequest(REPO, (SMALL_FILE,)))
    assert err.value.kind == "auth"
    assert "401" in str(err.value)
    # With the token it goes through.
    path = download(DownloadRequest(REPO, (SMALL_FILE,), token="hf_secret"))
    assert path.stat().st_size == SMALL_SIZE
    assert hub_state.requests_for(SMALL_FILE)[-1].authorization == "Bearer hf_secret"


def test_gated_repository_says_to_accept_the_conditions(hub_state: HubState, hf_env: Path) -> None:
    hub_state.gated.add(REPO)
    with pytest.raises(DownloadError, match="gated") as err:
        download(DownloadRequest(REPO, (SMALL_FILE,)))
    assert err.value.kind == "gated"


def test_missing_file_is_a_404(hub_state: HubState, hf_env: Path) -> None:
    with pytest.raises(DownloadError, match=r"not in .*404") as err:
        download(DownloadRequest(REPO, ("s1-test-Q9_K.gguf",)))
    assert err.value.kind == "not_found"


def test_no_network_is_said_plainly(
    hub_state: HubState, hf_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(DownloadError, match="Cannot reach the Hugging Face hub") as err:
        download(DownloadRequest(REPO, (SMALL_FILE,)))
    assert err.value.kind == "network"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 48 MiB tmpfs file system (the tests run as root, as CI does)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.fail(
            "the disk-full tests mount a small tmpfs and need root (CI runs as root): "
            + done.stderr.strip()
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_not_enough_disk_space_is_refused_before_starting(
    hub_state: HubState, hf_env: Path, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(small_disk / "hub"))
    with pytest.raises(DownloadError, match="Not enough disk space") as err:
        download(DownloadRequest(REPO, (MODEL_FILE,)))
    assert err.value.kind == "disk_full"
    assert _bytes_sent(hub_state, MODEL_FILE) == 0


def test_disk_filling_up_mid_download_is_reported_and_resumable(
    hub_state: HubState, hf_env: Path, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(small_disk / "hub"))
    filler = small_disk / "other-program.bin"

    def fill() -> None:  # another program takes most of the space meanwhile
        filler.write_bytes(b"\0" * (36 << 20))

    hub_state.before_body[SMALL_FILE] = fill
    with pytest.raises(DownloadError, match="disk filled up") as err:
        download(DownloadRequest(REPO, (SMALL_FILE,)))
    assert err.value.kind == "disk_full"
    assert list((small_disk / "hub").rglob("*.incomplete"))
    filler.unlink()
    path = download(DownloadRequest(REPO, (SMALL_FILE,)))
    assert path.stat().st_size == SMALL_SIZE
    assert hub_state.requests_for(SMALL_FILE)[-1].range is not None


def test_events_as_an_async_iterator(hub_state: HubState, hf_env: Path) -> None:
    async def run() -> list[DownloadEvent]:
        handle = start_download(DownloadRequest(REPO, (SMALL_FILE,)))
        return [event async for event in handle.events()]

    events = asyncio.run(run())
    assert isinstance(events[-1], DownloadFinished)
    assert all(isinstance(e, DownloadProgress) for e in events[:-1])
    assert not any(isinstance(e, DownloadFailed) for e in events)


def test_split_gguf_parts_download_together(
    hub_state: HubState, hf_env: Path, model_path: Path
) -> None:
    from s1desk.models.local import list_local_models
    from support.hub_server import HostedFile

    first = "s1-test-Q4_K_M/s1-test-Q4_K_M-00001-of-00002.gguf"
    second = "s1-test-Q4_K_M/s1-test-Q4_K_M-00002-of-00002.gguf"
    hub_state.repos[REPO][first] = HostedFile(model_path, sha256=SHA256)
    hub_state.repos[REPO][second] = HostedFile(model_path, offset=4096, length=8 << 20)
    events: list[DownloadEvent] = []
    path = download(DownloadRequest(REPO, (first, second)), on_event=events.append)
    final = events[-1]
    assert isinstance(final, DownloadFinished)
    assert final.path == path
    assert [p.name for p in final.paths] == [Path(first).name, Path(second).name]
    assert final.paths[1].parent == path.parent  # llama.cpp finds the parts beside the first
    progress = [e for e in events if isinstance(e, DownloadProgress)]
    assert {e.file_index for e in progress} == {0, 1}
    assert progress[-1].total == SIZE + (8 << 20)
    [model] = list_local_models()
    assert model.parts == 2
    assert model.size == SIZE + (8 << 20)
    assert model.problem is None


def test_a_server_that_ignores_range_gets_a_whole_fresh_copy(
    hub_state: HubState, hf_env: Path
) -> None:
    hub_state.drop_after[SMALL_FILE] = 15 << 20  # past the first 10 MiB chunk
    hub_state.ignore_range.add(SMALL_FILE)
    path = download(DownloadRequest(REPO, (SMALL_FILE,)))
    gets = hub_state.requests_for(SMALL_FILE)
    assert gets[1].range is not None, gets  # asked to resume
    assert gets[1].status == 200  # but was sent everything again
    assert path.stat().st_size == SMALL_SIZE
    with path.open("rb") as got, hub_state.repos[REPO][SMALL_FILE].source.open("rb") as src:
        src.seek(1 << 20)
        assert got.read() == src.read(SMALL_SIZE)
