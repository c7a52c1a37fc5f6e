"""``s1desk ask`` runs the same engine process as the window: native crashes are messages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from support.gguf_edit import with_block_count

pytestmark = pytest.mark.model


def test_a_gguf_that_makes_llama_cpp_abort_is_one_clear_line(
    model_path: Path, tmp_path: Path
) -> None:
    bad = with_block_count(model_path, tmp_path, 0)
    result = subprocess.run(
        [sys.executable, "-m", "s1desk", "ask", "hi", "--model", str(bad), "--ctx", "512"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert bad.name in lines[0]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV])
def test_the_engine_dying_mid_thinking_ends_ask_with_a_message(model_path: Path, sig: int) -> None:
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "s1desk",
            "ask",
            "Explain in detail how a hash table handles collisions.",
            "--model",
            str(model_path),
            "--ctx",
            "1024",
            "--max-think",
            "2000",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        thinking = 0
        killed = False
        events = []
        for line in proc.stdout:
            event = json.loads(line)
            events.append(event)
            if event["type"] == "thinking":
                thinking += 1
                if thinking == 5 and not killed:
                    (engine,) = psutil.Process(proc.pid).children()
                    os.kill(engine.pid, sig)
                    killed = True
        code = proc.wait(timeout=60)
        stderr = proc.stderr.read()
    assert killed
    assert code == 1
    assert "Traceback" not in stderr
    last = events[-1]
    assert last["type"] == "error"
    assert signal.Signals(sig).name in last["message"]
    assert sum(e["type"] == "thinking" for e in events) >= 5, "what streamed is kept"
    deadline = time.monotonic() + 5
    while psutil.pid_exists(engine.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
