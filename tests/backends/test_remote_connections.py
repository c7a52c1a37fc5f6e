"""s1desk.connections: saved servers, API keys in a real keyring, the connection test."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from keyrings.alt.file import PlaintextKeyring  # type: ignore[import-untyped]

from s1desk import connections
from s1desk.backends.remote_config import ApiKey
from s1desk.connections import (
    KEYRING_SERVICE,
    KeyStore,
    Problem,
    SavedServer,
    ServersFileError,
    ServerStore,
)
from support.servers import MODEL_ALIAS, FaultServer, LlamaCppServer, free_port


def _no_keyring() -> keyring.backends.fail.Keyring:
    """The backend keyring falls back to where no system keyring exists."""
    return keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]


@pytest.fixture
def file_keyring(tmp_path: Path) -> PlaintextKeyring:
    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path / "keyring.cfg")
    return ring


def test_servers_round_trip_without_secrets(tmp_path: Path, file_keyring: PlaintextKeyring) -> None:
    store = ServerStore(tmp_path / "servers.json")
    keys = KeyStore(file_keyring)
    server = SavedServer.new("H100 box", "https://gpu.example:8000/v1", model="s1.1-32B")
    store.put(server)
    keys.set(server.id, ApiKey("sk-top-secret"))
    assert store.load() == [server]
    assert store.get(server.id).config().root == "https://gpu.example:8000"
    assert "sk-top-secret" not in (tmp_path / "servers.json").read_text()
    assert "sk-top-secret" not in repr(server)
    assert json.loads((tmp_path / "servers.json").read_text())["version"] == 1
    # A fresh key store (a new session) finds the key in the keyring.
    assert KeyStore(file_keyring).get(server.id) == ApiKey("sk-top-secret")
    store.remove(server.id, keys)
    assert store.load() == []
    assert KeyStore(file_keyring).get(server.id) is None


def test_without_a_keyring_the_key_lives_for_the_session_only() -> None:
    keys = KeyStore(_no_keyring())
    assert not keys.persistent
    assert "No system keyring is available" in keys.status
    assert "this session only" in keys.status
    keys.set("a", ApiKey("k"))
    assert keys.get("a") == ApiKey("k")
    assert KeyStore(_no_keyring()).get("a") is None


def test_a_keyring_store_says_where_keys_go(file_keyring: PlaintextKeyring) -> None:
    keys = KeyStore(file_keyring)
    assert keys.persistent
    assert "system keyring" in keys.status


def test_invalid_settings_are_refused_before_saving(tmp_path: Path) -> None:
    store = ServerStore(tmp_path / "servers.json")
    with pytest.raises(ValueError, match="http:// or https://"):
        SavedServer.new("x", "gpu-box:8000")
    with pytest.raises(ValueError, match="read timeout must be above 0"):
        store.put(SavedServer("id", "x", "http://x", read_timeout=-1))
    assert store.load() == []


def _aside(path: Path) -> Path:
    (kept,) = path.parent.glob("servers.json.damaged-*")
    return kept


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"version": 1, "servers": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
        ('{"version": 1, "servers": {"a": 1}}', "not a saved-servers file"),
        ('{"version": "1", "servers": []}', "version '1' is not valid"),
        ("\u0000\xff", "not valid JSON"),
    ],
)
def test_a_damaged_file_is_reported_and_kept_aside(tmp_path: Path, content: str, why: str) -> None:
    path = tmp_path / "servers.json"
    path.write_text(content)
    store = ServerStore(path)
    with pytest.raises(ServersFileError, match=why) as caught:
        store.load()
    kept = _aside(path)
    assert kept.read_text() == content, "nothing is lost"
    assert str(kept) in str(caught.value)
    assert len(str(caught.value)) < 400
    assert store.load() == []
    store.put(SavedServer.new("new", "http://127.0.0.1:8000"))
    assert [s.label for s in store.load()] == ["new"]


def test_a_file_from_a_newer_version_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"version": 99, "servers": []}))
    with pytest.raises(ServersFileError, match="newer s1desk"):
        ServerStore(path).load()
    assert json.loads(path.read_text())["version"] == 99
    assert not list(tmp_path.glob("servers.json.damaged-*"))


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "b", "label": "b", "base_url": 8000},
        {"id": "b", "label": ["b"], "base_url": "http://b"},
        {"id": "b", "label": "b", "base_url": "http://b", "verify_tls": "no"},
        {"id": "b", "label": "b", "base_url": "http://b", "read_timeout": "fast"},
        {"id": "b", "label": "b", "base_url": "http://b", "read_timeout": float("nan")},
        {"id": "b", "label": "b", "base_url": "http://b", "context_length": 1.5},
        {"id": "b", "label": "b", "base_url": "http://[::1"},
        {"id": "b", "label": "b", "base_url": "http://u:pw@b"},
        {"label": "b", "base_url": "http://b"},
        "a string",
        [[[["deep"]]]],
    ],
)
def test_malformed_entries_are_left_out_and_kept_aside(tmp_path: Path, bad: object) -> None:
    path = tmp_path / "servers.json"
    good = SavedServer.new("good", "http://127.0.0.1:8000")
    store = ServerStore(path)
    store.put(good)
    data = json.loads(path.read_text())
    data["servers"].append(bad)
    original = json.dumps(data)
    path.write_text(original)
    with pytest.raises(ServersFileError, match=r"1 saved server\(s\) in it are malformed") as e:
        store.load()
    assert "the 1 valid one(s) stay saved" in str(e.value)
    assert "pw" not in str(e.value).replace(str(tmp_path), "")
    assert _aside(path).read_text() == original, "the damaged file is kept as it was"
    assert store.load() == [good]


def test_credentials_in_an_address_are_never_saved(tmp_path: Path) -> None:
    path = tmp_path / "servers.json"
    with pytest.raises(ValueError, match="user name or password") as caught:
        SavedServer.new("box", "https://alice:hunter2-secret@gpu.example")
    assert "hunter2-secret" not in str(caught.value)
    store = ServerStore(path)
    with pytest.raises(ValueError, match="user name or password"):
        store.put(SavedServer("id", "box", "https://alice:hunter2-secret@gpu.example"))
    assert not path.exists() or "hunter2-secret" not in path.read_text()


def test_the_default_file_lives_in_the_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S1DESK_HOME", str(tmp_path))
    store = ServerStore()
    store.put(SavedServer.new("local vLLM", "http://127.0.0.1:8000"))
    assert (tmp_path / "config" / "servers.json").is_file()


@pytest.mark.model
def test_connection_ok_lists_the_models(
    runner: asyncio.Runner, llama_server: LlamaCppServer
) -> None:
    report = runner.run(
        connections.test_connection(SavedServer.new("lc", llama_server.base_url), None)
    )
    assert report.ok, report.message
    assert report.models == (MODEL_ALIAS,)
    assert report.server_kind == "llama_cpp.server"
    assert "Connected to" in report.message


@pytest.mark.model
def test_connection_names_a_missing_model(
    runner: asyncio.Runner, llama_server: LlamaCppServer
) -> None:
    server = SavedServer.new("lc", llama_server.base_url, model="s1.1-32B")
    report = runner.run(connections.test_connection(server, None))
    assert report.problem is Problem.MODEL_NOT_FOUND
    assert report.models == (MODEL_ALIAS,), "the list to pick from is still offered"


@pytest.mark.model
def test_connect_builds_a_backend_from_a_saved_server(
    runner: asyncio.Runner, llama_server: LlamaCppServer, file_keyring: PlaintextKeyring
) -> None:
    server = SavedServer.new("lc", llama_server.base_url, model=MODEL_ALIAS, context_length=4096)

    async def go() -> str:
        backend = await connections.connect(server, KeyStore(file_keyring))
        async with backend:
            return backend.name

    assert MODEL_ALIAS in runner.run(go())


def test_connection_problems_are_told_apart(runner: asyncio.Runner) -> None:
    async def faults() -> dict[str, connections.ConnectionReport]:
        reports = {}
        for mode in ("unauthorized", "not_openai"):
            async with FaultServer(mode) as fault:
                server = SavedServer.new(mode, fault.base_url)
                reports[mode] = await connections.test_connection(server, ApiKey("bad"))
        nothing = SavedServer.new("none", f"http://127.0.0.1:{free_port()}")
        reports["unreachable"] = await connections.test_connection(nothing, None)
        reports["invalid"] = await connections.test_connection(
            SavedServer("i", "i", "ftp://x"), None
        )
        return reports

    reports = runner.run(faults())
    assert reports["unauthorized"].problem is Problem.AUTH
    assert "HTTP 401" in reports["unauthorized"].message
    assert reports["not_openai"].problem is Problem.NOT_OPENAI
    assert reports["unreachable"].problem is Problem.UNREACHABLE
    assert reports["invalid"].problem is Problem.INVALID


def _self_signed(tmp_path: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


def test_an_untrusted_certificate_is_a_tls_problem(runner: asyncio.Runner, tmp_path: Path) -> None:
    context = _self_signed(tmp_path)

    async def tls_server() -> AsyncIterator[int]:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            server.close()
            await server.wait_closed()

    async def go() -> connections.ConnectionReport:
        async for port in tls_server():
            return await connections.test_connection(
                SavedServer.new("tls", f"https://127.0.0.1:{port}"), None
            )
        raise AssertionError("unreachable")

    report = runner.run(go())
    assert report.problem is Problem.TLS
    assert "certificate" in report.message


def test_an_unencrypted_file_keyring_is_not_taken_for_a_system_keyring() -> None:
    # keyrings.alt (installed for the tests) registers a plaintext file keyring;
    # found on its own, it must not be where API keys go.
    keys = KeyStore()
    if type(keyring.get_keyring()).__name__ == "PlaintextKeyring":
        assert not keys.persistent
        assert "unencrypted" in keys.status
        keys.set("srv", ApiKey("sk-secret"))
        assert keys.get("srv") == ApiKey("sk-secret")
        assert keyring.get_keyring().get_password(KEYRING_SERVICE, "srv") is None
    else:
        assert keys.persistent == (keyring.get_keyring().priority > 0)
