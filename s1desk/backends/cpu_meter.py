"""How many of this process's cores other programs kept busy, measured over a window."""

from __future__ import annotations

import os
import time

import psutil

#: A window shorter than this says too little to act on.
MIN_WINDOW_S = 1.0


def _cores() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


class CpuMeter:
    """Cores of this process's set that others used since :meth:`start` (busy time of those
    cores, less this process's own CPU time, over the wall time)."""

    def __init__(self) -> None:
        self._cores = _cores()
        self._process = psutil.Process()
        self._mark = self._read()

    def _read(self) -> tuple[float, float, float]:
        per_cpu = psutil.cpu_times(percpu=True)
        busy = 0.0
        for i in self._cores:
            if i < len(per_cpu):
                t = per_cpu[i]
                busy += sum(t) - t.idle - getattr(t, "iowait", 0.0)
        own = self._process.cpu_times()
        return time.monotonic(), busy, own.user + own.system

    def start(self) -> None:
        """Begin a window (a generation starts)."""
        self._mark = self._read()

    def others(self) -> float | None:
        """Cores others kept busy since the window began; None for a window too short."""
        now, busy, own = self._read()
        then, busy0, own0 = self._mark
        wall = now - then
        if wall < MIN_WINDOW_S:
            return None
        return max(0.0, ((busy - busy0) - (own - own0)) / wall)

    def free_cores(self) -> int | None:
        """Cores not kept busy by others (at least 1); None when the window is too short."""
        others = self.others()
        if others is None:
            return None
        return max(1, len(self._cores) - int(others + 0.5))
