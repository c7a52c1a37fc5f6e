"""The history file on disk: created private (0600), and set aside, never emptied, when unusable.

SQLite opens a zero-byte file as an empty database and would start a new
history over it without a word. Before the store opens a file for writing,
a file that is empty or does not start with SQLite's signature is renamed
with a timestamp (its ``-wal`` and ``-shm`` files with it, as they may hold
the data), a new database takes its place, and the caller is told where the
old file went. A new database is built under a temporary name and linked
into place, so a process that dies while creating it never leaves an empty
file behind. SQLite gives the ``-wal`` and ``-shm`` files the database's
permissions.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAGIC = b"SQLite format 3\x00"
PRIVATE = 0o600
_COMPANIONS = ("-wal", "-shm")


@dataclass(frozen=True, slots=True)
class SetAside:
    """A history file that could not be used, and where it was moved."""

    original: Path
    moved_to: Path
    reason: str

    @property
    def message(self) -> str:
        return (
            f"The history database {self.original} {self.reason}. It was kept as "
            f"{self.moved_to} and a new, empty history was started."
        )


def unusable(path: Path) -> str | None:
    """Why the regular file ``path`` cannot be a database ("was empty (0 bytes)"), or None."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(MAGIC))
    except OSError:
        return None  # unreadable: SQLite says so, with the reason
    if not head:
        return "was empty (0 bytes)"
    if head != MAGIC:
        return "was not an SQLite database"
    return None


def prepare(path: Path) -> SetAside | None:
    """Make ``path`` ready to open for writing: create it, or set an unusable one aside.

    Returns what was set aside, if anything. Anything that is not a regular
    file (a directory, say) is left for SQLite to refuse with its own error.
    """
    for _ in range(3):  # another process may set the same file aside meanwhile
        try:
            info = path.stat()
        except FileNotFoundError:
            create(path)
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        reason = unusable(path)
        if reason is None:
            make_private(path)
            return None
        try:
            aside = _set_aside(path, reason)
        except FileNotFoundError:
            continue
        create(path)
        log.warning("%s", aside.message)
        return aside
    return None


def create(path: Path) -> None:
    """A new, empty WAL-mode database at ``path``, readable by its owner only.

    Nothing happens if ``path`` appears meanwhile (another process created it).
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.new")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE)
    os.close(fd)
    try:
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")  # writes the header: never 0 bytes
        finally:
            db.close()
        try:
            os.link(tmp, path)  # fails if the name is taken: never replaces a file
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
    finally:
        for leftover in (tmp, *(tmp.with_name(tmp.name + c) for c in _COMPANIONS)):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def make_private(path: Path) -> None:
    """Take group and other access away from ``path`` and its ``-wal``/``-shm`` files."""
    for file in (path, *(path.with_name(path.name + c) for c in _COMPANIONS)):
        try:
            info = file.stat()
            if info.st_mode & 0o077 and info.st_uid == os.geteuid():
                file.chmod(stat.S_IMODE(info.st_mode) & ~0o077)
                log.info("made %s readable by its owner only", file)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not restrict the permissions of %s: %s", file, exc)


def _set_aside(path: Path, reason: str) -> SetAside:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.set-aside-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.set-aside-{stamp}-{n}")
    os.rename(path, target)
    for companion in _COMPANIONS:
        with contextlib.suppress(FileNotFoundError):
            os.rename(
                path.with_name(path.name + companion), target.with_name(target.name + companion)
            )
    return SetAside(original=path, moved_to=target, reason=reason)
