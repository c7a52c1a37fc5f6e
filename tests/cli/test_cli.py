"""The s1desk command line, run as a real process on the real test model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from s1desk import __version__


def s1desk(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "s1desk", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_version() -> None:
    result = s1desk("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"s1desk {__version__}"


def test_help_lists_ask() -> None:
    result = s1desk("--help")
    assert result.returncode == 0
    assert "ask" in result.stdout


def test_ask_without_a_model_is_a_usage_error() -> None:
    env = {k: v for k, v in os.environ.items() if k != "S1DESK_MODEL"}
    result = subprocess.run(
        [sys.executable, "-m", "s1desk", "ask", "hi"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert "no model" in result.stderr


def test_missing_model_file(tmp_path: Path) -> None:
    result = s1desk("ask", "hi", "--model", str(tmp_path / "none.gguf"))
    assert result.returncode == 1
    assert "Model file not found" in result.stderr


@pytest.mark.model
def test_json_events(model_path: Path) -> None:
    result = s1desk(
        "ask", "What is 2+2? Reply with just the number.", "--model", str(model_path),
        "--ctx", "2048", "--max-think", "60", "--min-think", "20", "--max-answer", "12", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events: list[dict[str, Any]] = [json.loads(line) for line in result.stdout.splitlines()]
    types = [e["type"] for e in events]
    assert types[-2:] == ["stats", "done"]
    assert "wait" in types
    assert types.count("thinking_end") == 1
    end = events[types.index("thinking_end")]
    assert end["reason"] in ("natural", "cap")
    stats = events[-2]
    for key in ("thinking_tokens", "answer_tokens", "waits", "tokens_per_second"):
        assert key in stats
    assert stats["waits"] == types.count("wait")
    assert 20 <= stats["thinking_tokens"] <= 60 or stats["waits"] == 6
    assert all(isinstance(e["text"], str) for e in events if e["type"] in ("thinking", "answer"))


@pytest.mark.model
def test_text_mode_separates_thinking_from_answer(model_path: Path) -> None:
    result = s1desk(
        "ask", "Explain what a linked list is.", "--model", str(model_path),
        "--ctx", "2048", "--max-think", "16", "--max-answer", "6",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Thinking…\n")
    assert "── thinking cut at the budget after 16 tokens ──" in out
    assert out.split("──")[-1].strip().startswith("Final Answer:")
    assert "\033[" not in out, "no colour codes when not on a terminal"
    assert "16 thinking" in result.stderr


@pytest.mark.model
def test_interrupt_stops_and_exits_130(model_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "s1desk", "ask", "Explain hash tables in depth.",
         "--model", str(model_path), "--ctx", "2048", "--max-think", "2000", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stderr is not None
    lines = []
    with proc, proc.stdout, proc.stderr:
        for line in proc.stdout:
            lines.append(json.loads(line))
            if len(lines) == 5:
                proc.send_signal(signal.SIGINT)
                sent = time.perf_counter()
        proc.wait(timeout=30)
    assert proc.returncode == 130
    assert time.perf_counter() - sent < 5
    assert lines[-1] == {"type": "done", "reason": "cancelled"}
