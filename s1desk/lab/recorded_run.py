"""A run recorded as it goes: its journal, the history database, and the result files at the end.

What ``s1desk eval`` does around :class:`~s1desk.lab.runner.EvalRun`, for a
caller that is not a terminal (the window): one backend, events out,
problems with the history or the files reported as warnings, never as the
run's end.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

from s1desk import paths
from s1desk.backends.base import Backend
from s1desk.backends.cancel import CancelToken
from s1desk.lab.errors import SourceError
from s1desk.lab.events import LabEvent, RunFinished
from s1desk.lab.items import ScoredItem
from s1desk.lab.journal import Journal
from s1desk.lab.plan import EvalPlan
from s1desk.lab.plot import write_plot
from s1desk.lab.questions import Question, kind_for
from s1desk.lab.results import write_results
from s1desk.lab.run_store import EvalRunStore
from s1desk.lab.runner import EvalRun
from s1desk.lab.sources import LoadedSource
from s1desk.store.errors import StoreError

log = logging.getLogger(__name__)

#: The source name of a run on one typed question.
TYPED = "typed question"
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def typed_question(text: str, expected: str) -> LoadedSource:
    """A set of one question the user typed, judged against ``expected``."""
    text, expected = text.strip(), expected.strip()
    if not text:
        raise SourceError("Write a question first.")
    if not expected:
        raise SourceError("Give the answer you expect: each budget's reply is judged against it.")
    question = Question("1", text, expected, kind_for(expected, ()))
    first_line = text.splitlines()[0].strip()
    title = first_line if len(first_line) <= 60 else first_line[:59] + "…"
    return LoadedSource(TYPED, title, (question,), 1)


def run_directory(label: str, root: Path | None = None) -> Path:
    """A new, unused directory for a run under ``root`` (default: the data directory's eval/)."""
    root = root if root is not None else paths.data_dir() / "eval"
    stem = time.strftime("%Y%m%d-%H%M%S") + "-" + (_NAME.sub("-", label).strip("-")[:40] or "run")
    candidate, n = root / stem, 2
    while candidate.exists():
        candidate, n = root / f"{stem}-{n}", n + 1
    return candidate


def run_spec(source: LoadedSource, plan: EvalPlan, model: str, remote: str = "") -> dict[str, Any]:
    """What the run is, as ``s1desk eval`` writes it in ``run.json``."""
    digest = hashlib.sha256()
    for q in source.questions:
        digest.update(json.dumps([q.id, q.question, q.answer, list(q.choices)]).encode())
    return {
        "source": source.name,
        "title": source.title,
        "questions": [q.id for q in source.questions],
        "questions_sha256": digest.hexdigest(),
        "limit": None if len(source.questions) == source.total else len(source.questions),
        "model": model,
        "remote": remote,
        "plan": plan.to_dict(),
    }


async def in_thread(work: Callable[[], None], name: str) -> None:
    """Run ``work`` on a thread of its own (a daemon, so a closing app never waits on it)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def run() -> None:
        error: BaseException | None = None
        try:
            work()
        except BaseException as exc:
            error = exc
        loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=run, name=name, daemon=True).start()
    await done


class RecordedRun:
    """One run of ``source`` under ``plan`` on ``backend``, kept in ``directory``.

    Every finished item goes to the journal (synced), then to ``store`` when
    one is given (the caller owns it). At the end the results and the plot
    are written (on a worker thread) and the run's end is recorded; the last
    event is the :class:`RunFinished` with ``out_dir`` set. ``run_id`` is the
    run's id in the store once it has started.
    """

    def __init__(
        self,
        source: LoadedSource,
        plan: EvalPlan,
        backend: Backend,
        directory: Path,
        *,
        store: EvalRunStore | None = None,
        warn: Callable[[str], None] = log.warning,
    ) -> None:
        self.source = source
        self.plan = plan
        self.backend = backend
        self.directory = directory
        self.store = store
        self.warn = warn
        self.run_id: int | None = None
        self.spec = run_spec(source, plan, backend.model or backend.name)

    async def events(self, cancel: CancelToken | None = None) -> AsyncGenerator[LabEvent, None]:
        cancel = cancel or CancelToken()
        journal = Journal.open(self.directory, self.spec, resume=False)
        try:
            self._start_history(journal)
            run = EvalRun(
                self.source.questions, self.plan, [self.backend], journal, sinks=[self._add]
            )
            finished: RunFinished | None = None
            async with contextlib.aclosing(run.events(cancel)) as events:
                async for event in events:
                    if isinstance(event, RunFinished):
                        finished = event
                    else:
                        yield event
            assert finished is not None
            await self._write(run.items(), finished)
            finished = RunFinished(
                finished.status,
                finished.done,
                finished.total,
                finished.points,
                finished.message,
                str(self.directory),
            )
            self._finish_history(finished)
            yield finished
        finally:
            journal.close()

    def _start_history(self, journal: Journal) -> None:
        if self.store is None:
            return
        try:
            self.run_id = self.store.start_run(
                journal.directory,
                self.spec,
                source=self.source.name,
                title=self.source.title,
                model=self.spec["model"],
                backend=self.backend.name,
            )
        except StoreError as exc:
            self.store = None
            self.warn(f"The run is not added to the history ({exc}).")

    def _add(self, item: ScoredItem) -> None:
        if self.store is None or self.run_id is None:
            return
        try:
            self.store.add_items(self.run_id, [item])
        except StoreError as exc:
            self.store = None
            self.warn(f"Results stop being added to the history ({exc}).")

    def _finish_history(self, finished: RunFinished) -> None:
        if self.store is None or self.run_id is None:
            return
        try:
            points = [p.to_dict() for p in finished.points]
            self.store.finish_run(self.run_id, finished.status, points, finished.message)
        except StoreError as exc:
            self.warn(f"The history misses the end of the run ({exc}).")

    async def _write(self, items: tuple[ScoredItem, ...], finished: RunFinished) -> None:
        summary = {**self.spec, "backend": self.backend.name, "status": finished.status}
        title = f"{self.source.title} · {self.plan.mode.value} · {self.spec['model']}"
        order = [q.id for q in self.source.questions]

        def write() -> None:
            write_results(self.directory, summary, finished.points, items, order)
            write_plot(self.directory, finished.points, title)

        try:
            await in_thread(write, "s1desk-lab-results")
        except OSError as exc:
            self.warn(
                f"Cannot write the results into {self.directory}: {exc.strerror or exc}. "
                "Every generation is kept in the history."
            )
