"""The evaluation loop: every question at every budget and sample, P at a time, resumable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from s1desk.backends.base import Backend
from s1desk.backends.cancel import CancelToken
from s1desk.errors import S1DeskError
from s1desk.lab.batching import SampleStreamer
from s1desk.lab.events import ItemFinished, LabEvent, Progress, RunFinished
from s1desk.lab.generate import Generation, generate, generate_samples, with_sampler
from s1desk.lab.items import ItemKey, ScoredItem
from s1desk.lab.journal import Journal
from s1desk.lab.judge import judge
from s1desk.lab.plan import EvalPlan
from s1desk.lab.points import compute_points
from s1desk.lab.questions import Question

log = logging.getLogger(__name__)

ItemSink = Callable[[ScoredItem], None]


@dataclass(frozen=True, slots=True)
class Unit:
    """Generations run together: one question at one budget, one or more samples."""

    question: Question
    budget: int
    samples: tuple[int, ...]


class EvalRun:
    """Runs what a journal still lacks, with up to ``parallel`` units in flight.

    Unit ``i`` in flight uses ``backends[i % len(backends)]``: a backend that
    serves one request at a time (the local engine) gives no concurrency, so a
    remote run passes one backend per connection. When every backend offers
    :class:`SampleStreamer` and a run draws several samples, the samples of a
    question run as one unit (decoded together); otherwise each sample is a
    ``stream`` call of its own.
    """

    def __init__(
        self,
        questions: Sequence[Question],
        plan: EvalPlan,
        backends: Sequence[Backend],
        journal: Journal,
        *,
        parallel: int = 1,
        sinks: Sequence[ItemSink] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not backends:
            raise ValueError("no backend")
        self.questions = list(questions)
        self.plan = plan
        self.backends = list(backends)
        self.journal = journal
        self.parallel = max(1, parallel)
        self.sinks = list(sinks)
        self._clock = clock
        self._failure: str | None = None
        self._finished_now = 0
        self.done = self._count_done()

    @property
    def batched(self) -> bool:
        return self.plan.samples > 1 and all(isinstance(b, SampleStreamer) for b in self.backends)

    @property
    def total(self) -> int:
        return len(self.questions) * len(self.plan.budgets) * self.plan.samples

    def _wanted(self) -> list[ItemKey]:
        return [
            ItemKey(q.id, b, s)
            for b in self.plan.budgets
            for q in self.questions
            for s in range(self.plan.samples)
        ]

    def _count_done(self) -> int:
        return sum(1 for key in self._wanted() if key in self.journal.items)

    def units(self) -> list[Unit]:
        """What is left, budget by budget (so each budget's point completes in turn)."""
        units: list[Unit] = []
        for budget in self.plan.budgets:
            for q in self.questions:
                missing = tuple(
                    s
                    for s in range(self.plan.samples)
                    if ItemKey(q.id, budget, s) not in self.journal.items
                )
                if not missing:
                    continue
                if self.batched:
                    units.append(Unit(q, budget, missing))
                else:
                    units.extend(Unit(q, budget, (s,)) for s in missing)
        return units

    def items(self) -> tuple[ScoredItem, ...]:
        """The run's finished items (a journal may hold others, from a larger run)."""
        wanted = set(self._wanted())
        return tuple(item for key, item in self.journal.items.items() if key in wanted)

    async def events(self, cancel: CancelToken | None = None) -> AsyncGenerator[LabEvent, None]:
        """Run what is left, yielding each finished item and the progress; then ``RunFinished``."""
        cancel = cancel or CancelToken()
        queue: asyncio.Queue[Unit] = asyncio.Queue()
        for unit in self.units():
            queue.put_nowait(unit)
        out: asyncio.Queue[LabEvent | None] = asyncio.Queue()
        started = self._clock()
        count = min(self.parallel, queue.qsize())
        workers = [
            asyncio.create_task(self._worker(i, queue, out, cancel, started)) for i in range(count)
        ]
        running = count
        try:
            while running:
                event = await out.get()
                if event is None:
                    running -= 1
                else:
                    yield event
        finally:
            if any(not w.done() for w in workers):
                cancel.cancel()
                for w in workers:
                    w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        yield self._finished(cancel)

    def _finished(self, cancel: CancelToken) -> RunFinished:
        done = self.done
        points = tuple(compute_points(self.items(), self.plan.samples))
        if self._failure is not None:
            return RunFinished("failed", done, self.total, points, self._failure)
        if done < self.total and cancel.cancelled:
            return RunFinished("interrupted", done, self.total, points, "stopped")
        if done < self.total:
            return RunFinished("failed", done, self.total, points, "generations are missing")
        return RunFinished("finished", done, self.total, points)

    def _fail(self, message: str) -> None:
        if self._failure is None:
            self._failure = message

    async def _worker(
        self,
        index: int,
        queue: asyncio.Queue[Unit],
        out: asyncio.Queue[LabEvent | None],
        cancel: CancelToken,
        started: float,
    ) -> None:
        backend = self.backends[index % len(self.backends)]
        try:
            while self._failure is None and not cancel.cancelled and not queue.empty():
                unit = queue.get_nowait()
                async for sample, generation in self._run(backend, unit, cancel):
                    if generation.error is not None:
                        self._fail(generation.error)
                        continue
                    if generation.cancelled:
                        continue
                    item = self._score(unit, sample, generation)
                    self.journal.commit(item)
                    for sink in self.sinks:
                        sink(item)
                    self._finished_now += 1
                    self.done += 1
                    out.put_nowait(ItemFinished(item))
                    out.put_nowait(self._progress(started))
        except S1DeskError as exc:
            self._fail(str(exc))
        except Exception as exc:
            log.exception("evaluation worker failed")
            self._fail(f"{type(exc).__name__}: {exc}")
        finally:
            out.put_nowait(None)

    async def _run(
        self, backend: Backend, unit: Unit, cancel: CancelToken
    ) -> AsyncIterator[tuple[int, Generation]]:
        request = self.plan.request(unit.question, unit.budget, unit.samples[0])
        if len(unit.samples) > 1 and isinstance(backend, SampleStreamer):
            samplers = [self.plan.sampler(s) for s in unit.samples]
            results = generate_samples(backend, request, samplers, cancel)
            async with contextlib.aclosing(results) as each:
                async for position, generation in each:
                    yield unit.samples[position], generation
            return
        for sample in unit.samples:
            sampled = with_sampler(request, self.plan.sampler(sample))
            yield sample, await generate(backend, sampled, cancel)

    def _score(self, unit: Unit, sample: int, generation: Generation) -> ScoredItem:
        verdict = judge(unit.question, generation.answer)
        return ScoredItem(
            question_id=unit.question.id,
            budget=unit.budget,
            sample=sample,
            thinking_tokens=generation.thinking_tokens,
            answer_tokens=generation.answer_tokens,
            waits=generation.waits,
            thinking_end=generation.thinking_end,
            finish="" if generation.finish is None else generation.finish.value,
            extracted=verdict.extracted,
            correct=verdict.correct,
            why=verdict.why,
            vote=verdict.vote,
            seconds=round(generation.seconds, 3),
            reasoning=generation.reasoning,
            answer=generation.answer,
        )

    def _progress(self, started: float) -> Progress:
        done = self.done
        elapsed = self._clock() - started
        rate = self._finished_now / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / rate if rate > 0 else None
        return Progress(done, self.total, rate, left)
