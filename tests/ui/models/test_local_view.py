"""The Models window's local list: add from disk (file dialog, drag and drop), Use, refusals."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from s1desk.models.hardware import Hardware
from s1desk.models.local import list_local_models
from s1desk.settings import AppSettings, save_settings
from s1desk.thinking.policy import BudgetPolicy
from s1desk.ui.models.models_dialog import ModelManagerDialog
from support.qt import Windows, until

NO_GPU = Hardware(gpus=(), offload_supported=False, ram_total=16 << 30, ram_available=12 << 30)


@pytest.fixture(autouse=True)
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hugging Face cache of the test's own (no hub is contacted here)."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "hf" / "hub"


@pytest.fixture
def manager(arun: Callable[..., Any]) -> Iterator[ModelManagerDialog]:
    dialog = ModelManagerDialog(hardware=NO_GPU)
    dialog.show()
    yield dialog
    arun(dialog.shutdown())
    dialog.close()
    dialog.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _drop(target: ModelManagerDialog, paths: list[Path]) -> tuple[bool, bool]:
    """Drag ``paths`` over the window and drop them; whether each step was accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    actions = Qt.DropAction.CopyAction
    buttons = Qt.MouseButton.LeftButton
    enter = QDragEnterEvent(target.rect().center(), actions, mime, buttons, Qt.KeyboardModifier(0))
    QApplication.sendEvent(target, enter)
    drop = QDropEvent(
        QPointF(target.rect().center()), actions, mime, buttons, Qt.KeyboardModifier(0)
    )
    if enter.isAccepted():
        QApplication.sendEvent(target, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_add_from_disk_lists_the_quantization_from_the_header(
    manager: ModelManagerDialog, model_path: Path, tmp_path: Path
) -> None:
    view = manager.local_view
    manager.show_local()
    assert view.empty_label.isVisible()
    view.add_button.click()
    dialog = view.file_dialog
    assert isinstance(dialog, QFileDialog)
    assert dialog.isVisible()
    dialog.selectFile(str(model_path))
    dialog.accept()
    [m] = view.models
    assert m.path == model_path.resolve()
    assert m.quantization == "Q4_K_M"
    assert m.source == "added"
    assert m.architecture == "qwen2"
    item = view.tree.topLevelItem(0)
    assert item is not None
    assert item.text(1) == "Q4_K_M"
    assert item.text(2) == "491 MB"
    assert item.text(3) == "added file"
    assert not view.empty_label.isVisible()
    assert "Added" in view.message.text()
    assert manager.tabs.tabText(1) == "On this machine (1)"
    assert not manager.intro.isVisible()
    # Remembered: a later listing (another window, the CLI) has it too.
    assert [x.path for x in list_local_models()] == [model_path.resolve()]
    # Forgetting an added file asks, and leaves the file where it is.
    view.delete_button.click()
    box = view.confirm_box
    assert box is not None
    assert "stays on disk" in box.informativeText()
    [confirm] = [b for b in box.buttons() if b.objectName() == "confirmButton"]
    confirm.click()
    assert view.models == []
    assert model_path.exists()


def test_a_file_that_is_not_a_gguf_is_refused_with_its_reason(
    manager: ModelManagerDialog, tmp_path: Path
) -> None:
    bogus = tmp_path / "notes.gguf"
    bogus.write_text("not a model")
    manager.show_local()
    assert manager.local_view.add_files([bogus]) == []
    assert manager.local_view.message.isVisible()
    assert "not a GGUF model" in manager.local_view.message.text()
    assert manager.local_view.models == []


def test_dropping_gguf_files_on_the_window_adds_them(
    manager: ModelManagerDialog, model_path: Path, tmp_path: Path
) -> None:
    text = tmp_path / "readme.txt"
    text.write_text("hello")
    assert _drop(manager, [text]) == (False, False)  # only .gguf files are taken
    assert manager.tabs.currentWidget() is manager.catalog_view
    assert _drop(manager, [model_path]) == (True, True)
    assert manager.tabs.currentWidget() is manager.local_view
    assert [(m.path, m.quantization) for m in manager.local_view.models] == [
        (model_path.resolve(), "Q4_K_M")
    ]


@pytest.mark.model
def test_use_loads_the_model_in_the_main_window(
    windows: Windows, model_path: Path, arun: Callable[..., Any]
) -> None:
    save_settings(
        AppSettings(context_size=2048, policy=BudgetPolicy(max_thinking=16, max_answer=8))
    )
    w = windows.make()
    assert w.actions_by_name["models"].shortcut().toString() == "Ctrl+M"
    w.actions_by_name["models"].trigger()
    manager = w.dialogs.model_manager
    assert manager is not None
    assert manager.isVisible()
    manager.local_view.add_files([model_path])
    manager.local_view.use_button.click()
    assert not manager.isVisible()  # out of the way while the model loads
    assert w.status.bar.isVisible()
    assert model_path.name in w.status.label.text()
    arun(until(lambda: w.controller.backend is not None, 60, "the model"))
    assert w.settings.last_model == str(model_path.resolve())
    w.chat.submit("What is 2+2? Reply with just the number.")
    arun(w.controller.wait_idle())
    reply = w.controller.message(0)
    assert reply is not None
    assert reply.answer


def test_a_new_user_is_shown_the_models_window_at_start(s1desk_home: Path, tmp_path: Path) -> None:
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        S1DESK_HOME=str(s1desk_home),
        HF_HOME=str(tmp_path / "hf"),
        HF_HUB_CACHE=str(tmp_path / "hf" / "hub"),
    )
    env.pop("S1DESK_MODEL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "s1desk", "--verbose"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([proc.stderr], [], [], 1.0)
            line = proc.stderr.readline() if ready else ""
            seen.append(line)
            if "window shown" in line:
                break
        time.sleep(1.0)  # let the Models window open and look at the machine
        assert proc.poll() is None, "".join(seen)
        proc.send_signal(signal.SIGINT)  # closes the window, and the Models window with it
        _out, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    log = "".join(seen) + rest
    assert proc.returncode == 0, log
    assert "no model yet: the Models window is open" in log
