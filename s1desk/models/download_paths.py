"""Names from a hub that become paths in the download cache, checked before any file is touched.

A hub or a mirror answers with an ETag (the blob's file name), a commit hash
(the snapshot folder), and lists file names; the user or the catalog gives a
repository id and a revision (the ``refs/`` file). Any of them could hold
``..``, a slash or a control character and so point outside the cache. Each
is checked against what the Hugging Face hub actually sends, and every path
built from them is checked to lie inside the cache once resolved.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PureWindowsPath

from s1desk.models.download_errors import DownloadError

#: An LFS sha256 (64 hex digits) or a git blob id (40); mirrors may send other
#: opaque tokens, so letters, digits, dots, dashes and underscores are allowed,
#: but never a slash or a name made of dots only.
_ETAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_REPO_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_NAME = 1024

UNSAFE = "unsafe"


def _refuse(what: str, value: str, source: str) -> DownloadError:
    return DownloadError(
        f"Refusing the download: {source} gave {what} {value!r}, which is not a safe name "
        "inside the Hugging Face cache. Nothing was written; check HF_ENDPOINT and any mirror.",
        UNSAFE,
    )


def check_etag(etag: str, endpoint: str) -> str:
    """The ETag as a blob file name, or :class:`DownloadError` if it could leave ``blobs/``."""
    if not _ETAG.fullmatch(etag) or ".." in etag:
        raise _refuse("the checksum (ETag)", etag, endpoint)
    return etag


def check_commit(commit: str, endpoint: str) -> str:
    """A 40-hex-digit commit hash (the snapshot folder's name)."""
    if not _COMMIT.fullmatch(commit):
        raise _refuse("the commit", commit, endpoint)
    return commit


def check_repo_id(repo_id: str) -> str:
    """``owner/name`` as the hub spells repository ids (no ``..``, no ``--``)."""
    parts = repo_id.split("/")
    if (
        len(parts) > 2
        or not all(_REPO_PART.fullmatch(p) for p in parts)
        or ".." in repo_id
        or "--" in repo_id
    ):
        raise _refuse("the repository", repo_id, "the request")
    return repo_id


def check_relative_name(name: str, what: str, source: str) -> str:
    """A relative, forward-slash path with no empty, ``.`` or ``..`` part and no control
    characters: a file name in a repository, or a revision (``refs/pr/1``)."""
    parts = name.split("/")
    if (
        not name
        or len(name) > _MAX_NAME
        or PureWindowsPath(name).anchor  # "/x", "C:x" or "C:/x" on any system
        or "\\" in name
        or _CONTROL.search(name)
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise _refuse(what, name, source)
    return name


def inside(root: Path, path: Path) -> bool:
    """Whether ``path``, with every symlink resolved, lies under ``root`` (also resolved)."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def require_inside(root: Path, path: Path, source: str) -> Path:
    """``path`` unchanged, or :class:`DownloadError` if it resolves outside ``root``."""
    if not inside(root, path):
        raise DownloadError(
            f"Refusing the download: {path} would lie outside the Hugging Face cache "
            f"{root} (named by {source}). Nothing was written.",
            UNSAFE,
        )
    return path
