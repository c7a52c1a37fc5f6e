"""Frames over a real pipe: several per read, split across reads, and a broken end."""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from s1desk.backends.engine.main import FLUSH_S, _Outbox
from s1desk.backends.engine.wire import (
    FrameReader,
    WireClosedError,
    read_frame,
    write_frame,
    write_frames,
)
from s1desk.events import Done, ThinkingText
from s1desk.thinking.machine import FinishReason


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


def test_several_values_in_one_write(pipe: tuple[int, int]) -> None:
    r, w = pipe
    write_frames(w, [ThinkingText("a"), ThinkingText("b"), Done(FinishReason.STOP)])
    assert FrameReader(r).read() == [ThinkingText("a"), ThinkingText("b"), Done(FinishReason.STOP)]


def test_the_outbox_holds_fast_events_until_an_end_and_keeps_their_order(
    pipe: tuple[int, int],
) -> None:
    r, w = pipe
    outbox = _Outbox(w)
    outbox.send(ThinkingText("first"), final=False)  # nothing written yet: goes at once
    reader = FrameReader(r)
    assert reader.read() == [ThinkingText("first")]
    os.set_blocking(r, False)
    outbox.send(ThinkingText("soon after"), final=False)
    assert reader.read_available() == []  # held: it came within FLUSH_S of the last write
    outbox.send(Done(FinishReason.STOP))
    assert reader.read_available() == [ThinkingText("soon after"), Done(FinishReason.STOP)]
    time.sleep(FLUSH_S * 1.5)
    outbox.send(ThinkingText("later"), final=False)
    assert reader.read_available() == [ThinkingText("later")]
