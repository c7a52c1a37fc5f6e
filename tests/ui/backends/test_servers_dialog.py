"""The Remote servers dialog against a real llama_cpp.server on loopback (with an API key)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring.backends.fail
import pytest
from keyrings.alt.file import PlaintextKeyring  # type: ignore[import-untyped]

from s1desk.connections import KeyStore, ServerStore
from s1desk.ui.backends.servers_dialog import ServersDialog
from s1desk.ui.kit.theme import LIGHT
from support.qt import until
from support.servers import MODEL_ALIAS, FaultServer, LlamaCppServer, free_port

SECRET = "sk-dialog-secret-4711"


@pytest.fixture(scope="module")
def keyed_server(
    model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaCppServer]:
    log = tmp_path_factory.mktemp("keyed-server") / "server.log"
    with LlamaCppServer(model_path, n_ctx=1024, api_key=SECRET, log_path=log) as server:
        yield server


@pytest.fixture
def file_keyring(tmp_path: Path) -> PlaintextKeyring:
    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path / "keyring.cfg")
    return ring


@pytest.fixture
def dialogs(arun: Callable[..., Any]) -> Iterator[Callable[[KeyStore], ServersDialog]]:
    made: list[ServersDialog] = []

    def make(keys: KeyStore) -> ServersDialog:
        dialog = ServersDialog(ServerStore(), keys, LIGHT)
        dialog.show()
        made.append(dialog)
        return dialog

    yield make
    for dialog in made:
        dialog.close()
        arun(dialog.wait_idle())
        dialog.deleteLater()


def _fill(d: ServersDialog, url: str, key: str = "", model: str = "", label: str = "box") -> None:
    d.form.label.setText(label)
    d.form.base_url.setText(url)
    d.form.model.setEditText(model)
    d.form.key.setText(key)


def _test(d: ServersDialog, arun: Callable[..., Any]) -> str:
    d.test_button.click()
    assert not d.test_button.isEnabled()  # running on the loop, the window stays live
    arun(until(lambda: not d.busy, 30, "the connection test"))
    arun(d.wait_idle())
    return d.verdict.text()


@pytest.mark.model
def test_add_a_server_pick_its_model_test_and_save_it(
    dialogs: Callable[[KeyStore], ServersDialog],
    arun: Callable[..., Any],
    keyed_server: LlamaCppServer,
    file_keyring: PlaintextKeyring,
    s1desk_home: Path,
) -> None:
    d = dialogs(KeyStore(file_keyring))
    assert d.list.count() == 0  # a new user: empty fields for a first server
    assert "system keyring" in d.form.key_status.text()
    _fill(d, keyed_server.base_url, key=SECRET, label="Test box")

    d.form.refresh.click()
    arun(until(lambda: not d.busy, 30, "the model list"))
    arun(d.wait_idle())
    assert [d.form.model.itemText(i) for i in range(d.form.model.count())] == [MODEL_ALIAS]
    assert d.form.model.currentText() == MODEL_ALIAS  # the only model is picked
    assert "serves 1 model(s): s1-test" in d.verdict.text()

    verdict = _test(d, arun)
    assert verdict.startswith("✓ Connected")
    assert "llama_cpp.server" in verdict
    assert MODEL_ALIAS in verdict

    assert d.save()
    assert d.list.count() == 1
    assert d.list.item(0).text() == "Test box"
    assert "kept in the keyring" in d.verdict.text()
    saved = ServerStore().load()
    assert [(s.label, s.model, s.verify_tls) for s in saved] == [("Test box", MODEL_ALIAS, True)]
    # The key is in the keyring only: never in a settings file.
    assert KeyStore(file_keyring).get(saved[0].id) is not None
    for path in s1desk_home.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path
    # Editing it again: the key field stays empty and says a key is stored; a test uses it.
    assert d.form.key.text() == ""
    assert "A key is stored" in d.form.key.placeholderText()
    assert _test(d, arun).startswith("✓ Connected")


@pytest.mark.model
def test_each_failure_is_named(
    dialogs: Callable[[KeyStore], ServersDialog],
    arun: Callable[..., Any],
    keyed_server: LlamaCppServer,
) -> None:
    d = dialogs(KeyStore(keyring.backends.fail.Keyring()))  # type: ignore[no-untyped-call]

    _fill(d, f"http://127.0.0.1:{free_port()}", key=SECRET)
    assert _test(d, arun).startswith("✗ Unreachable:")

    _fill(d, keyed_server.base_url, key="sk-wrong")
    assert _test(d, arun).startswith("✗ API key rejected:")

    _fill(d, keyed_server.base_url, key=SECRET, model="s1.1-32B")
    verdict = _test(d, arun)
    assert verdict.startswith("✗ Wrong model:")
    assert MODEL_ALIAS in verdict  # it says what the server does serve
    assert d.form.model.findText(MODEL_ALIAS) >= 0  # and offers it

    async def not_openai() -> str:
        async with FaultServer("not_openai") as html:
            _fill(d, html.base_url)
            d.test_button.click()
            await until(lambda: not d.busy, 30)
            await d.wait_idle()
            return d.verdict.text()

    assert arun(not_openai()).startswith("✗ Not an OpenAI-compatible server:")

    # A malformed address is refused before any request, and nothing typed is lost.
    _fill(d, "gpu-box:8000", label="typo")
    d.test_button.click()
    assert d.verdict.text().startswith("✗ Invalid settings:")
    assert not d.save()
    assert "Not saved" in d.verdict.text()
    assert "http://" in d.verdict.text()
    assert d.form.base_url.text() == "gpu-box:8000"
    assert ServerStore().load() == []


def test_without_a_keyring_keys_last_for_the_session_and_tls_off_warns(
    dialogs: Callable[[KeyStore], ServersDialog], s1desk_home: Path
) -> None:
    keys = KeyStore(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    d = dialogs(keys)
    assert "this session only" in d.form.key_status.text()
    assert not d.form.tls_warning.isVisible()
    d.form.verify_tls.setChecked(False)
    assert d.form.tls_warning.isVisible()
    assert "Certificate checks are off" in d.form.tls_warning.text()
    _fill(d, "https://gpu.example:8000", key=SECRET, model="s1.1-32B", label="GPU")
    assert d.save()
    assert "kept for this session only" in d.verdict.text()
    (server,) = ServerStore().load()
    assert server.verify_tls is False
    assert keys.get(server.id) is not None  # usable now…
    assert KeyStore(keyring.backends.fail.Keyring()).get(server.id) is None  # type: ignore[no-untyped-call]
    data = json.loads((s1desk_home / "config" / "servers.json").read_text())
    assert SECRET not in json.dumps(data)

    d.remove_server()
    assert d.list.count() == 0
    assert ServerStore().load() == []
    assert keys.get(server.id) is None  # its key went with it


def test_refresh_on_a_dead_server_says_so(
    dialogs: Callable[[KeyStore], ServersDialog], arun: Callable[..., Any]
) -> None:
    d = dialogs(KeyStore(keyring.backends.fail.Keyring()))  # type: ignore[no-untyped-call]
    _fill(d, f"http://127.0.0.1:{free_port()}")
    d.form.refresh.click()
    assert "Connecting to" in d.verdict.text()  # at once: something is happening
    assert not d.form.refresh.isEnabled()
    arun(until(lambda: not d.busy, 30, "the refresh"))
    arun(d.wait_idle())
    assert d.verdict.text().startswith("✗ Unreachable:")
    assert d.form.refresh.isEnabled()
