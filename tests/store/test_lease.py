"""Writer leases tell a live writing process from a dead one."""

from __future__ import annotations

import logging
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from s1desk.chat.recording import start_recording
from s1desk.events import ThinkingText
from s1desk.store import HistoryStore, MessageStatus
from s1desk.store import lease as lease_module
from s1desk.store.lease import WriterLease, is_alive, sweep


def test_a_held_lease_is_alive_and_a_released_one_is_not(tmp_path: Path) -> None:
    lease = WriterLease(tmp_path)
    assert is_alive(tmp_path, lease.id)
    sweep(tmp_path)  # a live lease survives the sweep
    assert is_alive(tmp_path, lease.id)
    lease.release()
    assert not is_alive(tmp_path, lease.id)
    assert list(tmp_path.iterdir()) == []


def test_a_lease_dies_with_its_process(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from s1desk.store.lease import WriterLease; "
        "lease = WriterLease(Path(sys.argv[1])); print(lease.id, flush=True); sys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdin is not None
    writer = child.stdout.readline().strip()
    assert is_alive(tmp_path, writer)
    child.kill()
    child.wait()
    child.stdout.close()
    child.stdin.close()
    assert not is_alive(tmp_path, writer)
    sweep(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_live_writers_message_is_left_streaming(db_path: Path) -> None:
    with HistoryStore.open(db_path) as writer:
        conversation = writer.create_conversation()
        recorder = start_recording(writer, conversation.id, flush_events=1)
        recorder.feed(ThinkingText("still thinking"))
        with HistoryStore.open(db_path) as other:  # e.g. a second window
            assert other.recover_interrupted() == 0
            assert other.message(recorder.message_id).status is MessageStatus.STREAMING
        # The writing store closes without finishing the message (its process ends).
    with HistoryStore.open(db_path) as later:
        message = later.message(recorder.message_id)
        assert message.status is MessageStatus.INTERRUPTED
        assert message.reasoning == "still thinking"


def test_leases_are_private_files_side_by_side_in_a_new_directory(tmp_path: Path) -> None:
    directory = tmp_path / "not" / "there"
    first, second = WriterLease(directory), WriterLease(directory)
    assert first.id != second.id
    assert is_alive(directory, first.id)
    assert is_alive(directory, second.id)
    for lease in (first, second):
        mode = stat.S_IMODE((directory / f"{lease.id}.lock").stat().st_mode)
        assert (mode & ~0o600) == 0  # the owner's alone (the umask may take more away)
    first.release()
    first.release()  # a second release does nothing
    assert not is_alive(directory, first.id)
    assert is_alive(directory, second.id)
    second.release()


def test_the_sweep_removes_only_dead_leases(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    live = WriterLease(tmp_path)
    (tmp_path / "dead.lock").touch()  # a lock file nobody holds: its writer is gone
    (tmp_path / "notes.txt").touch()  # not a lease at all
    with caplog.at_level(logging.DEBUG, logger="s1desk.store.lease"):
        sweep(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{live.id}.lock", "notes.txt"]
    assert caplog.messages == ["removed stale writer lease dead.lock"]
    assert not is_alive(tmp_path, "dead")
    live.release()


def test_sweeping_a_missing_directory_creates_nothing(tmp_path: Path) -> None:
    sweep(tmp_path / "never-made")
    assert not (tmp_path / "never-made").exists()
    assert not is_alive(tmp_path / "never-made", "whoever")


def test_a_lease_swept_away_before_it_was_locked_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's sweep can remove the new file between its creation and its lock.

    The race cannot be timed from a test, so the sweep is run at that moment: the
    first lock is taken on a file that is no longer there, and a new lease is made.
    """
    real_try_lock = lease_module._try_lock
    swept: list[int] = []

    def sweep_first(fd: int) -> bool:
        if not swept:
            swept.append(fd)
            sweep(tmp_path)  # nobody holds the new file's lock yet: it is removed
        return real_try_lock(fd)

    monkeypatch.setattr(lease_module, "_try_lock", sweep_first)
    lease = WriterLease(tmp_path)
    assert swept
    assert [p.name for p in tmp_path.iterdir()] == [f"{lease.id}.lock"]
    assert is_alive(tmp_path, lease.id)
    lease.release()


def test_releasing_a_lease_whose_file_is_gone_is_quiet(tmp_path: Path) -> None:
    lease = WriterLease(tmp_path)
    (tmp_path / f"{lease.id}.lock").unlink()  # removed by hand, say
    lease.release()
    assert list(tmp_path.iterdir()) == []


def test_the_sweep_goes_on_past_leases_that_vanish_under_it(tmp_path: Path) -> None:
    # A writer that releases its lease during a sweep leaves a name the sweep cannot
    # open; dangling links are such names for good. Stale leases on either side of
    # them are still removed, in whatever order the directory lists them.
    for n in range(10):
        (tmp_path / f"gone{n}.lock").symlink_to(tmp_path / "nowhere")
        (tmp_path / f"stale{n}.lock").touch()
    sweep(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"gone{n}.lock" for n in range(10)]
