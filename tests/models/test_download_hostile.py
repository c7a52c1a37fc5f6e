"""A hostile hub on loopback: names that would climb out of the cache are refused, nothing outside
is linked, written or deleted, and ``s1desk models rm`` only removes what is in the cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import try_to_load_from_cache

from s1desk.models.download import DownloadRequest, download
from s1desk.models.download_errors import DownloadError
from support.hub_fixtures import REPO
from support.hub_server import COMMIT, HostedFile, HubState

TINY = "s1-test-tiny.bin"
TINY_SIZE = 4096


@pytest.fixture
def tiny(hub_state: HubState, model_path: Path) -> str:
    """A 4 KiB file in the test repository (the first bytes of the test model)."""
    hub_state.repos[REPO][TINY] = HostedFile(model_path, offset=0, length=TINY_SIZE)
    return TINY


@pytest.fixture
def victim(hf_env: Path) -> Path:
    """A file of the user's outside the cache, as big as the hosted file (so it "matches")."""
    path = hf_env.parent / "outside" / "victim.bin"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"the user's own data\n".ljust(TINY_SIZE, b"."))
    return path


def _links_out_of(cache: Path) -> list[Path]:
    real = os.path.realpath(cache)
    return [
        p
        for p in cache.rglob("*")
        if p.is_symlink() and not os.path.realpath(p).startswith(real + os.sep)
    ]


@pytest.mark.parametrize(
    "etag",
    ["../../../outside/victim.bin", "..", "/tmp/s1desk-absolute-etag", "sub/dir", "a\\..\\b"],
)
def test_a_hostile_etag_is_refused_and_nothing_outside_is_touched(
    hub_state: HubState, hf_env: Path, tiny: str, victim: Path, etag: str
) -> None:
    before = victim.read_bytes()
    hub_state.etags[tiny] = etag
    with pytest.raises(DownloadError, match=r"Refusing the download: .*\(ETag\)") as err:
        download(DownloadRequest(REPO, (tiny,)))
    assert err.value.kind == "unsafe"
    assert victim.read_bytes() == before
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.bin"]
    assert not Path("/tmp/s1desk-absolute-etag").exists()
    assert hub_state.requests_for(tiny) == []  # refused on the HEAD, before any body
    assert _links_out_of(hf_env) == []
    assert try_to_load_from_cache(REPO, tiny, cache_dir=hf_env) is None


def test_a_hostile_commit_is_refused(
    hub_state: HubState, hf_env: Path, tiny: str, victim: Path
) -> None:
    hub_state.commits[tiny] = "../../../outside"
    with pytest.raises(DownloadError, match="commit") as err:
        download(DownloadRequest(REPO, (tiny,)))
    assert err.value.kind == "unsafe"
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.bin"]
    assert _links_out_of(hf_env) == []


@pytest.mark.parametrize(
    ("filenames", "revision"),
    [
        (("../../outside/planted.gguf",), "main"),
        (("/etc/s1desk-planted.gguf",), "main"),
        (("C:/planted.gguf",), "main"),
        (("ok/./x.gguf",), "main"),
        (("x\x1b]0;title\x07.gguf",), "main"),
        ((TINY,), "../../../outside"),
    ],
)
def test_hostile_names_in_the_request_are_refused_before_any_request(
    hub_state: HubState, hf_env: Path, tiny: str, filenames: tuple[str, ...], revision: str
) -> None:
    with pytest.raises(DownloadError, match="Refusing the download") as err:
        download(DownloadRequest(REPO, filenames, revision=revision))
    assert err.value.kind == "unsafe"
    assert hub_state.log == []
    assert not (hf_env.parent / "outside").exists()


def test_a_planted_snapshot_link_is_not_followed(
    hub_state: HubState, hf_env: Path, tiny: str, victim: Path
) -> None:
    snapshots = hf_env / "models--simplescaling-test--s1-test-GGUF" / "snapshots"
    snapshots.mkdir(parents=True)
    (snapshots / COMMIT).symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(DownloadError, match="outside the Hugging Face cache") as err:
        download(DownloadRequest(REPO, (tiny,)))
    assert err.value.kind == "unsafe"
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.bin"]


def test_the_honest_download_still_lands_and_links_inside_the_cache(
    hub_state: HubState, hf_env: Path, tiny: str, model_path: Path
) -> None:
    path = download(DownloadRequest(REPO, (tiny,)))
    assert path == hf_env / "models--simplescaling-test--s1-test-GGUF" / "snapshots" / COMMIT / tiny
    assert path.is_symlink()
    assert os.readlink(path).startswith("../../blobs/")  # relative, as huggingface_hub links
    with model_path.open("rb") as fh:
        assert path.read_bytes() == fh.read(TINY_SIZE)
    assert try_to_load_from_cache(REPO, tiny, cache_dir=hf_env) == str(path)
    assert _links_out_of(hf_env) == []


def _models(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "s1desk", "models", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=os.environ,
    )


def test_rm_of_a_poisoned_cache_entry_removes_the_link_and_never_the_file_outside(
    hf_env: Path, victim: Path
) -> None:
    # A cache as an unchecked download once left it: a snapshot entry linking outside.
    snapshot = hf_env / "models--simplescaling-test--s1-test-GGUF" / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (hf_env / "models--simplescaling-test--s1-test-GGUF" / "blobs").mkdir()
    (hf_env / "models--simplescaling-test--s1-test-GGUF" / "refs").mkdir()
    (hf_env / "models--simplescaling-test--s1-test-GGUF" / "refs" / "main").write_text(COMMIT)
    link = snapshot / "s1-test-Q4_K_M.gguf"
    link.symlink_to(os.path.relpath(victim, snapshot))
    before = victim.read_bytes()

    listed = _models("list")
    assert listed.returncode == 0, listed.stderr
    assert "links outside the Hugging Face cache" in listed.stdout
    assert "Traceback" not in listed.stderr

    removed = _models("rm", "s1-test-Q4_K_M.gguf", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert "Removed" in removed.stdout
    assert "(1 files deleted)" in removed.stdout  # the link only
    assert not link.is_symlink()
    assert victim.read_bytes() == before


def test_rm_still_deletes_the_blob_of_an_honest_download(
    hub_state: HubState, hf_env: Path, tiny: str
) -> None:
    from s1desk.models.local import LocalModel, remove_model

    path = download(DownloadRequest(REPO, (tiny,)))
    blob = path.resolve()
    model = LocalModel(path, TINY_SIZE, "unknown", "unknown", "cache", REPO)
    assert remove_model(model) == [path, blob]
    assert not blob.exists()
