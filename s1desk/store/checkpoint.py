"""Checkpoints the write-ahead log on a thread of its own, off the GUI thread.

SQLite normally checkpoints inside the commit that crosses its threshold, and
that commit then pays for copying the log into the database and an fsync
(tens of milliseconds), a stall on the GUI thread. The store turns that off
and asks this thread to checkpoint when the log has grown.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from s1desk.store import database

log = logging.getLogger(__name__)

#: Checkpoint once the log holds this much (SQLite's own default is ~4 MB).
WAL_LIMIT_BYTES = 4 * 1024 * 1024


class Checkpointer:
    """A thread with its own connection that runs passive checkpoints on request."""

    def __init__(self, path: Path, limit_bytes: int = WAL_LIMIT_BYTES) -> None:
        self._path = path
        self._wal = path.with_name(path.name + "-wal")
        self._limit = limit_bytes
        self._wanted = threading.Event()
        self._stopping = False
        self.checkpoints = 0
        # A daemon: a checkpoint cut short by the end of the process is safe.
        self._thread = threading.Thread(
            target=self._run, name="s1desk-store-checkpoint", daemon=True
        )
        self._thread.start()

    def nudge(self) -> None:
        """Call after a commit: starts a checkpoint when the log has grown past the limit."""
        try:
            size = self._wal.stat().st_size
        except FileNotFoundError:
            return
        if size >= self._limit:
            self._wanted.set()

    def close(self) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join()

    def _run(self) -> None:
        db: sqlite3.Connection | None = None
        try:
            db = database.connect(self._path)
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stopping:
                    return
                busy, logged, moved = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.checkpoints += 1
                log.debug("checkpoint: %s of %s log pages moved (busy=%s)", moved, logged, busy)
        except sqlite3.Error:
            # A failed checkpoint loses nothing: the log keeps every commit.
            log.exception("checkpointing %s failed; the log will keep growing", self._path)
        finally:
            if db is not None:
                db.close()
