"""Download failures as plain messages: hub errors, network, disk, integrity."""

from __future__ import annotations

import errno

import httpx2
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from s1desk.errors import S1DeskError


class DownloadError(S1DeskError):
    """A model download failed; ``kind`` names the cause for the UI."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def disk_full(needed: int, free: int, where: str) -> DownloadError:
    return DownloadError(
        f"Not enough disk space in {where}: the download needs {_size(needed)} more, "
        f"{_size(free)} is free. Free some space (or set HF_HOME to another disk) and try again.",
        "disk_full",
    )


def explain(exc: BaseException, repo_id: str, filename: str, endpoint: str) -> DownloadError:
    """Turn whatever the hub client or the file system raised into a :class:`DownloadError`."""
    if isinstance(exc, DownloadError):
        return exc
    if isinstance(exc, GatedRepoError):
        return DownloadError(
            f"{repo_id} is gated: accept its conditions on its page at {endpoint}/{repo_id} "
            "with your account, then log in here with `hf auth login` (or set HF_TOKEN).",
            "gated",
        )
    if isinstance(exc, RevisionNotFoundError):
        return DownloadError(f"{repo_id} has no such revision.", "not_found")
    if isinstance(exc, RemoteEntryNotFoundError):
        return DownloadError(
            f"{filename} is not in {repo_id} (404). The repository may have renamed its "
            "files: refresh the catalog with `s1desk models list --refresh`.",
            "not_found",
        )
    if isinstance(exc, RepositoryNotFoundError):
        return DownloadError(
            f"{repo_id} was not found, or it is private and needs a login (HTTP "
            f"{exc.response.status_code}). Check the name; for a private repository log in "
            "with `hf auth login` (or set HF_TOKEN) with an account that can read it.",
            "auth" if exc.response.status_code in (401, 403) else "not_found",
        )
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code
        if status in (401, 403):
            return DownloadError(
                f"The hub refused access to {repo_id} (HTTP {status}): your token is missing, "
                "expired or lacks read access. Log in with `hf auth login` (or set HF_TOKEN).",
                "auth",
            )
        if status == 404:
            return DownloadError(f"{filename} was not found in {repo_id} (404).", "not_found")
        return DownloadError(f"The hub answered HTTP {status} for {filename}: {exc}", "network")
    if isinstance(exc, OfflineModeIsEnabled):
        return DownloadError(
            "Hugging Face offline mode is on (HF_HUB_OFFLINE): downloads are disabled.", "network"
        )
    if isinstance(exc, (httpx2.TransportError, LocalEntryNotFoundError, ConnectionError)):
        return DownloadError(
            f"Cannot reach the Hugging Face hub at {endpoint}: check the network connection "
            f"(or a proxy). What was downloaded so far is kept and resumes next time. ({exc})",
            "network",
        )
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return DownloadError(
            f"The disk filled up while writing {filename}: free some space and start the "
            "download again; it resumes where it stopped.",
            "disk_full",
        )
    if isinstance(exc, OSError):
        return DownloadError(f"Could not download {filename}: {exc}", "other")
    return DownloadError(f"Could not download {filename}: {type(exc).__name__}: {exc}", "other")
