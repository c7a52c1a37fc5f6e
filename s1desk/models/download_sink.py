"""What the hub transfer writes into: the partial file, its running hash, pause and cancel."""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable
from typing import Any, BinaryIO


class StopTransferError(Exception):
    """Raised inside the transfer to stop it (pause or cancel); the partial file stays."""


class DownloadControl:
    """Pause/cancel flags shared by the handle and the worker."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.paused = threading.Event()
        self.resumed = threading.Event()

    @property
    def stopping(self) -> bool:
        return self.cancelled.is_set() or self.paused.is_set()


class Hasher:
    """sha256 of the bytes written, computed on its own thread beside the transfer."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="s1desk-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._hash.update(chunk)

    def update(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def hexdigest(self) -> str:
        self._queue.put(None)
        self._thread.join()
        return self._hash.hexdigest()

    def discard(self) -> None:
        self._queue.put(None)
        self._thread.join()


class TransferSink:
    """What ``http_get`` writes into: appends, hashes, reports, obeys pause and cancel."""

    def __init__(
        self,
        fh: BinaryIO,
        start: int,
        on_bytes: Callable[[int], None],
        control: DownloadControl,
    ) -> None:
        self._fh = fh
        self._start = start
        self.written = start
        self._on_bytes = on_bytes
        self._control = control
        self.hasher = Hasher()
        self._hash_prefix(start)

    def _hash_prefix(self, upto: int) -> None:
        self._fh.seek(0)
        remaining = upto
        while remaining:
            chunk = self._fh.read(min(remaining, 1 << 23))
            if not chunk:
                break
            self.hasher.update(chunk)
            remaining -= len(chunk)
        self._fh.seek(upto)
        self._fh.truncate()

    def write(self, chunk: bytes) -> int:
        if self._control.stopping:
            raise StopTransferError
        self._fh.write(chunk)
        self.hasher.update(chunk)
        self.written += len(chunk)
        self._on_bytes(self.written)
        return len(chunk)

    def tell(self) -> int:
        return self.written - self._start

    def seek(self, pos: int, whence: int = 0) -> int:
        # ``http_get`` rewinds when a server ignored ``Range``: start over from ``pos``.
        self.hasher.discard()
        self.hasher = Hasher()
        self._hash_prefix(pos)
        self.written = pos
        self._start = 0
        return pos

    def truncate(self, size: int | None = None) -> int:
        return self.written

    def flush(self) -> None:
        self._fh.flush()


class QuietBar:
    """A progress bar that shows nothing: the events are the progress."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> QuietBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass
