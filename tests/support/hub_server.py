"""A Hugging Face hub-compatible HTTP server on loopback, serving real files, with faults on demand.

It answers what ``huggingface_hub`` asks of the hub when it downloads and lists
files: ``HEAD``/``GET /{repo}/resolve/{revision}/{path}`` (with ``X-Repo-Commit``,
``X-Linked-Etag`` = the LFS sha256, ``X-Linked-Size``, ``Content-Length`` and
``Range`` support), ``/api/models/{repo}[/revision/{rev}]`` (model info with
``siblings``) and ``/api/models/{repo}/tree/{rev}`` (the file listing). Errors
carry the ``X-Error-Code`` headers the real hub sends, so the client raises the
same exception classes it raises against the real hub.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_POINTER_SIZE = 134


@dataclass
class HostedFile:
    """A file of a repository: ``length`` bytes of ``source`` from ``offset``."""

    source: Path
    offset: int = 0
    length: int | None = None
    sha256: str | None = None

    @property
    def size(self) -> int:
        return self.length if self.length is not None else self.source.stat().st_size - self.offset

    def digest(self) -> str:
        if self.sha256 is None:
            h = hashlib.sha256()
            with self.source.open("rb") as fh:
                fh.seek(self.offset)
                remaining = self.size
                while remaining:
                    chunk = fh.read(min(remaining, 1 << 22))
                    h.update(chunk)
                    remaining -= len(chunk)
            self.sha256 = h.hexdigest()
        return self.sha256


@dataclass
class Request:
    """What the server saw: for the tests' assertions."""

    method: str
    path: str
    range: str | None
    authorization: str | None
    status: int
    body_bytes: int = 0
    #: Arrival order: a request is logged when it ends, and an aborted one
    #: can end after the request that followed it.
    order: int = 0


@dataclass
class HubState:
    """Repositories, faults and the request log; tests change it between cases."""

    repos: dict[str, dict[str, HostedFile]] = field(default_factory=dict)
    token: str | None = None
    private: set[str] = field(default_factory=set)
    gated: set[str] = field(default_factory=set)
    drop_after: dict[str, int] = field(default_factory=dict)
    corrupt: set[str] = field(default_factory=set)
    ignore_range: set[str] = field(default_factory=set)
    before_body: dict[str, Callable[[], None]] = field(default_factory=dict)
    throttle_bytes_per_s: int | None = None
    #: A hostile hub: the ETag or the commit to announce for a file instead of the real one.
    etags: dict[str, str] = field(default_factory=dict)
    commits: dict[str, str] = field(default_factory=dict)
    log: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    arrivals: itertools.count[int] = field(default_factory=itertools.count)
    #: Requests being answered: a test's last request is logged after its answer went
    #: out, so the next test's reset waits for it rather than find it in its own log.
    in_flight: int = 0

    def __post_init__(self) -> None:
        self._idle = threading.Condition(self.lock)

    def request_started(self) -> None:
        with self.lock:
            self.in_flight += 1

    def request_ended(self) -> None:
        with self.lock:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.notify_all()

    def reset(
        self,
        repos: dict[str, dict[str, HostedFile]],
        *,
        token: str | None = None,
        private: set[str] | None = None,
    ) -> None:
        """Serve ``repos`` with no faults and an empty log (between tests), once the requests
        of the test before have been answered and logged (a stuck one is waited for 5 s)."""
        with self.lock:
            self._idle.wait_for(lambda: self.in_flight == 0, timeout=5)
            self.repos = repos
            self.token = token
            self.private = private or set()
            self.gated = set()
            self.drop_after = {}
            self.corrupt = set()
            self.ignore_range = set()
            self.before_body = {}
            self.throttle_bytes_per_s = None
            self.etags = {}
            self.commits = {}
            self.log = []

    def requests_for(self, filename: str, method: str = "GET") -> list[Request]:
        """The requests for ``filename``, in the order they arrived."""
        with self.lock:
            found = [r for r in self.log if r.method == method and r.path.endswith("/" + filename)]
        return sorted(found, key=lambda r: r.order)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    _sent = 0
    _arrival = 0

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- routing ----------------------------------------------------------

    def do_HEAD(self) -> None:
        self._route(head=True)

    def do_GET(self) -> None:
        self._route(head=False)

    def _route(self, *, head: bool) -> None:
        state = self.server.state
        state.request_started()
        try:
            self._answer(state, head=head)
        finally:
            state.request_ended()

    def _answer(self, state: HubState, *, head: bool) -> None:
        with state.lock:
            self._arrival = next(state.arrivals)
        path = unquote(urlsplit(self.path).path)
        parts = path.strip("/").split("/")
        if len(parts) >= 5 and parts[2] == "resolve":
            repo_id = f"{parts[0]}/{parts[1]}"
            self._resolve(state, repo_id, parts[3], "/".join(parts[4:]), head=head)
        elif len(parts) >= 4 and parts[:2] == ["api", "models"]:
            repo_id = f"{parts[2]}/{parts[3]}"
            rest = parts[4:]
            if not rest or rest[0] == "revision":
                self._model_info(state, repo_id)
            elif rest[0] == "tree":
                self._tree(state, repo_id)
            else:
                self._error(state, 404, "EntryNotFound")
        else:
            self._error(state, 404, None)

    # -- answers ----------------------------------------------------------

    def _record(self, state: HubState, status: int, body: int = 0) -> None:
        with state.lock:
            state.log.append(
                Request(
                    method=self.command,
                    path=unquote(urlsplit(self.path).path),
                    range=self.headers.get("Range"),
                    authorization=self.headers.get("Authorization"),
                    status=status,
                    body_bytes=body,
                    order=self._arrival,
                )
            )

    def _error(
        self, state: HubState, status: int, code: str | None, message: str | None = None
    ) -> None:
        self._record(state, status)
        body = json.dumps({"error": message or code or "error"}).encode()
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        if message:
            self.send_header("X-Error-Message", message)
        if code == "EntryNotFound":
            self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _access(self, state: HubState, repo_id: str) -> bool:
        """Check the repository and the token the way the hub does; answer the error if any."""
        if repo_id not in state.repos:
            self._error(state, 404 if self.headers.get("Authorization") else 401, "RepoNotFound")
            return False
        authorized = self.headers.get("Authorization") == f"Bearer {state.token}"
        if repo_id in state.private and not authorized:
            self._error(state, 401, "RepoNotFound")
            return False
        if repo_id in state.gated and not authorized:
            self._error(
                state, 403, "GatedRepo", "Access to model is restricted. You must be authenticated."
            )
            return False
        return True

    def _resolve(
        self, state: HubState, repo_id: str, revision: str, filename: str, *, head: bool
    ) -> None:
        if not self._access(state, repo_id):
            return
        if revision not in ("main", COMMIT):
            self._error(state, 404, "RevisionNotFound")
            return
        hosted = state.repos[repo_id].get(filename)
        if hosted is None:
            self._error(state, 404, "EntryNotFound")
            return
        size = hosted.size
        start = 0
        status = 200
        range_header = self.headers.get("Range")
        if (
            range_header
            and range_header.startswith("bytes=")
            and not head
            and filename not in state.ignore_range
        ):
            first = range_header[len("bytes=") :].split("-")[0]
            start = int(first) if first else 0
            if start >= size:
                self._error(state, 416, None)
                return
            status = 206
        etag = state.etags.get(filename, hosted.digest())
        self.send_response(status)
        self.send_header("X-Repo-Commit", state.commits.get(filename, COMMIT))
        self.send_header("X-Linked-Etag", f'"{etag}"')
        self.send_header("ETag", f'"{etag}"')
        self.send_header("X-Linked-Size", str(size))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.end_headers()
        if head:
            self._record(state, status)
            return
        hook = state.before_body.pop(filename, None)
        if hook is not None:
            hook()
        with state.lock:
            drop = state.drop_after.pop(filename, None)
        self._sent = 0
        try:
            self._send_body(state, hosted, start, size - start, drop, filename in state.corrupt)
        except (ConnectionError, OSError):  # the client went away (pause, cancel)
            self.close_connection = True
            self._record(state, status, self._sent)
            return
        self._record(state, status, self._sent)
        if drop is not None:
            self.close_connection = True
            self.connection.shutdown(2)

    def _send_body(
        self,
        state: HubState,
        hosted: HostedFile,
        start: int,
        count: int,
        drop: int | None,
        corrupt: bool,
    ) -> None:
        limit = count if drop is None else min(count, max(drop - start, 0))
        self.wfile.flush()
        with hosted.source.open("rb") as fh:
            offset = hosted.offset + start
            if not corrupt and state.throttle_bytes_per_s is None:
                while self._sent < limit:
                    n = os.sendfile(
                        self.connection.fileno(), fh.fileno(), offset + self._sent,
                        limit - self._sent,
                    )  # fmt: skip
                    if n == 0:
                        break
                    self._sent += n
                return
            fh.seek(offset)
            while self._sent < limit:
                chunk = fh.read(min(limit - self._sent, 1 << 20))
                if not chunk:
                    break
                if corrupt:
                    chunk = bytes(b ^ 0x5A for b in chunk[:64]) + chunk[64:]
                self.wfile.write(chunk)
                self._sent += len(chunk)
                if state.throttle_bytes_per_s:
                    threading.Event().wait(len(chunk) / state.throttle_bytes_per_s)

    def _siblings(self, state: HubState, repo_id: str) -> list[dict[str, Any]]:
        out = []
        for name, hosted in sorted(state.repos[repo_id].items()):
            out.append(
                {
                    "type": "file",
                    "path": name,
                    "rfilename": name,
                    "size": hosted.size,
                    "oid": hashlib.sha1(name.encode()).hexdigest(),
                    "blobId": hashlib.sha1(name.encode()).hexdigest(),
                    "lfs": {"oid": hosted.digest(), "sha256": hosted.digest(), "size": hosted.size,
                            "pointerSize": _POINTER_SIZE},
                }
            )  # fmt: skip
        return out

    def _json(self, state: HubState, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self._record(state, 200)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _model_info(self, state: HubState, repo_id: str) -> None:
        if not self._access(state, repo_id):
            return
        siblings = self._siblings(state, repo_id)
        for s in siblings:
            del s["type"], s["path"], s["oid"]
        self._json(
            state,
            {"id": repo_id, "modelId": repo_id, "sha": COMMIT, "private": repo_id in state.private,
             "gated": repo_id in state.gated, "siblings": siblings, "tags": ["gguf"]},
        )  # fmt: skip

    def _tree(self, state: HubState, repo_id: str) -> None:
        if not self._access(state, repo_id):
            return
        entries = self._siblings(state, repo_id)
        for e in entries:
            del e["rfilename"], e["blobId"]
            del e["lfs"]["sha256"]
        self._json(state, entries)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: HubState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class HubServer:
    """Start with ``with HubServer() as hub:``; ``hub.endpoint`` goes into ``HF_ENDPOINT``."""

    def __init__(self, state: HubState | None = None) -> None:
        self.state = state or HubState()
        self._server = _Server(self.state)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="s1desk-test-hub", daemon=True
        )

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
