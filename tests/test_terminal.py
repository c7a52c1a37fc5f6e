"""Text from a model or a server never drives the terminal: escape sequences arrive inert.

The end-to-end case runs the real ``s1desk ask`` in a real pseudo-terminal
against a loopback OpenAI-compatible server whose "model" streams a window
title change, a screen clear, an OSC 52 clipboard write, a one-byte C1 CSI,
a bidi override and a carriage return, some split across two chunks.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from s1desk.events import AnswerText, BudgetAdjusted, ErrorEvent, ThinkingText, WaitInjected
from s1desk.terminal import JsonRenderer, TextRenderer, safe_text
from support.servers import FaultServer, _chunk, _event

TITLE = "\x1b]0;pwned-title\x07"
CLEAR = "\x1b[2J\x1b[H"
CLIPBOARD = "\x1b]52;c;cHduZWQ=\x07"
C1_CSI = "\x9b31m"
BIDI = "\u202egnp.exe"
#: Our own colour codes: the only escape sequences the terminal may receive.
_OURS = re.compile(rb"\x1b\[(?:0|1|2|31|1;33)m")


def test_safe_text_makes_controls_visible_and_keeps_text() -> None:
    assert safe_text("a\tb\nc") == "a\tb\nc"
    assert safe_text("line\r\n") == "line\n"
    assert safe_text("ok\rspoof") == "okspoof"
    assert safe_text(TITLE) == "␛]0;pwned-title␇"
    assert safe_text(CLEAR) == "␛[2J␛[H"
    assert safe_text("\x00\x7f") == "␀␡"
    assert safe_text(C1_CSI) == "\ufffd31m"
    assert safe_text(BIDI) == "\ufffdgnp.exe"
    assert safe_text("naïve — 数学 ∑ 🙂 עברית") == "naïve — 数学 ∑ 🙂 עברית"


def test_every_text_event_is_neutralised() -> None:
    out, err = io.StringIO(), io.StringIO()
    renderer = TextRenderer(out, err, color=False)
    hostile = TITLE + CLIPBOARD + C1_CSI
    for event in (
        ThinkingText(hostile),
        WaitInjected(index=1, at=3, text=hostile),
        AnswerText(hostile),
        BudgetAdjusted(max_thinking=1, min_thinking=0, message=hostile),
        ErrorEvent(message=hostile, kind="x"),
    ):
        renderer.show(event)
    shown = out.getvalue() + err.getvalue()
    assert "\x1b" not in shown
    assert "\x07" not in shown
    assert "\x9b" not in shown
    assert shown.count("␛]0;pwned-title␇") == 5


def test_json_lines_carry_no_raw_terminal_controls_and_parse_back_the_same() -> None:
    out = io.StringIO()
    hostile = TITLE + C1_CSI + BIDI + "\u2028"
    JsonRenderer(out).show(AnswerText(hostile))
    line = out.getvalue()
    assert re.fullmatch(r"[\x20-\x7e\u00a0-\u2027\u202f-\u2065\u206a-\U0010ffff]*\n", line)
    assert json.loads(line) == {"type": "answer", "text": hostile}


class _HostileServer(FaultServer):
    """Streams escape sequences as the thinking, then as the answer."""

    PIECES = (
        "Let me think. " + TITLE,
        CLEAR + "half an escape: \x1b",  # the rest arrives in the next chunk
        "]0;split-title\x07 and " + CLIPBOARD + C1_CSI + BIDI + "\roverwritten",
    )

    async def _completion(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        for piece in self.PIECES:
            await _chunk(writer, _event(piece))
        await _chunk(writer, _event("", finish="stop"))
        await _chunk(writer, b"data: [DONE]\n\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


@pytest.fixture
def hostile_server() -> Iterator[str]:
    """The server on its own event loop in a thread, for a child process to reach."""
    loop = asyncio.new_event_loop()
    server = _HostileServer()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.close()

    thread = threading.Thread(target=run, name="s1desk-hostile-server", daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield server.base_url
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def _run_in_pty(args: list[str], timeout: float = 60) -> tuple[int, bytes]:
    """Run ``args`` with a pseudo-terminal as stdin, stdout and stderr; all it wrote."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        args, stdin=follower, stdout=follower, stderr=follower, start_new_session=True
    )
    os.close(follower)
    received = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                received += data
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    return code, bytes(received)


def test_a_real_terminal_receives_no_escape_sequence_from_the_server(hostile_server: str) -> None:
    code, received = _run_in_pty(
        [sys.executable, "-m", "s1desk", "ask", "Hi", "--remote", hostile_server,
         "--model", "s1-test", "--max-think", "200", "--max-answer", "200"]
    )  # fmt: skip
    text = received.decode("utf-8", "replace")
    assert code == 0, text
    assert "Traceback" not in text
    assert b"Thinking" in received, text
    assert b"pwned-title" in received, text  # the text did arrive, made inert
    assert _OURS.search(received), "colours are on in a terminal"
    foreign = _OURS.sub(b"", received)
    assert b"\x1b" not in foreign, text  # no title, clear, cursor or clipboard sequence
    assert b"\x07" not in foreign
    assert "\x9b".encode() not in foreign  # the one-byte CSI, as UTF-8
    assert "\u202e".encode() not in foreign
    # The pty turns "\n" into "\r\n"; any other carriage return came from the server.
    assert b"\r" not in foreign.replace(b"\r\n", b"")
    assert "␛]0;pwned-title␇".encode() in received
    assert "␛]0;split-title␇".encode() in received  # caught across two chunks
    assert "␛]52;c;cHduZWQ=␇".encode() in received
