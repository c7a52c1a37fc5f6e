"""A process killed mid-answer leaves a readable database with the partial answer."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from s1desk.store import HistoryStore, MessageStatus
from s1desk.thinking.machine import CloseReason

CHILD = Path(__file__).with_name("stream_child.py")


@pytest.mark.model
def test_sigkill_mid_answer_keeps_the_partial_answer_marked_interrupted(
    model_path: Path, db_path: Path
) -> None:
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(db_path), str(model_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stderr is not None
        line = child.stdout.readline()
        assert line.startswith("saved "), f"child said {line!r}: {child.stderr.read()}"
        message_id = int(line.split()[1])
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    assert child.returncode == -signal.SIGKILL

    with HistoryStore.open(db_path) as store:
        answer = store.message(message_id)
        assert answer.status is MessageStatus.INTERRUPTED
        assert answer.finish_reason is None
        assert answer.text  # what was generated before the kill is there
        assert answer.reasoning
        assert answer.thinking_end is not None
        assert answer.thinking_end.reason is CloseReason.CAP
        assert answer.thinking_end.at_token == 24
        assert answer.thinking_end.offset == len(answer.reasoning)
        assert answer.policy is not None
        assert answer.policy.max_answer == 600
        (question,) = [m for m in store.messages(answer.conversation_id) if m.role == "user"]
        assert question.text.startswith("Write a Python function")
        word = max(answer.text.split(), key=len).strip(".,:;`()*\"'")
        assert answer.id in [h.message_id for h in store.search(word)]
        assert store.conversation(answer.conversation_id).title.startswith("Write a Python")
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    assert list(db_path.with_name(db_path.name + ".writers").glob("*.lock")) == []
