"""Model downloads into the Hugging Face cache: progress, pause, cancel, resume, verification.

The transfer runs on a worker thread through ``huggingface_hub``'s own HTTP
download (``http_get``: its headers, token, retries and ``Range`` resumption
after a dropped connection). Unlike ``hf_hub_download``, which keeps its
partial file only for the life of one call, the partial data lives in the
cache as ``blobs/<sha256>.incomplete``, so a paused download, a cancelled one
or one cut by an app restart resumes where it stopped. The bytes are checked
against the hub's sha256 (the LFS etag) before the blob takes its final name,
then linked into ``snapshots/<commit>/`` in the layout ``hf_hub_download``
uses, so other programs find the file and we find theirs.

Nothing the hub says is trusted to be a path: the ETag, the commit, the file
names and the revision are checked (``download_paths``) before any file is
created, and every path built from them must resolve inside the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import re
import shutil
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import filelock
from huggingface_hub import constants as hf_constants
from huggingface_hub import get_hf_file_metadata, hf_hub_url
from huggingface_hub.file_download import (
    _cache_commit_hash_for_specific_revision,
    _create_symlink,
    http_get,
    repo_folder_name,
)
from huggingface_hub.utils._headers import build_hf_headers

from s1desk.models.download_errors import DownloadError, disk_full, explain
from s1desk.models.download_events import (
    DownloadCancelled,
    DownloadEvent,
    DownloadFailed,
    DownloadFinished,
    DownloadPaused,
    DownloadProgress,
)
from s1desk.models.download_paths import (
    check_commit,
    check_etag,
    check_relative_name,
    check_repo_id,
    require_inside,
)

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_PROGRESS_EVERY_S = 0.1


def hub_cache_dir() -> Path:
    """The Hugging Face cache in force now (``HF_HUB_CACHE`` / ``HF_HOME`` read at call time)."""
    explicit = os.environ.get("HF_HUB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser() / "hub"
    return Path(hf_constants.HF_HUB_CACHE)


def hub_endpoint() -> str:
    """The hub address in force now (``HF_ENDPOINT``)."""
    return os.environ.get("HF_ENDPOINT", hf_constants.ENDPOINT).rstrip("/")


@dataclass(frozen=True, slots=True)
class DownloadRequest:
    """Files of one repository to fetch together (the parts of a split GGUF, in order)."""

    repo_id: str
    filenames: tuple[str, ...]
    revision: str = "main"
    token: str | bool | None = None
    cache_dir: Path | None = None
    endpoint: str | None = None


class _StopError(Exception):
    """Raised inside the transfer to stop it (pause or cancel); the partial file stays."""


class _Control:
    """Pause/cancel flags shared by the handle and the worker."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.paused = threading.Event()
        self.resumed = threading.Event()

    @property
    def stopping(self) -> bool:
        return self.cancelled.is_set() or self.paused.is_set()


class _Meter:
    """Speed over a sliding window, and time left."""

    def __init__(self, window_s: float = 3.0) -> None:
        self._window = window_s
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, done: int) -> float:
        now = time.monotonic()
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > self._window:
            self._samples.popleft()
        t0, d0 = self._samples[0]
        return (done - d0) / (now - t0) if now > t0 else 0.0


class _Hasher:
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


class _Sink:
    """What ``http_get`` writes into: appends, hashes, reports, obeys pause and cancel."""

    def __init__(
        self,
        fh: BinaryIO,
        start: int,
        on_bytes: Callable[[int], None],
        control: _Control,
    ) -> None:
        self._fh = fh
        self._start = start
        self.written = start
        self._on_bytes = on_bytes
        self._control = control
        self.hasher = _Hasher()
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
            raise _StopError
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
        self.hasher = _Hasher()
        self._hash_prefix(pos)
        self.written = pos
        self._start = 0
        return pos

    def truncate(self, size: int | None = None) -> int:
        return self.written

    def flush(self) -> None:
        self._fh.flush()


class _QuietBar:
    """A progress bar that shows nothing: the events are the progress."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> _QuietBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _verify(digest_sha256: str, etag: str, path: Path, size: int) -> bool:
    if _SHA256.match(etag):
        return digest_sha256 == etag
    if _SHA1.match(etag):  # a small file kept in git: the etag is its git blob id
        h = hashlib.sha1(f"blob {size}\0".encode())
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        return h.hexdigest() == etag
    log.warning("cannot verify %s: the hub gave no checksum (etag %r)", path.name, etag)
    return True


@dataclass(frozen=True, slots=True)
class _FileResult:
    path: Path
    downloaded: int
    reused: bool


class _Job:
    """One request, run on the worker thread."""

    def __init__(
        self,
        request: DownloadRequest,
        control: _Control,
        emit: Callable[[DownloadEvent], None],
    ) -> None:
        self.request = request
        self.control = control
        self.emit = emit
        self.cache_dir = request.cache_dir or hub_cache_dir()
        self.endpoint = (request.endpoint or hub_endpoint()).rstrip("/")
        self.done_total = 0
        self.grand_total = 0

    def run(self) -> None:
        req = self.request
        current = req.filenames[0] if req.filenames else ""
        try:
            self._check_request()
            metas = []
            for name in req.filenames:
                current = name
                metas.append(self._metadata(name))
            self.grand_total = sum(m[3] for m in metas)
            paths: list[Path] = []
            downloaded = 0
            reused = True
            for index, (name, meta) in enumerate(zip(req.filenames, metas, strict=True)):
                current = name
                result = self._fetch(index, name, meta)
                paths.append(result.path)
                downloaded += result.downloaded
                reused = reused and result.reused
            self.emit(
                DownloadFinished(
                    repo_id=req.repo_id,
                    path=paths[0],
                    paths=tuple(paths),
                    downloaded_bytes=downloaded,
                    reused=reused,
                )
            )
        except _StopError:
            self.emit(DownloadCancelled(req.repo_id, done=self.done_total, total=self.grand_total))
        except Exception as exc:
            error = explain(exc, req.repo_id, current, self.endpoint)
            log.info("download of %s/%s failed: %s", req.repo_id, current, error, exc_info=exc)
            self.emit(DownloadFailed(req.repo_id, message=str(error), kind=error.kind))

    def _check_request(self) -> None:
        """Refuse names that could make a path outside the cache, before any request."""
        req = self.request
        check_repo_id(req.repo_id)
        check_relative_name(req.revision, "the revision", "the request")
        for name in req.filenames:
            check_relative_name(name, "the file name", "the request")

    @property
    def storage(self) -> Path:
        """This repository's folder in the cache (``models--owner--name``)."""
        name = repo_folder_name(repo_id=self.request.repo_id, repo_type="model")
        return require_inside(self.cache_dir, self.cache_dir / name, "the repository id")

    def _metadata(self, filename: str) -> tuple[str, str, str, int]:
        """(url to fetch, etag, commit, size) from one HEAD request, names checked."""
        req = self.request
        url = hf_hub_url(req.repo_id, filename, revision=req.revision, endpoint=self.endpoint)
        meta = get_hf_file_metadata(url, token=req.token, endpoint=self.endpoint)
        if meta.etag is None or meta.commit_hash is None or meta.size is None:
            raise DownloadError(
                f"{self.endpoint} did not answer like a Hugging Face hub for {filename} "
                "(no commit, checksum or size): check HF_ENDPOINT and any proxy.",
                "network",
            )
        etag = check_etag(meta.etag, self.endpoint)
        commit = check_commit(meta.commit_hash, self.endpoint)
        if meta.size < 0:
            raise DownloadError(
                f"{self.endpoint} gave a negative size ({meta.size}) for {filename}.", "network"
            )
        return meta.location or url, etag, commit, meta.size

    def _fetch(self, index: int, filename: str, meta: tuple[str, str, str, int]) -> _FileResult:
        url, etag, commit, size = meta
        storage = self.storage
        blob = require_inside(storage / "blobs", storage / "blobs" / etag, "the hub's ETag")
        if blob.is_file() and blob.stat().st_size == size:
            self.done_total += size
            return _FileResult(self._link(filename, blob, commit), 0, reused=True)
        blob.parent.mkdir(parents=True, exist_ok=True)
        partial = blob.with_name(etag + ".incomplete")
        lock_path = self.cache_dir / ".locks" / storage.name / f"{etag}.s1desk.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(lock_path), timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise DownloadError(
                f"{filename} is already being downloaded by another s1desk window or process.",
                "busy",
            ) from None
        try:
            downloaded = self._transfer(index, filename, url, etag, size, partial)
            partial.replace(blob)
        finally:
            lock.release()
        return _FileResult(self._link(filename, blob, commit), downloaded, reused=False)

    def _transfer(
        self, index: int, filename: str, url: str, etag: str, size: int, partial: Path
    ) -> int:
        req = self.request
        have = partial.stat().st_size if partial.exists() else 0
        if have > size:
            partial.unlink()
            have = 0
        free = shutil.disk_usage(partial.parent).free
        if free < size - have:
            raise disk_full(size - have, free, str(self.cache_dir))
        if have:
            log.info("resuming %s at %d of %d bytes", filename, have, size)
        base = self.done_total
        meter = _Meter()
        last = 0.0

        def progress(speed: float, eta_s: float | None, phase: str = "downloading") -> None:
            self.emit(
                DownloadProgress(
                    repo_id=req.repo_id,
                    filename=filename,
                    file_index=index,
                    file_count=len(req.filenames),
                    done=self.done_total,
                    total=self.grand_total,
                    speed=speed,
                    eta_s=eta_s,
                    phase=phase,
                )
            )

        def on_bytes(written: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last < _PROGRESS_EVERY_S and written < size:
                return
            last = now
            self.done_total = base + written
            speed = meter.add(self.done_total)
            left = self.grand_total - self.done_total
            progress(speed, left / speed if speed > 0 else None)

        with partial.open("r+b" if have else "w+b") as fh:
            sink = _Sink(fh, have, on_bytes, self.control)
            self.done_total = base + have
            progress(0.0, None, "resuming" if have else "downloading")
            try:
                http_get(
                    url,
                    sink,  # type: ignore[arg-type]
                    resume_size=have,
                    headers=build_hf_headers(token=req.token),
                    expected_size=size,
                    displayed_filename=filename,
                    tqdm_class=_QuietBar,
                )
            except BaseException:
                sink.hasher.discard()
                fh.flush()
                self.done_total = base + sink.written
                raise
            fh.flush()
            self.done_total = base + size
            progress(0.0, 0.0, "verifying")
            digest = sink.hasher.hexdigest()
        if not _verify(digest, etag, partial, size):
            partial.unlink()
            raise DownloadError(
                f"{filename} arrived damaged: its sha256 is {digest}, the hub says {etag}. "
                "The bad copy was deleted; download it again.",
                "integrity",
            )
        return size - have

    def _link(self, filename: str, blob: Path, commit: str) -> Path:
        """Record the blob as ``snapshots/<commit>/<filename>`` and the revision in ``refs/``.

        The same layout and helpers as ``hf_hub_download`` (a relative symlink, or
        a copy where symlinks are unavailable), without asking the hub again.
        """
        storage = self.storage
        snapshots = storage / "snapshots"
        pointer = snapshots / commit / filename
        # The folders on the way must stay inside snapshots/ (no link planted to elsewhere).
        require_inside(snapshots, pointer.parent, "the file name")
        pointer.parent.mkdir(parents=True, exist_ok=True)
        require_inside(snapshots, pointer.parent, "the file name")
        _create_symlink(str(blob), str(pointer), new_blob=False)
        _cache_commit_hash_for_specific_revision(str(storage), self.request.revision, commit)
        return pointer


class DownloadHandle:
    """A download running on its own thread: pause, resume, cancel, wait, or iterate events.

    ``on_event`` (if given) is called on the worker thread; a UI hands the
    event over to its own thread (``loop.call_soon_threadsafe`` or a queued
    signal). :meth:`events` does that for asyncio.
    """

    def __init__(
        self,
        request: DownloadRequest,
        on_event: Callable[[DownloadEvent], None] | None = None,
    ) -> None:
        self.request = request
        self._on_event = on_event
        self._control = _Control()
        self._listeners: list[Callable[[DownloadEvent], None]] = []
        self._lock = threading.Lock()
        self._history: list[DownloadEvent] = []
        self._final: DownloadEvent | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"s1desk-download-{request.repo_id}", daemon=True
        )

    def start(self) -> DownloadHandle:
        self._thread.start()
        return self

    # -- control --------------------------------------------------------

    def pause(self) -> None:
        """Stop transferring; the partial file stays. :meth:`resume` goes on from it."""
        self._control.resumed.clear()
        self._control.paused.set()

    def resume(self) -> None:
        self._control.paused.clear()
        self._control.resumed.set()

    def cancel(self) -> None:
        """Stop for good (the partial file stays, so starting the same download resumes)."""
        self._control.cancelled.set()
        self._control.resumed.set()

    @property
    def paused(self) -> bool:
        return self._control.paused.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> DownloadEvent | None:
        """Block until the download ends; the final event (None on timeout)."""
        self._done.wait(timeout)
        self._thread.join(0 if timeout is not None and not self._done.is_set() else None)
        return self._final

    async def events(self) -> AsyncIterator[DownloadEvent]:
        """Every event from now on (earlier ones first), ending with the final one."""
        import asyncio

        loop = asyncio.get_running_loop()
        q: asyncio.Queue[DownloadEvent] = asyncio.Queue()

        def forward(event: DownloadEvent) -> None:
            loop.call_soon_threadsafe(q.put_nowait, event)

        with self._lock:
            backlog = list(self._history)
            self._listeners.append(forward)
        try:
            for event in backlog:
                q.put_nowait(event)
            while True:
                event = await q.get()
                yield event
                if isinstance(event, _FINAL):
                    return
        finally:
            with self._lock:
                self._listeners.remove(forward)

    # -- worker ---------------------------------------------------------

    def _emit(self, event: DownloadEvent) -> None:
        with self._lock:
            if isinstance(event, DownloadProgress) and self._history:
                if isinstance(self._history[-1], DownloadProgress):
                    self._history[-1] = event
                else:
                    self._history.append(event)
            else:
                self._history.append(event)
            listeners = list(self._listeners)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                log.exception("download event callback failed")
        for listener in listeners:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                listener(event)

    def _run(self) -> None:
        try:
            while True:
                outcome: list[DownloadEvent] = []
                _Job(self.request, self._control, self._collector(outcome)).run()
                final = outcome[-1]
                if (
                    isinstance(final, DownloadCancelled)
                    and self._control.paused.is_set()
                    and not self._control.cancelled.is_set()
                ):
                    self._emit(DownloadPaused(self.request.repo_id, final.done, final.total))
                    self._control.resumed.wait()
                    if self._control.cancelled.is_set():
                        self._finish(final)
                        return
                    continue
                self._finish(final)
                return
        except BaseException as exc:  # never leave a waiter hanging
            self._finish(DownloadFailed(self.request.repo_id, f"internal error: {exc}", "other"))
            raise

    def _collector(self, outcome: list[DownloadEvent]) -> Callable[[DownloadEvent], None]:
        """Pass progress on; keep the job's final event for :meth:`_run` to decide on."""

        def collect(event: DownloadEvent) -> None:
            if isinstance(event, _FINAL):
                outcome.append(event)
            else:
                self._emit(event)

        return collect

    def _finish(self, event: DownloadEvent) -> None:
        self._final = event
        self._emit(event)
        self._done.set()


_FINAL = (DownloadFinished, DownloadCancelled, DownloadFailed)


def start_download(
    request: DownloadRequest, on_event: Callable[[DownloadEvent], None] | None = None
) -> DownloadHandle:
    """Start fetching ``request`` on a worker thread and return its handle at once."""
    return DownloadHandle(request, on_event).start()


def download(
    request: DownloadRequest, on_event: Callable[[DownloadEvent], None] | None = None
) -> Path:
    """Fetch ``request`` and return the path to load, or raise :class:`DownloadError`."""
    final = start_download(request, on_event).wait()
    if isinstance(final, DownloadFinished):
        return final.path
    if isinstance(final, DownloadFailed):
        raise DownloadError(final.message, final.kind)
    raise DownloadError("The download was cancelled.", "cancelled")


def cached_path(
    repo_id: str, filenames: Sequence[str], revision: str = "main", cache_dir: Path | None = None
) -> Path | None:
    """The cached first file when every one of ``filenames`` is already in the cache."""
    from huggingface_hub import try_to_load_from_cache

    found: list[Path] = []
    for name in filenames:
        hit = try_to_load_from_cache(
            repo_id, name, cache_dir=cache_dir or hub_cache_dir(), revision=revision
        )
        if not isinstance(hit, str):
            return None
        found.append(Path(hit))
    return found[0] if found else None
