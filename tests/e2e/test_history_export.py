"""File ▸ Export… and File ▸ Import…: Markdown and JSON, with or without reasoning, and back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e.test_history_window import reply

from s1desk.backends.scripted import ScriptedBackend
from s1desk.ui.history.export_dialog import ExportDialog, ExportFormat
from s1desk.ui.history.sidebar_model import ID_ROLE
from s1desk.ui.window.main_window import MainWindow
from support.qt import Windows


def chat(windows: Windows, arun: Callable[..., Any]) -> MainWindow:
    w = windows.make(ScriptedBackend(reply("Think of the pigeonhole principle", "Two socks.")))
    w.chat.submit("How many socks make a pair?")
    arun(w.controller.wait_idle())
    return w


def export_through_the_menu(
    w: MainWindow, path: Path, *, json_format: bool, reasoning: bool
) -> None:
    w.actions_by_name["export"].trigger()
    [dialog] = [d for d in w.findChildren(ExportDialog) if d.isVisible()]
    assert dialog.target.name == "How-many-socks-make-a-pair.md"
    dialog.json.setChecked(json_format)
    dialog.reasoning.setChecked(reasoning)
    assert dialog.target.suffix == (".json" if json_format else ".md")
    dialog.path.setText(str(path))
    dialog.accept()


def test_export_markdown_with_and_without_reasoning(
    windows: Windows, arun: Callable[..., Any], tmp_path: Path
) -> None:
    w = chat(windows, arun)
    with_reasoning = tmp_path / "with.md"
    export_through_the_menu(w, with_reasoning, json_format=False, reasoning=True)
    text = with_reasoning.read_text(encoding="utf-8")
    assert text.startswith("# How many socks make a pair?")
    assert "> Think of the pigeonhole principle" in text
    assert "Two socks." in text
    assert "Exported to" in w.statusBar().currentMessage()
    without = tmp_path / "out" / "without.md"  # a folder that does not exist yet
    export_through_the_menu(w, without, json_format=False, reasoning=False)
    text = without.read_text(encoding="utf-8")
    assert "pigeonhole" not in text
    assert "Two socks." in text


def test_json_export_then_import_through_the_menu_actions_round_trips(
    windows: Windows, arun: Callable[..., Any], tmp_path: Path
) -> None:
    w = chat(windows, arun)
    assert w.history is not None
    original = w.history.saver.current
    assert original is not None
    path = tmp_path / "socks.json"
    export_through_the_menu(w, path, json_format=True, reasoning=True)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["schema"] == "s1desk.conversation"
    assert document["messages"][1]["reasoning"] == "Think of the pigeonhole principle"

    imported = w.history.exports.import_file(path)
    assert imported is not None
    sidebar = w.history.sidebar
    assert sidebar.model.rowCount() == 2
    assert {sidebar.model.conversation(r).id for r in range(2)} == {original, imported.id}
    assert w.history.saver.current == imported.id  # opened at once
    assert sidebar.list.currentIndex().data(ID_ROLE) == imported.id
    assert "Imported “How many socks make a pair?”" in w.statusBar().currentMessage()
    store = w.history.store
    before = store.messages(original)
    after = store.messages(imported.id)
    fields = ("role", "text", "reasoning", "waits", "thinking_end", "stats", "policy", "status")
    assert [[getattr(m, f) for f in fields] for m in after] == [
        [getattr(m, f) for f in fields] for m in before
    ]
    message = w.controller.message(0)
    assert message is not None
    assert message.reasoning == "Think of the pigeonhole principle"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"{not json", "The file is not valid JSON"),
        (b'{"schema": "something.else"}', "not an s1desk conversation export"),
        (b"\x80\x81 not text", "not UTF-8"),
        (
            b'{"schema": "s1desk.conversation", "version": 1, "conversation": {"title": "t",'
            b' "created": "2024-01-01T00:00:00+00:00", "updated": "2024-01-01T00:00:00+00:00"},'
            b' "messages": [{"role": "robot", "text": "hi"}]}',
            "messages[0].role: expected 'user' or 'assistant', got 'robot'",
        ),
    ],
)
def test_importing_a_malformed_file_says_why_and_changes_nothing(
    windows: Windows, arun: Callable[..., Any], tmp_path: Path, content: bytes, says: str
) -> None:
    w = chat(windows, arun)
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert w.history is not None
    assert w.history.exports.import_file(path) is None
    assert w.banner.isVisible()
    assert w.banner.text.startswith("Could not import bad.json:")
    assert says in w.banner.text
    assert w.history.sidebar.model.rowCount() == 1
    assert w.history.store.count_conversations() == 1
    assert w.controller.session.exchanges[0].user == "How many socks make a pair?"


def test_export_with_nothing_saved_and_to_an_unwritable_place(
    windows: Windows, arun: Callable[..., Any], tmp_path: Path
) -> None:
    w = windows.make()
    w.actions_by_name["export"].trigger()
    assert not [d for d in w.findChildren(ExportDialog) if d.isVisible()]
    assert "Nothing to export yet" in w.banner.text
    w.banner.hide()
    w.controller.set_backend(ScriptedBackend(reply("x", "y")))
    w.chat.submit("q")
    arun(w.controller.wait_idle())
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert w.history is not None
    conversation = w.history.saver.current
    assert conversation is not None
    ok = w.history.exports.export(
        conversation, blocker / "x.md", ExportFormat.MARKDOWN, reasoning=True
    )
    assert not ok
    assert w.banner.text.startswith(f"Could not write {blocker / 'x.md'}")
