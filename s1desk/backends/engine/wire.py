"""Length-prefixed pickle frames over a pipe between the app and its own engine process.

Both ends are s1desk itself (the engine is started by the app from its own
code), so pickle carries our frozen dataclasses as they are. Nothing from a
model, a server or a file is unpickled here: those reach the engine only as
fields of these values.
"""

from __future__ import annotations

import os
import pickle
import struct
from typing import Any

_HEADER = struct.Struct("!I")
#: A frame larger than this is a broken stream, not a message.
MAX_FRAME = 256 * 1024 * 1024


class WireClosedError(EOFError):
    """The other end closed the pipe (or died)."""


def write_frame(fd: int, value: Any) -> None:
    """Send one value; raises :class:`WireClosedError` when the reader is gone."""
    write_frames(fd, [value])


def write_frames(fd: int, values: list[Any]) -> None:
    """Send several values in one write; raises :class:`WireClosedError` when the reader
    is gone."""
    parts: list[bytes] = []
    for value in values:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        parts += [_HEADER.pack(len(data)), data]
    view = memoryview(b"".join(parts))
    try:
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except (BrokenPipeError, OSError) as exc:
        raise WireClosedError(str(exc)) from exc


def _read_exact(fd: int, n: int) -> bytes:
    chunks: list[bytes] = []
    while n:
        try:
            chunk = os.read(fd, min(n, 1 << 20))
        except OSError as exc:
            raise WireClosedError(str(exc)) from exc
        if not chunk:
            raise WireClosedError("end of stream")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class FrameReader:
    """Reads frames from a pipe, all that have arrived with each read: a reader that
    falls behind catches up in one wake-up instead of one per frame."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = bytearray()

    def read(self) -> list[Any]:
        """Every complete frame, waiting for one if none is; raises
        :class:`WireClosedError` at the end of the stream."""
        while not (frames := self._complete()):
            try:
                chunk = os.read(self._fd, 1 << 20)
            except OSError as exc:
                raise WireClosedError(str(exc)) from exc
            if not chunk:
                raise WireClosedError("end of stream")
            self._buffer += chunk
        return frames

    def read_available(self) -> list[Any]:
        """The frames completed by what has arrived, without waiting (the pipe is
        non-blocking); raises :class:`WireClosedError` at the end of the stream."""
        try:
            chunk = os.read(self._fd, 1 << 20)
        except BlockingIOError:
            return []
        except OSError as exc:
            raise WireClosedError(str(exc)) from exc
        if not chunk:
            raise WireClosedError("end of stream")
        self._buffer += chunk
        return self._complete()

    def _complete(self) -> list[Any]:
        buffer = self._buffer
        frames: list[Any] = []
        at = 0
        while len(buffer) - at >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer, at)
            if size > MAX_FRAME:
                raise WireClosedError(f"a frame of {size:,} bytes")
            end = at + _HEADER.size + size
            if len(buffer) < end:
                break
            frames.append(pickle.loads(buffer[at + _HEADER.size : end]))
            at = end
        del buffer[:at]
        return frames


def read_frame(fd: int) -> Any:
    """Receive one value; raises :class:`WireClosedError` at the end of the stream."""
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size))
    if size > MAX_FRAME:
        raise WireClosedError(f"a frame of {size:,} bytes")
    return pickle.loads(_read_exact(fd, size))
