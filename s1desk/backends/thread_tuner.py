"""Choose llama.cpp's decoding thread count while it decodes, from measured token times.

llama.cpp's worker threads spin at barriers, so one thread too many for the
cores that are free (another busy program) costs several times the speed,
while one too few on a quiet machine costs half. No fixed count suits both,
so the tuner measures: it decodes a few tokens with each candidate count,
keeps the faster, and looks again now and then or when the speed drops.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

#: Tokens measured per candidate when exploring.
PROBE_TOKENS = 8
#: Tokens of the smallest count in the very first look: enough to hold the larger
#: counts to a time (see :meth:`ThreadTuner.step_limit`), few on a quiet machine.
FIRST_LOOK_TOKENS = 2
#: Tokens decoded on the chosen count before exploring again: the first wait, doubled
#: after every probe that keeps the count (up to the last), so a machine that turns quiet
#: again is noticed soon and a steady one is probed rarely.
HOLD_TOKENS = 64
MAX_HOLD_TOKENS = 1024
#: A candidate must be this much faster to replace the current one.
MARGIN = 0.05
#: Explore at once when steps get this much slower than when the choice was made.
SLOWDOWN = 1.5
#: ... or when two steps in a row are this much slower: another program taking a core
#: makes the spinning threads several times slower at once, and each such step is costly.
SPIKE = 2.5
#: A candidate whose first steps are this much slower than the best known is dropped
#: from the probe at once: measuring a bad count fully would cost more than it tells.
ABANDON = 1.4
#: A choice whose rivals are all this much slower is clear: the next look waits longer.
CLEAR = 2.0
#: Steps measured before a candidate can be abandoned.
ABANDON_AFTER = 2
#: A step at more than the smallest count is stopped when it takes this many times the
#: fastest step known (beside a program that just started spinning, one 2-thread step
#: took 2.5 s here against 0.07 s on 1 thread), and never before MIN_LIMIT.
OVERRUN = 5.0
MIN_LIMIT = 0.1


def candidate_threads(cores: int) -> list[int]:
    """Counts worth trying, the largest first: all cores (or half on big machines) and one less."""
    top = cores if cores <= 4 else cores // 2
    return [top, top - 1] if top > 1 else [1]


@dataclass(slots=True)
class ThreadTuner:
    """Feed it the duration of each decoded token; it says when to change the thread count."""

    candidates: list[int]
    #: The most threads worth trying now (cores others leave free), or None when unknown:
    #: beside a busy program a probe of more threads costs a very slow step or two.
    ceiling: Callable[[], int | None] | None = None
    current: int = 0
    _probe: list[int] = field(default_factory=list)
    _times: dict[int, list[float]] = field(default_factory=dict)
    _held: int = 0
    _chosen_step: float = 0.0
    _recent: list[float] = field(default_factory=list)
    _first: int = 0
    _hold: int = HOLD_TOKENS
    _decided: bool = False
    #: The count the last look kept (None before the first ends).
    settled: int | None = None

    def __post_init__(self) -> None:
        if not self.candidates:
            raise ValueError("no thread counts to choose from")
        # The first look starts on the smallest count: it is never the catastrophic one,
        # and it gives the larger counts a time to be held to.
        self.current = min(self.candidates)
        self._start_probe()

    def _start_probe(self, known: list[float] | None = None) -> int | None:
        """Measure the candidates; return a count to switch to at once, if any.

        ``known`` are recent steps of the current count (a slowdown was just seen
        on them): it needs no new measuring, and the probe starts on the others.
        Otherwise the current count is measured first, so a probe starts without
        a switch.
        """
        top = self.ceiling() if self.ceiling is not None else None
        allowed = [c for c in self.candidates if top is None or c <= top]
        allowed = allowed or [min(self.candidates)]
        self._first = self.current
        others = [c for c in allowed if c != self.current]
        self._times = {c: [] for c in [self.current, *others]}
        if self.current not in allowed:
            # Others took the cores this count needs: measure only what fits.
            self._first = allowed[0]
            self._probe = list(allowed)
            return self._switch(allowed[0])
        if not others:
            # Nothing else fits beside the other programs: keep the count, take its
            # steps now as the measure of a slowdown, and look again later.
            self._probe = []
            self.settled = self.current
            self._chosen_step = statistics.median(known) if known else self._chosen_step
            self._held = 0
            self._recent = []
            self._hold = min(self._hold * 2, MAX_HOLD_TOKENS)
            return None
        if known:
            self._times[self.current] = list(known)
            self._probe = others
            return self._switch(others[0])
        self._probe = [self.current, *others]
        return None

    @property
    def exploring(self) -> bool:
        return bool(self._probe) and len(self.candidates) > 1

    def step(self, seconds: float) -> int | None:
        """Record one token's decode time; return a new thread count to use, or None."""
        if len(self.candidates) == 1:
            return None
        if self._probe:
            times = self._times[self.current]
            times.append(seconds)
            if self.current == self._first and self._spiked(times):
                # The machine changed while the choice was being checked: as when held.
                return self._start_probe(known=times[-2:])
            first_look = not self._decided and self.current == self._first
            need = FIRST_LOOK_TOKENS if first_look else PROBE_TOKENS
            if len(times) < need and not self._hopeless(times):
                return None
            self._probe.pop(0)
            if self._probe:
                return self._switch(self._probe[0])
            return self._decide()
        self._held += 1
        self._recent.append(seconds)
        if len(self._recent) > PROBE_TOKENS:
            self._recent.pop(0)
        if self._spiked(self._recent):
            # The steps before the last two are from before the change: these alone tell.
            return self._start_probe(known=self._recent[-2:])
        slowed = (
            len(self._recent) == PROBE_TOKENS
            and statistics.median(self._recent) > self._chosen_step * SLOWDOWN
        )
        if slowed:
            return self._start_probe(known=self._recent)
        if self._held >= self._hold:
            return self._start_probe()
        return None

    def step_limit(self) -> float | None:
        """How long a step at the current count may run before it is stopped (and redone on
        another count, see :meth:`overran`); None at the smallest count or with nothing known."""
        if self.current == min(self.candidates):
            return None
        known = [statistics.median(t) for c, t in self._times.items() if t and c != self.current]
        if self._chosen_step > 0:
            known.append(self._chosen_step)
        return max(OVERRUN * min(known), MIN_LIMIT) if known else None

    def overran(self, seconds: float) -> int | None:
        """A step at the current count was stopped after ``seconds`` (its limit): the count
        is measured as that slow and another is tried at once; returns it (or None)."""
        if len(self.candidates) == 1:
            return None
        if self._probe and self.current != self._first:
            # A candidate of a look: dropped, as a hopeless one is.
            self._times[self.current].append(seconds)
            self._probe.pop(0)
            if self._probe:
                return self._switch(self._probe[0])
            return self._decide()
        return self._start_probe(known=[seconds, seconds])

    def _spiked(self, times: list[float]) -> bool:
        """Whether the last two steps were both far slower than the chosen count's (one
        alone can be a hiccup)."""
        last = times[-2:]
        return len(last) == 2 and self._chosen_step > 0 and min(last) > self._chosen_step * SPIKE

    def _hopeless(self, times: list[float]) -> bool:
        """Whether the candidate being measured is already clearly slower than the best:
        twice as slow after one step, or 1.4 times after two."""
        done = [statistics.median(t) for c, t in self._times.items() if t and c != self.current]
        if not done:
            return False
        best = min(done)
        if len(times) == 1:
            return times[0] > best * 2
        return len(times) >= ABANDON_AFTER and statistics.median(times) > best * ABANDON

    def _decide(self) -> int | None:
        medians = {c: statistics.median(t) for c, t in self._times.items() if t}
        first = self._first
        best = min(medians, key=lambda c: medians[c])
        # Prefer the count measured first (no switch) unless another is clearly faster.
        keep = first if medians[best] > medians[first] * (1 - MARGIN) else best
        self._chosen_step = medians[keep]
        self._held = 0
        self._recent = []
        # Kept, or every rival at least twice as slow (a busy machine that stays busy):
        # look again later each time.
        clear = all(m >= medians[keep] * CLEAR for c, m in medians.items() if c != keep)
        # (The first look confirms nothing: it started on the smallest count by choice.)
        confident = (keep == first and self._decided) or clear
        self._decided = True
        self.settled = keep
        self._hold = min(self._hold * 2, MAX_HOLD_TOKENS) if confident else HOLD_TOKENS
        return self._switch(keep)

    def _switch(self, threads: int) -> int | None:
        if threads == self.current:
            return None
        self.current = threads
        return threads
