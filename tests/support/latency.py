"""Measures how late a GUI thread's event loop runs a periodic timer (its stalls)."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer


def _run_queue_wait() -> float:
    """Seconds this thread has waited for a CPU while runnable (0 where unknown)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class LatencyProbe(QObject):
    """A precise timer every ``interval_ms``; each tick records how late it fired.

    A tick that comes ``d`` ms after the previous one shows the loop was busy
    for about ``d - interval_ms`` ms: that lateness is the event-loop latency.
    ``blocked`` keeps each lateness less the time the GUI thread sat ready
    in the kernel's run queue (Linux ``schedstat``): on a machine loaded by
    other processes that wait is theirs, not the app blocking its loop.
    """

    def __init__(self, interval_ms: int = 5) -> None:
        super().__init__()
        self.interval = interval_ms / 1000
        self.lateness: list[float] = []
        self.blocked: list[float] = []
        self._last = 0.0
        self._last_wait = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._last_wait = _run_queue_wait()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        waited = _run_queue_wait()
        late = max(0.0, now - self._last - self.interval)
        self.lateness.append(late)
        self.blocked.append(max(0.0, late - (waited - self._last_wait)))
        self._last = now
        self._last_wait = waited

    @property
    def longest_blocked_ms(self) -> float:
        return max(self.blocked, default=0.0) * 1000

    @property
    def longest_ms(self) -> float:
        return max(self.lateness, default=0.0) * 1000

    def percentile_ms(self, p: float) -> float:
        if not self.lateness:
            return 0.0
        ordered = sorted(self.lateness)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000
