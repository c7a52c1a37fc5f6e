"""Stop one llama.cpp decoding step from outside when it runs far past its time.

Beside a program that just started spinning on a core, one step with a thread
too many took 2.5 s here instead of 0.04 s: llama.cpp's threads meet at a
barrier after every operation, and one of them keeps losing its core. Waiting
for the step to end before changing the thread count costs seconds; the guard
stops it at a deadline instead, so it can be redone with fewer threads.

llama.cpp asks its abort callback after every operation of the graph (about a
thousand a token). A Python callback costs 2 % of the decoding speed there, so
the callback is a C function that reads one byte: libc's ``strlen`` on a
two-byte buffer answers 0 or 1. A watchdog thread sets the byte when the
step's deadline passes: it wakes at deadlines (a few times a second while
decoding) and sleeps while no step has one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import math
import os
import threading
import time
from typing import Any

import llama_cpp

#: How often the watchdog looks between steps (it sleeps until a step's deadline).
TICK_S = 0.02
#: The watchdog sleeps after this long without a deadline (until the next one).
IDLE_S = 1.0

_NO_CALLBACK: Any = llama_cpp.ggml_abort_callback()  # NULL


def _flag_reader() -> Any | None:
    """A C function ``bool f(void *)`` true when the byte at its argument is not zero."""
    try:
        if os.name == "nt":
            libc: Any = ctypes.cdll.msvcrt
        else:
            name = ctypes.util.find_library("c")
            libc = ctypes.CDLL(name) if name else ctypes.CDLL(None)
        return ctypes.cast(libc.strlen, llama_cpp.ggml_abort_callback)
    except (OSError, AttributeError):  # pragma: no cover - every libc has strlen
        return None


class StepGuard:
    """Give a step a deadline with :meth:`expect`, call :meth:`done` after it; a step still
    running at its deadline is aborted (``llama_decode`` returns 2 and removes its position
    from the cache)."""

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        self._flag = ctypes.create_string_buffer(2)
        self._reader = _flag_reader()
        #: (deadline, serial) of the step running now; the serial keeps the watchdog from
        #: stopping a later step for an earlier one's deadline.
        self._armed: tuple[float, int] = (math.inf, 0)
        self._serial = 0
        self._pending = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._sleeping = True
        self._closed = False
        self._thread: threading.Thread | None = None
        if self._reader is not None:
            self._thread = threading.Thread(
                target=self._watch, name="s1desk-step-guard", daemon=True
            )
            self._thread.start()

    @property
    def available(self) -> bool:
        return self._reader is not None

    def install(self) -> None:
        """Make the guard the context's abort callback (again, after another was set)."""
        if self._reader is None:
            llama_cpp.llama_set_abort_callback(self._ctx, _NO_CALLBACK, None)
        else:
            llama_cpp.llama_set_abort_callback(
                self._ctx, self._reader, ctypes.cast(self._flag, ctypes.c_void_p)
            )

    def expect(self, limit: float | None) -> None:
        """A step starts; stop it if it runs ``limit`` seconds (None: let it run)."""
        if limit is None or self._reader is None or self._closed:
            return
        self._serial += 1
        self._pending = True
        self._armed = (time.perf_counter() + limit, self._serial)
        if self._sleeping:
            self._wake.set()

    def done(self) -> bool:
        """The step ended; whether the guard set the abort flag during it."""
        if not self._pending:
            return False
        self._pending = False
        with self._lock:
            self._armed = (math.inf, self._serial)
            stopped = self._flag.raw[0] != 0
            self._flag[0] = b"\x00"
        return stopped

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with contextlib.suppress(Exception):
            llama_cpp.llama_set_abort_callback(self._ctx, _NO_CALLBACK, None)

    # -- the watchdog -------------------------------------------------------

    def _watch(self) -> None:
        idle_since = -math.inf  # asleep until the first deadline
        while not self._closed:
            deadline, serial = self._armed
            now = time.perf_counter()
            if deadline != math.inf:
                idle_since = now
                if now >= deadline:
                    self._trip(serial)
                    time.sleep(TICK_S)
                else:
                    # Until this deadline: a later step's is later still.
                    time.sleep(min(deadline - now, IDLE_S))
            elif now - idle_since > IDLE_S:
                self._wake.clear()
                self._sleeping = True
                if self._armed[0] == math.inf and not self._closed:
                    self._wake.wait()
                self._sleeping = False
                idle_since = time.perf_counter()
            else:
                time.sleep(TICK_S)

    def _trip(self, serial: int) -> None:
        with self._lock:
            deadline, current = self._armed
            if current == serial and deadline != math.inf:
                self._flag[0] = b"\x01"
