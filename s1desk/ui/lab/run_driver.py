"""Runs one lab run on the asyncio loop and announces its events as Qt signals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from s1desk.backends.base import Backend
from s1desk.backends.cancel import CancelToken
from s1desk.errors import S1DeskError
from s1desk.lab.events import ItemFinished, Progress, RunFinished
from s1desk.lab.plan import EvalPlan
from s1desk.lab.recorded_run import RecordedRun, in_thread, run_directory
from s1desk.lab.run_store import EvalRunStore
from s1desk.lab.sources import LoadedSource
from s1desk.ui.kit.tasks import Tasks

log = logging.getLogger(__name__)

#: Loads the questions (may read a file or fetch a set: it runs on a worker thread).
SourceLoader = Callable[[], LoadedSource]


class RunDriver(QObject):
    """One run at a time: ``started`` (source, total), then ``item_finished`` and ``progress``
    per generation, then ``finished`` (a :class:`RunFinished`, or ``None`` when the run could
    not start, with the reason in ``problem``). ``stop`` ends it after the generation in
    flight is cut; what was finished is kept."""

    started = Signal(object, int)  # LoadedSource, generations
    item_finished = Signal(object)  # ScoredItem
    progress = Signal(object)  # Progress
    finished = Signal(object)  # RunFinished | None
    run_recorded = Signal(int)  # the run's id in the history, once it exists
    problem = Signal(str)

    def __init__(self, runs_root: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs_root = runs_root
        self._tasks = Tasks()
        self._cancel: CancelToken | None = None

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def start(
        self,
        load: SourceLoader,
        plan: EvalPlan,
        backend: Backend,
        store: EvalRunStore | None,
    ) -> bool:
        """Start a run; False (and nothing done) while one is running."""
        if self._cancel is not None:
            return False
        self._cancel = CancelToken()
        self._tasks.spawn(self._run(load, plan, backend, store, self._cancel))
        return True

    def stop(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    async def shutdown(self) -> None:
        self.stop()
        await self._tasks.wait()

    async def _run(
        self,
        load: SourceLoader,
        plan: EvalPlan,
        backend: Backend,
        store: EvalRunStore | None,
        cancel: CancelToken,
    ) -> None:
        finished: RunFinished | None = None
        try:
            loaded: list[LoadedSource] = []
            await in_thread(lambda: loaded.append(load()), "s1desk-lab-source")
            source = loaded[0]
            if cancel.cancelled:
                return
            label = source.title if len(source.questions) > 1 else "question"
            run = RecordedRun(
                source,
                plan,
                backend,
                run_directory(label, self.runs_root),
                store=store,
                warn=self.problem.emit,
            )
            self.started.emit(source, len(source.questions) * len(plan.budgets) * plan.samples)
            recorded = False
            async for event in run.events(cancel):
                if run.run_id is not None and not recorded:
                    recorded = True
                    self.run_recorded.emit(run.run_id)
                if isinstance(event, ItemFinished):
                    self.item_finished.emit(event.item)
                elif isinstance(event, Progress):
                    self.progress.emit(event)
                else:
                    finished = event
        except S1DeskError as exc:
            self.problem.emit(str(exc))
        except Exception as exc:
            log.exception("the scaling run failed")
            self.problem.emit(f"The run failed: {type(exc).__name__}: {exc}")
        finally:
            self._cancel = None
            self.finished.emit(finished)
