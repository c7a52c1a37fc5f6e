"""The GUI thread never blocks while a fast, long reasoning trace streams."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from s1desk.backends.scripted import ScriptedBackend, synthetic_reply
from support.latency import LatencyProbe
from support.qt import Windows

TOKENS = 30_000
RATE = 3_000  # tokens/s: at least 500 as the issue asks, faster so the test stays short


def test_gui_thread_never_blocked_over_100_ms_during_a_30000_token_trace(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    backend = ScriptedBackend(synthetic_reply(TOKENS, wait_at=(10_000, 20_000)), rate=RATE)
    w = windows.make(backend)
    w.budget.max_box.setValue(32_000)
    probe = LatencyProbe()
    probe.start()
    start = time.perf_counter()
    w.chat.submit("think for a long time")
    arun(w.controller.wait_idle(), timeout=120)
    elapsed = time.perf_counter() - start
    probe.stop()
    message = w.controller.message(0)
    assert message is not None
    assert message.thinking_tokens == TOKENS
    assert TOKENS / elapsed >= 500, f"the stream ran at {TOKENS / elapsed:.0f} tokens/s"
    assert w.reasoning.text.toPlainText().count("⟲ Wait") == 2
    assert len(probe.lateness) > 100
    # Time the GUI thread waited for a core held by other processes (a loaded
    # machine) is not counted; its own work, sleeps and I/O waits are.
    assert probe.longest_blocked_ms < 100, (
        f"the GUI thread was blocked for {probe.longest_blocked_ms:.0f} ms "
        f"(longest wall-clock stall {probe.longest_ms:.0f} ms)"
    )
