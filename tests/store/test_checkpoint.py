"""The write-ahead log is checkpointed on a thread of its own, not inside a commit."""

from __future__ import annotations

import time
from pathlib import Path

from store.recording import record

from s1desk.store import HistoryStore
from s1desk.store.checkpoint import Checkpointer


def test_commits_on_the_store_connection_never_checkpoint(store: HistoryStore) -> None:
    assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0


def test_a_grown_log_is_checkpointed_by_the_thread(store: HistoryStore, db_path: Path) -> None:
    wal = db_path.with_name(db_path.name + "-wal")
    checkpointer = Checkpointer(db_path, limit_bytes=1024 * 1024)
    try:
        checkpointer.nudge()
        record(store, "small")
        checkpointer.nudge()
        assert checkpointer.checkpoints == 0  # below the limit: nothing to do
        record(store, "x" * 2_000_000)
        assert wal.stat().st_size >= 1024 * 1024
        checkpointer.nudge()
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert checkpointer.checkpoints == 1
    finally:
        checkpointer.close()
    assert len(store.search("small")) == 1
