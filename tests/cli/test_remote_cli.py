"""``s1desk ask --remote URL --model NAME``, run as a real process against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from support.servers import MODEL_ALIAS, LlamaCppServer, free_port


def s1desk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "s1desk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.model
def test_ask_remote_streams_json_events(llama_server: LlamaCppServer) -> None:
    result = s1desk(
        "ask",
        "What is 2+2? Reply with just the number.",
        "--remote",
        llama_server.base_url,
        "--model",
        MODEL_ALIAS,
        "--max-think",
        "12",
        "--max-answer",
        "8",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    events: list[dict[str, Any]] = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "done"
    end = next(e for e in events if e["type"] == "thinking_end")
    assert end["thinking_tokens"] <= 12
    stats = next(e for e in events if e["type"] == "stats")
    assert stats["thinking_tokens"] == end["thinking_tokens"]


def test_ask_remote_unreachable_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = s1desk("ask", "hi", "--remote", url, "--model", "s1")
    assert result.returncode == 1
    assert f"Cannot connect to {url}" in result.stderr


def test_ask_remote_with_an_unset_key_variable_is_a_usage_error() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_SUCH_KEY_VAR"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "s1desk",
            "ask",
            "hi",
            "--remote",
            "http://127.0.0.1:1",
            "--api-key-env",
            "NO_SUCH_KEY_VAR",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "NO_SUCH_KEY_VAR is not set" in result.stderr


def test_ask_remote_does_not_take_a_gguf_path_from_the_environment(
    llama_server: LlamaCppServer,
) -> None:
    result = s1desk(
        "ask",
        "Hi",
        "--remote",
        llama_server.base_url,
        "--max-think",
        "0",
        "--max-answer",
        "2",
        "--json",
        env={"S1DESK_MODEL": "/models/some.gguf"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {"type": "done", "reason": "length"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--read-timeout", "nan"], "argument --read-timeout: expected a finite number"),
        (["--read-timeout", "inf"], "argument --read-timeout: expected a finite number"),
        (["--temperature", "nan"], "argument --temperature: expected a finite number"),
        (["--top-p", "inf"], "argument --top-p: expected a finite number"),
        (["--seed", str(10**20)], "argument --seed:"),
        (["--ctx", "4294967297"], "argument --ctx:"),
    ],
)
def test_ask_remote_refuses_unusable_numbers_clearly(args: list[str], message: str) -> None:
    """Caught where the arguments are read: a usage error naming the option (exit 2)."""
    url = f"http://127.0.0.1:{free_port()}"
    result = s1desk("ask", "hi", "--remote", url, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "message", "code"),
    [
        ("http://[::1", "argument --remote:", 2),
        ("http://bob:pw-0123@127.0.0.1:9", "holds a user name or password", 1),
    ],
)
def test_ask_remote_refuses_a_bad_address_without_echoing_secrets(
    url: str, message: str, code: int
) -> None:
    result = s1desk("ask", "hi", "--remote", url)
    assert result.returncode == code
    assert message in result.stderr
    assert "pw-0123" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
