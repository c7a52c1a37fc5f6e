"""Starting the app: the command with no arguments opens the window; which model opens."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s1desk.settings import AppSettings, load_settings
from s1desk.ui.app import startup_model
from s1desk.ui.window.settings_dialog import SettingsDialog
from support.qt import Windows


def test_startup_model_prefers_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert startup_model(AppSettings()) is None
    assert startup_model(AppSettings(last_model="/m/last.gguf")) == Path("/m/last.gguf")
    monkeypatch.setenv("S1DESK_MODEL", "/m/env.gguf")
    assert startup_model(AppSettings(last_model="/m/last.gguf")) == Path("/m/env.gguf")


def test_the_command_opens_the_window_and_closes_cleanly(s1desk_home: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", S1DESK_HOME=str(s1desk_home))
    proc = subprocess.Popen(
        [sys.executable, "-m", "s1desk", "--verbose"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        settings = s1desk_home / "config" / "settings.json"
        deadline = time.monotonic() + 60
        assert proc.stderr is not None
        seen = []
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], 1.0)
            line = proc.stderr.readline() if ready else ""
            seen.append(line)
            if "window shown" in line or proc.poll() is not None:
                break
        assert proc.poll() is None, "".join(seen)
        proc.send_signal(signal.SIGINT)  # Ctrl+C closes the window like its close button
        proc.communicate(timeout=max(1.0, deadline - time.monotonic()))  # drains stderr
        code = proc.returncode
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    assert code == 0
    assert settings.exists()  # geometry saved on the way out
    assert load_settings().window_geometry


def test_settings_panel_applies_and_restores_s1_defaults(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    w = windows.make()
    dialog = SettingsDialog(w.settings, w)
    dialog.temperature.setValue(0.7)
    dialog.system_prompt.setPlainText("Be brief.")
    dialog.wait_text.setText("Hmm")
    dialog.theme.setCurrentText("dark")
    dialog._accept()
    w.apply_settings(dialog.settings)
    assert w.controller.sampler.temperature == 0.7
    assert w.controller.system_prompt == "Be brief."
    assert w.controller.policy.wait_text == "Hmm"
    assert w.colors.dark
    assert arun(w.transcript.evaluate("document.documentElement.classList.contains('dark')"))
    assert load_settings().sampler.temperature == 0.7
    dialog.restore_defaults()
    assert dialog.temperature.value() == 0.0
    assert dialog.wait_text.text() == "Wait"
    dialog.top_p.setValue(0.0)  # out of range for the sampler: refused with a message
    dialog.top_p.setMinimum(0.0)
    dialog.top_p.setValue(0.0)
    dialog._accept()
    assert "top-p" in dialog.error.text()
    dialog.deleteLater()


def test_the_load_settings_are_in_the_settings_and_build_the_load(
    windows: Windows, tmp_path: Path
) -> None:
    from s1desk.ui.backends.model_loader import load_config

    w = windows.make()
    dialog = SettingsDialog(w.settings, w)
    assert dialog.threads.text() == "automatic"
    assert dialog.threads_batch.text() == "automatic"
    assert dialog.gpu_layers.text() == "all"
    dialog.threads.setValue(1)
    dialog.gpu_layers.setValue(12)
    dialog.context_size.setValue(4096)
    dialog.kv_type.setCurrentIndex(dialog.kv_type.findData("q4_0"))
    assert dialog.flash_attn.isChecked()  # a quantized KV cache needs it
    assert not dialog.flash_attn.isEnabled()
    assert dialog.thinking_format.currentData() == "auto"
    dialog.thinking_format.setCurrentIndex(dialog.thinking_format.findData("think-tags"))
    dialog._accept()
    w.apply_settings(dialog.settings)
    saved = load_settings()
    assert (saved.threads, saved.threads_batch, saved.gpu_layers) == (1, 0, 12)
    assert (saved.kv_type, saved.flash_attn, saved.context_size) == ("q4_0", True, 4096)
    config = load_config(tmp_path / "m.gguf", saved)
    assert (config.n_threads, config.n_threads_batch) == (1, None)  # None: automatic
    assert (config.n_gpu_layers, config.n_ctx, config.kv_type) == (12, 4096, "q4_0")
    assert config.flash_attn
    assert (saved.thinking_format, config.thinking_format) == ("think-tags", "think-tags")
    dialog.restore_defaults()
    assert dialog.thinking_format.currentData() == "auto"
    assert dialog.threads.value() == 0
    assert dialog.kv_type.currentData() == "f16"
    assert dialog.flash_attn.isEnabled()
    dialog.deleteLater()


def test_a_changed_budget_is_saved_at_once_so_a_crash_keeps_it(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    from support.qt import until

    w = windows.make()
    w.budget.max_box.setValue(321)
    # No quit, no clean shutdown: the file has it soon after the change.
    arun(until(lambda: load_settings().policy.max_thinking == 321, 5, "the saved budget"))
    assert not w.keeper.pending
