"""The window over the engine process: a crashed engine, a GGUF that aborts llama.cpp, a
model switch, the model's load settings and the engine's one-time notice."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s1desk.backends.engine.safe_mode import SafeMode
from s1desk.backends.local import LocalBackend
from s1desk.errors import BackendClosedError
from s1desk.settings import AppSettings, save_settings
from s1desk.store import MessageStatus
from s1desk.thinking.policy import BudgetPolicy
from s1desk.ui.window.main_window import MainWindow
from support.gguf_edit import with_block_count
from support.qt import Windows, until

pytestmark = pytest.mark.model


def _closed(backend: LocalBackend) -> bool:
    try:
        _ = backend.engine
    except BackendClosedError:
        return True
    return False


def _loaded(windows: Windows, arun: Callable[..., Any], path: Path, **settings: Any) -> MainWindow:
    save_settings(
        AppSettings(
            context_size=2048,
            policy=BudgetPolicy(max_thinking=400, min_thinking=400, max_answer=8),
            **settings,
        )
    )
    w = windows.make()
    w.open_model_file(path)
    arun(until(lambda: w.controller.backend is not None, 180, "the model"), timeout=200)
    return w


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV])
def test_an_engine_killed_mid_thinking_leaves_the_window_answering(
    windows: Windows, arun: Callable[..., Any], model_path: Path, sig: signal.Signals
) -> None:
    w = _loaded(windows, arun, model_path)
    backend = w.controller.backend
    assert isinstance(backend, LocalBackend)
    w.chat.submit("Explain step by step how a hash table handles collisions.")
    arun(until(lambda: len(w.reasoning.text.toPlainText()) > 40, 120, "live thinking"))
    pid = backend.engine.pid
    assert pid is not None
    os.kill(pid, sig)
    arun(w.controller.wait_idle(), timeout=60)

    # An error in the window, in words; the partial reply kept on screen and in the store.
    reply = w.controller.message(0)
    assert reply is not None
    assert reply.error is not None
    assert reply.error_kind == "EngineCrashedError"
    assert reply.reasoning.strip()
    arun(until(lambda: w.banner.isVisible(), 10, "the error banner"))
    assert "The reply failed" in w.banner.text
    assert w.isVisible()
    assert w.history is not None
    conversation = w.history.saver.current
    assert conversation is not None
    _question, saved = w.history.store.messages(conversation)
    assert saved.status is MessageStatus.ERROR
    assert saved.reasoning == reply.reasoning
    assert len(saved.reasoning) > 40

    # The next question is answered by a fresh engine, reloaded by itself.
    w.budget.max_box.setValue(0)
    w.chat.submit("What is 2+2? Reply with just the number.")
    arun(w.controller.wait_idle(), timeout=300)
    answer = w.controller.message(1)
    assert answer is not None
    assert answer.error is None
    assert answer.answer.strip()
    assert backend.engine.pid not in (None, pid)


def test_a_gguf_that_aborts_llama_cpp_is_an_error_in_the_window(
    windows: Windows, arun: Callable[..., Any], model_path: Path, tmp_path: Path
) -> None:
    bad = with_block_count(model_path, tmp_path, 0)
    save_settings(AppSettings(context_size=1024))
    w = windows.make()
    w.open_model_file(bad)
    arun(until(lambda: w.banner.isVisible(), 180, "the error"), timeout=200)
    assert "Could not load the model" in w.banner.text
    assert bad.name in w.banner.text
    assert w.controller.backend is None
    assert not w.status.bar.isVisible()
    assert w.isVisible()
    # The app stays: the real model loads and answers next.
    w.open_model_file(model_path)
    arun(until(lambda: w.controller.backend is not None, 180, "the model"), timeout=200)
    w.budget.max_box.setValue(0)
    w.chat.submit("What is 2+2? Reply with just the number.")
    arun(w.controller.wait_idle(), timeout=300)
    reply = w.controller.message(0)
    assert reply is not None
    assert reply.error is None


def test_switching_models_keeps_the_old_one_answering_until_the_new_one_is_ready(
    windows: Windows, arun: Callable[..., Any], model_path: Path, tmp_path: Path
) -> None:
    w = _loaded(windows, arun, model_path)
    old = w.controller.backend
    assert isinstance(old, LocalBackend)
    other = tmp_path / "second.gguf"
    shutil.copyfile(model_path, other)
    w.open_model_file(other)
    assert w.loader.loading
    # While the new one loads, the old one is still the backend and answers.
    assert w.controller.backend is old
    assert f"Loading {other.name}" in w.status.label.text()
    w.budget.max_box.setValue(0)
    w.chat.submit("What is 2+2? Reply with just the number.")
    arun(w.controller.wait_idle(), timeout=300)
    reply = w.controller.message(0)
    assert reply is not None
    assert reply.error is None
    assert reply.source
    assert model_path.name in reply.source
    arun(until(lambda: w.controller.backend is not old, 180, "the new model"), timeout=200)
    new = w.controller.backend
    assert new is not None
    assert new.model == other.name
    assert other.name in w.status.label.text()
    # The old engine is ended: its memory goes back.
    arun(until(lambda: _closed(old), 30, "the old engine closed"))


def test_the_load_settings_reach_the_engine(
    windows: Windows, arun: Callable[..., Any], model_path: Path
) -> None:
    w = _loaded(windows, arun, model_path, threads=1, threads_batch=2, kv_type="q8_0", gpu_layers=0)
    backend = w.controller.backend
    assert isinstance(backend, LocalBackend)
    config = backend.config
    assert (config.n_threads, config.n_threads_batch) == (1, 2)
    assert config.kv_type == "q8_0"
    assert config.flash_attn  # a quantized KV cache turns it on
    assert config.n_gpu_layers == 0
    assert backend.loaded.threads == 1
    # The Models window lists the model in use, opened by path, and says so.
    w.dialogs.models()
    manager = w.dialogs.model_manager
    assert manager is not None
    assert not manager.intro.isVisible()
    listed = [m.path for m in manager.local_view.models]
    assert model_path.resolve() in [p.resolve() for p in listed]
    row = listed.index(next(p for p in listed if p.resolve() == model_path.resolve()))
    item = manager.local_view.tree.topLevelItem(row)
    assert item is not None
    assert "in use" in item.text(0)
    manager.hide()
    w.budget.max_box.setValue(0)
    w.chat.submit("What is 2+2? Reply with just the number.")
    arun(w.controller.wait_idle(), timeout=300)
    reply = w.controller.message(0)
    assert reply is not None
    assert reply.error is None


def test_the_engine_notice_is_shown_once_after_a_load(
    windows: Windows, arun: Callable[..., Any], model_path: Path
) -> None:
    SafeMode().remember(12.3, "SIGILL")  # this machine's extra kernels are known to crash
    w = _loaded(windows, arun, model_path)
    assert w.banner.isVisible()
    assert w.banner.tone == "info"
    assert "12.3 tokens/s" in w.banner.text
    w.banner.hide()
    w.open_model_file(model_path)
    arun(until(lambda: not w.loader.loading, 180, "the second load"), timeout=200)
    assert not w.banner.isVisible()  # told once
