"""Saved remote servers: a typed settings file, API keys in the system keyring, and checks.

What the app needs to attach to a server, without Qt:

- :class:`ServerStore` keeps the saved servers in ``servers.json`` under
  :func:`s1desk.paths.config_dir` (no secrets in it).
- :class:`KeyStore` keeps each server's API key in the system keyring, or for
  this session only where no keyring exists (:attr:`KeyStore.persistent`).
- :func:`test_connection` says exactly what is wrong with a server.
- :func:`connect` builds a :class:`RemoteBackend` from a saved server.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.errors

from s1desk import paths
from s1desk.backends.remote import RemoteBackend
from s1desk.backends.remote_client import OpenAIClient
from s1desk.backends.remote_config import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    ApiKey,
    RemoteServerConfig,
)
from s1desk.backends.remote_errors import (
    AuthenticationError,
    ModelNotFoundError,
    NotOpenAICompatibleError,
    RemoteConfigError,
    ServerUnreachableError,
    TLSVerificationError,
)
from s1desk.backends.remote_server import discover
from s1desk.errors import S1DeskError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
FILE_NAME = "servers.json"
KEYRING_SERVICE = "s1desk"


class ServersFileError(S1DeskError):
    """``servers.json`` cannot be read; it is left as it is."""


@dataclass(frozen=True, slots=True)
class SavedServer:
    """A remote server the user saved. The API key is not here: see :class:`KeyStore`."""

    #: Stable identifier; also the keyring entry's user name.
    id: str
    #: What the user calls it ("H100 box").
    label: str
    #: Address of the OpenAI-compatible server, e.g. ``https://gpu.example:8000``.
    base_url: str
    #: Served model name, picked from the server's ``/v1/models``.
    model: str = ""
    #: Verify the server's TLS certificate (on unless the user turns it off).
    verify_tls: bool = True
    #: Seconds to wait for a connection.
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    #: Seconds without a byte before a stream counts as stalled.
    read_timeout: float = DEFAULT_READ_TIMEOUT
    #: Maximum context when the server does not report one (tokens; 0 = unknown).
    context_length: int = 0

    def config(self) -> RemoteServerConfig:
        """The connection settings this entry describes (validated)."""
        return RemoteServerConfig(
            base_url=self.base_url,
            model=self.model,
            verify_tls=self.verify_tls,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            context_length=self.context_length or None,
        )

    @classmethod
    def new(cls, label: str, base_url: str, **settings: Any) -> SavedServer:
        """A new entry with a fresh id; the settings are checked at once."""
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "server"
        server = cls(
            id=f"{slug}-{uuid.uuid4().hex[:8]}", label=label, base_url=base_url, **settings
        )
        server.config()
        return server


class ServerStore:
    """The saved servers, in ``servers.json`` (versioned; written atomically)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.config_dir() / FILE_NAME

    def load(self) -> list[SavedServer]:
        """The saved servers.

        A file that cannot be read is moved aside (``servers.json.damaged-…``)
        and :class:`ServersFileError` says where; malformed entries are left
        out of the file the same way, the others kept. A file from a newer
        s1desk is left untouched.
        """
        if not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ServersFileError(f"Cannot read the saved servers in {self.path}: {exc}") from exc
        except (ValueError, RecursionError) as exc:
            why = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise self._set_aside(f"it is not valid JSON ({why})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("servers"), list):
            raise self._set_aside("it is not a saved-servers file")
        version = data.get("version")
        if type(version) is not int or version < 1:
            raise self._set_aside(f"its version {_short(version)} is not valid")
        if version > SCHEMA_VERSION:
            raise ServersFileError(
                f"{self.path} was written by a newer s1desk (version {version}); "
                "it is left untouched."
            )
        servers: list[SavedServer] = []
        bad: list[str] = []
        for entry in data["servers"]:
            try:
                servers.append(_entry(entry))
            except (TypeError, ValueError) as exc:
                bad.append(str(exc))
        if bad:
            why = f"{len(bad)} saved server(s) in it are malformed ({bad[0]})"
            raise self._set_aside(why, keep=servers)
        return servers

    def _set_aside(self, why: str, keep: list[SavedServer] | None = None) -> ServersFileError:
        """Move the damaged file aside (rewriting ``keep`` in its place); the error to raise."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{n}")
        try:
            os.replace(self.path, aside)
            if keep:
                self.save(keep)
        except OSError as exc:
            return ServersFileError(
                f"The saved servers in {self.path} cannot be read: {why}. It could not be "
                f"moved aside ({exc}) and is left as it is."
            )
        log.warning("%s is damaged (%s); kept as %s", self.path, why, aside)
        kept = f"the {len(keep)} valid one(s) stay saved" if keep else "the list starts empty"
        return ServersFileError(
            f"The saved servers in {self.path} could not all be read: {why}. The file is "
            f"kept as {aside}; {kept}."
        )

    def save(self, servers: list[SavedServer]) -> None:
        payload = {"version": SCHEMA_VERSION, "servers": [asdict(s) for s in servers]}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def get(self, server_id: str) -> SavedServer:
        for server in self.load():
            if server.id == server_id:
                return server
        raise KeyError(server_id)

    def put(self, server: SavedServer) -> None:
        """Add ``server`` or replace the saved one with the same id."""
        server.config()  # refuse invalid settings before writing them
        servers = [s for s in self.load() if s.id != server.id]
        servers.append(server)
        self.save(servers)

    def remove(self, server_id: str, keys: KeyStore | None = None) -> None:
        self.save([s for s in self.load() if s.id != server_id])
        if keys is not None:
            keys.delete(server_id)


_TEXT_FIELDS = ("id", "label", "base_url", "model")


def _entry(entry: Any) -> SavedServer:
    """One saved server from the file, every field's type checked, its settings validated."""
    if not isinstance(entry, dict):
        raise TypeError(f"an entry is {type(entry).__name__}, not an object")
    names = {f.name for f in fields(SavedServer)}
    values = {k: v for k, v in entry.items() if k in names}
    for name in _TEXT_FIELDS:
        if name in values and not isinstance(values[name], str):
            raise TypeError(f"{name} is {type(values[name]).__name__}, not text")
    if not values.get("id") or "base_url" not in values or "label" not in values:
        raise TypeError("an entry lacks its id, label or address")
    if "verify_tls" in values and not isinstance(values["verify_tls"], bool):
        raise TypeError("verify_tls is not true or false")
    server = SavedServer(**values)
    server.config()  # the address, the timeouts and the context length, type and range
    return server


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, list | dict) else type(value).__name__
    return text[:40]


def _stores_plain_text(backend: keyring.backend.KeyringBackend) -> bool:
    """True for keyrings that keep secrets unencrypted on disk (keyrings.alt's plaintext file)."""
    inner = getattr(backend, "backends", None)
    if isinstance(inner, list | tuple) and inner:
        return all(_stores_plain_text(b) for b in inner)
    return "plaintext" in type(backend).__name__.lower()


class KeyStore:
    """API keys in the system keyring; in memory for the session where there is none."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._session: dict[str, ApiKey] = {}
        self._failed: str | None = None
        if backend is None:
            backend = keyring.get_keyring()
            if _stores_plain_text(backend):
                self._failed = "only a keyring that writes keys unencrypted to a file was found"
        self._backend = backend

    @property
    def persistent(self) -> bool:
        """True when keys outlive the session (a usable system keyring exists)."""
        return self._failed is None and self._backend.priority > 0

    @property
    def status(self) -> str:
        """One sentence for the settings dialog."""
        if self.persistent:
            return f"API keys are kept in the system keyring ({type(self._backend).__name__})."
        why = f" ({self._failed})" if self._failed else ""
        return (
            f"No system keyring is available{why}: API keys are kept for this session only "
            "and must be entered again after a restart."
        )

    def set(self, server_id: str, key: ApiKey | None) -> None:
        if key is None:
            self.delete(server_id)
            return
        self._session[server_id] = key
        if self.persistent:
            try:
                self._backend.set_password(KEYRING_SERVICE, server_id, key.reveal())
            except keyring.errors.KeyringError as exc:
                self._fail(exc)

    def get(self, server_id: str) -> ApiKey | None:
        if server_id in self._session:
            return self._session[server_id]
        if not self.persistent:
            return None
        try:
            value = self._backend.get_password(KEYRING_SERVICE, server_id)
        except keyring.errors.KeyringError as exc:
            self._fail(exc)
            return None
        if not value:
            return None
        key = self._session[server_id] = ApiKey(value)
        return key

    def delete(self, server_id: str) -> None:
        self._session.pop(server_id, None)
        if self.persistent:
            try:
                self._backend.delete_password(KEYRING_SERVICE, server_id)
            except keyring.errors.PasswordDeleteError:
                pass
            except keyring.errors.KeyringError as exc:
                self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        log.warning("the system keyring failed (%s); keys stay in memory", type(exc).__name__)
        self._failed = f"the keyring failed: {type(exc).__name__}"


class Problem(StrEnum):
    """What :func:`test_connection` found."""

    OK = "ok"
    INVALID = "invalid_settings"
    UNREACHABLE = "unreachable"
    TLS = "tls"
    AUTH = "auth"
    MODEL_NOT_FOUND = "model_not_found"
    NOT_OPENAI = "not_openai_compatible"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ConnectionReport:
    """The outcome of a connection test, for the user."""

    problem: Problem
    message: str
    #: Models the server serves (empty when it could not be asked).
    models: tuple[str, ...] = ()
    #: ``vllm``, ``llama_cpp.server`` or ``openai-compatible``.
    server_kind: str = ""
    max_model_len: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is Problem.OK


_PROBLEMS: tuple[tuple[type[Exception], Problem], ...] = (
    (RemoteConfigError, Problem.INVALID),
    (TLSVerificationError, Problem.TLS),
    (ServerUnreachableError, Problem.UNREACHABLE),
    (AuthenticationError, Problem.AUTH),
    (ModelNotFoundError, Problem.MODEL_NOT_FOUND),
    (NotOpenAICompatibleError, Problem.NOT_OPENAI),
)


async def test_connection(server: SavedServer, key: ApiKey | None) -> ConnectionReport:
    """Connect, list the models, check the chosen one and the tokenizer; say what is wrong."""
    models: tuple[str, ...] = ()
    try:
        config = server.config()
        client = OpenAIClient(config, key)
        try:
            listed = await client.models()
            models = tuple(m.id for m in listed)
            profile = await discover(client, config.model)
        finally:
            await client.aclose()
    except S1DeskError as exc:
        for kind, problem in _PROBLEMS:
            if isinstance(exc, kind):
                return ConnectionReport(problem, str(exc), models)
        return ConnectionReport(Problem.ERROR, str(exc), models)
    length = profile.max_model_len or config.context_length
    context = f", context {length:,} tokens" if length else ", context not reported"
    return ConnectionReport(
        Problem.OK,
        f"Connected to {config.root} ({profile.kind.value}): model {profile.model}{context}.",
        profile.models,
        profile.kind.value,
        profile.max_model_len,
    )


async def connect(server: SavedServer, keys: KeyStore) -> RemoteBackend:
    """The backend for a saved server, with its key from ``keys``."""
    return await RemoteBackend.connect(server.config(), keys.get(server.id))


def with_model(server: SavedServer, model: str) -> SavedServer:
    """A copy of ``server`` that uses ``model``."""
    return replace(server, model=model)
