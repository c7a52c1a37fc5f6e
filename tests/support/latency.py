"""Measures how late a GUI thread's event loop runs a periodic timer (its stalls)."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer


class LatencyProbe(QObject):
    """A precise timer every ``interval_ms``; each tick records how late it fired.

    A tick that comes ``d`` ms after the previous one shows the loop was busy
    for about ``d - interval_ms`` ms: that lateness is the event-loop latency.
    """

    def __init__(self, interval_ms: int = 5) -> None:
        super().__init__()
        self.interval = interval_ms / 1000
        self.lateness: list[float] = []
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lateness.append(max(0.0, now - self._last - self.interval))
        self._last = now

    @property
    def longest_ms(self) -> float:
        return max(self.lateness, default=0.0) * 1000

    def percentile_ms(self, p: float) -> float:
        if not self.lateness:
            return 0.0
        ordered = sorted(self.lateness)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000
