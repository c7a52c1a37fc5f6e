"""Frames over a real pipe: several per read, split across reads, and a broken end."""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import threading
from collections.abc import Iterator

import pytest

from s1desk.backends.engine.wire import FrameReader, WireClosedError, read_frame, write_frame
from s1desk.events import ThinkingText


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        with contextlib.suppress(OSError):
            os.close(fd)


def test_frames_that_arrived_together_come_in_one_read(pipe: tuple[int, int]) -> None:
    r, w = pipe
    for i in range(5):
        write_frame(w, ThinkingText(f"piece {i}"))
    frames = FrameReader(r).read()
    assert frames == [ThinkingText(f"piece {i}") for i in range(5)]


def test_a_frame_split_across_writes_waits_for_its_rest(pipe: tuple[int, int]) -> None:
    r, w = pipe
    write_frame(w, "first")
    data = pickle.dumps("second")
    whole = struct.pack("!I", len(data)) + data
    os.write(w, whole[:3])  # not even the whole header
    reader = FrameReader(r)
    assert reader.read() == ["first"]
    late = threading.Timer(0.05, lambda: os.write(w, whole[3:]))
    late.start()
    assert reader.read() == ["second"]
    late.join()


def test_the_end_of_the_stream_comes_after_the_frames_before_it(pipe: tuple[int, int]) -> None:
    r, w = pipe
    write_frame(w, 1)
    write_frame(w, 2)
    os.write(w, struct.pack("!I", 100) + b"cut short")
    os.close(w)
    reader = FrameReader(r)
    assert reader.read() == [1, 2]
    with pytest.raises(WireClosedError):
        reader.read()


def test_an_absurd_frame_size_is_a_broken_stream(pipe: tuple[int, int]) -> None:
    r, w = pipe
    os.write(w, struct.pack("!I", 2**31))
    with pytest.raises(WireClosedError, match="frame of"):
        FrameReader(r).read()


def test_single_frames_still_read_one_at_a_time(pipe: tuple[int, int]) -> None:
    r, w = pipe
    write_frame(w, {"a": 1})
    assert read_frame(r) == {"a": 1}
