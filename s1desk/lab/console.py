"""Showing a run in a terminal: one JSON event per line, or a progress bar and a table."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from s1desk.lab.events import ItemFinished, LabEvent, Progress, RunFinished
from s1desk.lab.points import Point

_BAR = 24


def duration(seconds: float | None) -> str:
    """``1h05m``, ``3m20s``, ``42s``; ``?`` when unknown."""
    if seconds is None:
        return "?"
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def progress_line(progress: Progress) -> str:
    """``[#####-----] 12/40 · 0.50 gen/s · 1m20s left``."""
    share = progress.done / progress.total if progress.total else 1.0
    filled = round(share * _BAR)
    rate = progress.generations_per_s
    speed = f"{rate:.2f} gen/s" if rate >= 0.1 else f"{rate * 60:.1f} gen/min"
    return (
        f"[{'#' * filled}{'-' * (_BAR - filled)}] {progress.done}/{progress.total} · "
        f"{speed} · {duration(progress.seconds_left)} left"
    )


def points_table(points: Sequence[Point]) -> str:
    """The points as an aligned table, one line per budget and vote size."""
    lines = ["budget  samples  accuracy  95% interval     mean thinking     n"]
    for p in points:
        label = "first" if p.k == 1 else f"maj@{p.k}"
        lines.append(
            f"{p.budget:>6}  {label:>7}  {100 * p.accuracy:7.1f}%  "
            f"[{100 * p.ci_low:5.1f}, {100 * p.ci_high:5.1f}]  {p.mean_thinking_tokens:13.1f}  "
            f"{p.n:>4}"
        )
    return "\n".join(lines)


class JsonEvents:
    """``--json``: each event as one JSON object on its own line."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def show(self, event: LabEvent) -> None:
        self.out.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
        self.out.flush()


class ProgressBar:
    """Text mode: a bar redrawn in place on a terminal, or a line now and then in a log."""

    def __init__(
        self,
        err: TextIO,
        *,
        live: bool,
        every_s: float = 0.2,
        log_every_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.err = err
        self.live = live
        self._every = every_s if live else log_every_s
        self._clock = clock
        self._last = -float("inf")
        self._drawn = False

    def show(self, event: LabEvent) -> None:
        if isinstance(event, ItemFinished):
            return
        if isinstance(event, Progress):
            now = self._clock()
            if now - self._last < self._every and event.done < event.total:
                return
            self._last = now
            if self.live:
                self.err.write("\r\033[K" + progress_line(event))
                self._drawn = True
            else:
                self.err.write(progress_line(event) + "\n")
            self.err.flush()
        elif isinstance(event, RunFinished) and self._drawn:
            self.err.write("\n")
            self.err.flush()
            self._drawn = False
