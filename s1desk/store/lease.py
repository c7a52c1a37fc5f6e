"""Writer leases: a lock file held while a process streams into the database.

The operating system drops the lock when the process dies, however it dies
(SIGKILL included), so another process can tell a live writer from a dead one
and mark the dead one's unfinished messages as interrupted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

_SUFFIX = ".lock"


def _try_lock(fd: int) -> bool:
    """Lock ``fd`` exclusively without waiting; False if someone else holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class WriterLease:
    """Held by one open store from its first streamed message until it closes."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        while True:
            writer_id = uuid.uuid4().hex
            path = directory / f"{writer_id}{_SUFFIX}"
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            if _try_lock(fd) and _same_file(fd, path):
                break
            # Swept away between create and lock by a process cleaning stale leases.
            os.close(fd)
        self.id = writer_id
        self._fd: int | None = fd
        self._path = path

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self._path.unlink()
        os.close(self._fd)
        self._fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), path.stat())
    except FileNotFoundError:
        return False


def is_alive(directory: Path, writer_id: str) -> bool:
    """True while the process holding lease ``writer_id`` is running."""
    path = directory / f"{writer_id}{_SUFFIX}"
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        return not _try_lock(fd)
    finally:
        os.close(fd)  # closing drops a lock we may have taken


def sweep(directory: Path) -> None:
    """Remove the lock files of writers that are gone."""
    if not directory.is_dir():
        return
    for path in directory.glob(f"*{_SUFFIX}"):
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            if _try_lock(fd):
                with contextlib.suppress(OSError):  # Windows refuses to remove an open file
                    path.unlink(missing_ok=True)
                log.debug("removed stale writer lease %s", path.name)
        finally:
            os.close(fd)
