"""Bad input on the command line gets one clear line and a normal exit status, never a traceback.

Each case runs the real ``s1desk`` process; none of them reaches the model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

EXIT_ERROR = 1
EXIT_USAGE = 2


def s1desk(
    *args: str | bytes, stdin: bytes = b"", prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*(prefix or []), sys.executable, "-m", "s1desk", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )
    out = subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
    )
    assert "Traceback" not in out.stderr, out.stderr
    return out


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return lines[-1]


def test_a_directory_given_as_the_model_says_what_it_is(tmp_path: Path) -> None:
    result = s1desk("ask", "hi", "--model", str(tmp_path))
    assert result.returncode == EXIT_ERROR
    assert _one_line(result.stderr) == (
        f"Error: {tmp_path} is a directory, not a GGUF model file. Give the .gguf file inside it."
    )


def test_a_fifo_given_as_the_model_is_named_and_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "model.gguf"
    os.mkfifo(fifo)
    result = s1desk("ask", "hi", "--model", str(fifo))  # opening it would block forever
    assert result.returncode == EXIT_ERROR
    assert "is a named pipe (FIFO), not a GGUF model file" in result.stderr


def test_a_fifo_given_to_models_fit_is_named(tmp_path: Path) -> None:
    fifo = tmp_path / "model.gguf"
    os.mkfifo(fifo)
    result = s1desk("models", "fit", str(fifo))
    assert result.returncode == EXIT_ERROR
    assert "is a named pipe (FIFO), not a GGUF model file" in result.stderr


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder every user may enter (pytest's own tmp folders are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="s1desk-perm-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def _without_read_override() -> list[str]:
    """Run as a user whom file permissions apply to: root keeps its uid but loses the
    capabilities that let it read any file (so the test means the same as root or not)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("the permission test needs setpriv (util-linux) when run as root")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


def test_a_model_without_read_permission_is_one_clear_line(
    shared_dir: Path, model_path: Path
) -> None:
    locked = shared_dir / "locked.gguf"
    with model_path.open("rb") as src:
        locked.write_bytes(src.read(1 << 16))
    locked.chmod(0o200)
    result = s1desk("ask", "hi", "--model", str(locked), prefix=_without_read_override())
    assert result.returncode == EXIT_ERROR
    assert _one_line(result.stderr) == (
        f"Error: Cannot read the model {locked}: permission denied (the file's mode is "
        "--w-------). Make it readable, e.g. chmod a+r."
    )
    listed = s1desk("models", "list", "--add", str(locked), prefix=_without_read_override())
    assert listed.returncode == EXIT_ERROR
    assert "permission denied" in listed.stderr


def test_invalid_utf8_on_stdin(model_path: Path) -> None:
    result = s1desk("ask", "-", "--model", str(model_path), stdin=b"What is 2+2?\n\xff\xfe")
    assert result.returncode == EXIT_ERROR
    assert _one_line(result.stderr) == (
        "Error: The question on standard input is not UTF-8 text (byte 0xff at position 13). "
        "Convert it first, e.g. with iconv."
    )


@pytest.mark.parametrize(
    "args",
    [
        ("ask", b"caf\xe9?", "--model", "x.gguf"),
        ("ask", "hi", "--system", b"\xc3\x28", "--model", "x.gguf"),
        ("ask", "hi", "--wait-text", b"W\xffait", "--model", "x.gguf"),
        ("models", "rm", b"\xff.gguf", "--yes"),
    ],
)
def test_invalid_utf8_in_argv_is_a_usage_error(args: tuple[str | bytes, ...]) -> None:
    result = s1desk(*args)
    assert result.returncode == EXIT_USAGE
    assert "not valid UTF-8 text" in _one_line(result.stderr)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--ctx", "4294967297"), "argument --ctx: '4294967297' is out of range: use 1 to"),
        (("--ctx", "-5"), "argument --ctx: '-5' is out of range"),
        (("--ctx", "1" * 5000), "argument --ctx: expected a whole number"),
        (("--max-think", str(10**30)), "argument --max-think: '1000000000000000000000000000000'"),
        (("--max-answer", "0"), "argument --max-answer: '0' is out of range"),
        (("--seed", "18446744073709551616"), "argument --seed: '18446744073709551616' is out"),
        (("--top-k", "99999999999"), "argument --top-k: '99999999999' is out of range"),
        (("--gpu-layers", "-2"), "argument --gpu-layers: '-2' is out of range"),
        (("--threads", "0"), "argument --threads: '0' is out of range"),
        (("--temperature", "nan"), "argument --temperature: expected a finite number"),
        (("--temperature", "-1"), "argument --temperature: '-1': use at least 0"),
        (("--top-p", "inf"), "argument --top-p: expected a finite number"),
        (("--read-timeout", "nan"), "argument --read-timeout: expected a finite number"),
        (("--read-timeout", "0"), "argument --read-timeout: '0': use more than 0"),
        (("--repeat-penalty", "1e999"), "argument --repeat-penalty: expected a finite number"),
    ],
)
def test_absurd_numbers_are_usage_errors(args: tuple[str, ...], said: str) -> None:
    result = s1desk("ask", "hi", "--model", "x.gguf", *args)
    assert result.returncode == EXIT_USAGE
    assert said in _one_line(result.stderr)


def test_absurd_context_for_models_fit_is_a_usage_error() -> None:
    result = s1desk("models", "fit", "--ctx", "4294967297")
    assert result.returncode == EXIT_USAGE
    assert "argument --ctx: '4294967297' is out of range" in result.stderr


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://[::1", "not a valid address 'http://[::1' (Invalid IPv6 URL)"),
        ("http://127.0.0.1:99999", "not a valid address 'http://127.0.0.1:99999' (Port out of"),
        ("ftp://127.0.0.1", "expected an address like http://host:8000, got 'ftp://127.0.0.1'"),
        ("127.0.0.1:8000", "expected an address like http://host:8000"),
    ],
)
def test_a_malformed_server_address_is_a_usage_error(url: str, said: str) -> None:
    result = s1desk("ask", "hi", "--remote", url)
    assert result.returncode == EXIT_USAGE
    assert said in _one_line(result.stderr)


def test_a_listed_model_that_became_a_fifo_is_reported_and_list_does_not_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("S1DESK_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    pipe = tmp_path / "mine.gguf"
    os.mkfifo(pipe)  # a file added earlier, replaced by a pipe since
    (home / "config").mkdir(parents=True)
    (home / "config" / "models.json").write_text(json.dumps({"files": [str(pipe)]}))
    listed = s1desk("models", "list")
    assert listed.returncode == 0
    assert "is a named pipe (FIFO), not a GGUF model file" in listed.stdout
