"""Running ``s1desk eval``: the backends, the sweep, its progress, results and history copy."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from s1desk import paths
from s1desk.backends.base import Backend
from s1desk.backends.cancel import CancelToken
from s1desk.backends.local import LocalBackend
from s1desk.cli_eval import DEFAULT_REMOTE_PARALLEL
from s1desk.errors import S1DeskError
from s1desk.lab.console import JsonEvents, ProgressBar, points_table
from s1desk.lab.errors import LabError
from s1desk.lab.events import RunFinished
from s1desk.lab.items import ScoredItem
from s1desk.lab.journal import RUN_FILE, Journal
from s1desk.lab.plan import EvalPlan, Mode
from s1desk.lab.plot import write_plot
from s1desk.lab.results import write_results
from s1desk.lab.run_store import EvalRunStore
from s1desk.lab.runner import EvalRun
from s1desk.lab.sources import LoadedSource, load_source
from s1desk.store.errors import StoreError

log = logging.getLogger(__name__)

OpenBackend = Callable[[argparse.Namespace], Awaitable[Backend]]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CANCELLED = 130


def _runs_dir() -> Path:
    return paths.data_dir() / "eval"


def _out_dir(args: argparse.Namespace, source: LoadedSource) -> Path:
    if args.out is not None:
        out: Path = args.out.expanduser()
        return out
    if args.resume:
        runs = sorted(_runs_dir().glob(f"*/{RUN_FILE}"), key=lambda p: p.stat().st_mtime)
        if not runs:
            raise S1DeskError(f"There is no run to resume in {_runs_dir()}; pass --out DIR.")
        return runs[-1].parent
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = Path(source.name).stem if "/" in source.name else source.name
    return _runs_dir() / f"{stamp}-{name}"


def _spec(args: argparse.Namespace, source: LoadedSource, plan: EvalPlan) -> dict[str, Any]:
    digest = hashlib.sha256()
    for q in source.questions:
        digest.update(json.dumps([q.id, q.question, q.answer, list(q.choices)]).encode())
    model = args.model or ""
    if not args.remote and model:
        model = str(Path(model).expanduser().resolve())
    return {
        "source": source.name,
        "title": source.title,
        "questions": [q.id for q in source.questions],
        "questions_sha256": digest.hexdigest(),
        "limit": args.limit,
        "model": model,
        "remote": args.remote or "",
        "plan": plan.to_dict(),
    }


class _Output:
    def __init__(self, args: argparse.Namespace) -> None:
        self.json = args.json
        self.events = JsonEvents(sys.stdout) if args.json else None
        self.bar = None if args.json else ProgressBar(sys.stderr, live=sys.stderr.isatty())

    def error(self, message: str) -> None:
        if self.events is not None:
            sys.stdout.write(json.dumps({"type": "error", "message": message}) + "\n")
            sys.stdout.flush()
        else:
            sys.stderr.write(f"Error: {message}\n")

    def note(self, message: str) -> None:
        if self.events is None:
            sys.stderr.write(message + "\n")


async def _open_pool(
    args: argparse.Namespace, open_backend: OpenBackend, out: _Output
) -> list[Backend]:
    if args.remote:
        count = args.parallel or DEFAULT_REMOTE_PARALLEL
        # One connection per request in flight: a connection serves one stream at a time.
        backends: list[Backend] = []
        try:
            for _ in range(count):
                backends.append(await open_backend(args))
        except BaseException:
            for b in backends:
                await b.aclose()
            raise
        return backends
    backend = await open_backend(args)
    if isinstance(backend, LocalBackend):
        # The engine decodes the samples of a question together, sharing the prompt.
        backend.together = min(args.parallel or 0, args.samples)
    return [backend]


class _History:
    """The run in the app's history database; its failures are warnings, never the run's end.

    The run directory's journal is what a resume reads; the history is a copy
    the window lists, brought up to date from the journal on every start.
    """

    def __init__(self, store: EvalRunStore, run_id: int, out: _Output) -> None:
        self.store = store
        self.run_id = run_id
        self.out = out
        self.failed = False

    @classmethod
    def start(
        cls,
        journal: Journal,
        spec: dict[str, Any],
        source: LoadedSource,
        backend_name: str,
        out: _Output,
    ) -> _History | None:
        try:
            store = EvalRunStore.open()
        except StoreError as exc:
            out.note(f"Warning: the run is not added to the history ({exc}).")
            return None
        try:
            run_id = store.start_run(
                journal.directory,
                spec,
                source=source.name,
                title=source.title,
                model=spec["model"],
                backend=backend_name,
            )
            store.add_items(run_id, journal.items.values())
        except StoreError as exc:
            store.close()
            out.note(f"Warning: the run is not added to the history ({exc}).")
            return None
        return cls(store, run_id, out)

    def add(self, item: ScoredItem) -> None:
        if self.failed:
            return
        try:
            self.store.add_items(self.run_id, [item])
        except StoreError as exc:
            self.failed = True
            self.out.note(f"Warning: results stop being added to the history ({exc}).")

    def finish(self, finished: RunFinished) -> None:
        try:
            points = [p.to_dict() for p in finished.points]
            self.store.finish_run(self.run_id, finished.status, points, finished.message)
        except StoreError as exc:
            self.out.note(f"Warning: the history misses the end of the run ({exc}).")
        finally:
            self.store.close()


async def _evaluate(args: argparse.Namespace, open_backend: OpenBackend, out: _Output) -> int:
    if args.parallel is not None and args.parallel < 1:
        raise LabError(f"--parallel must be 1 or more, not {args.parallel}")
    source = await asyncio.to_thread(load_source, args.source, args.limit)
    plan = EvalPlan(
        budgets=args.budgets,
        mode=Mode(args.mode),
        samples=args.samples,
        temperature=args.temperature,
        seed=args.seed,
        max_answer=args.max_answer,
        system_prompt=args.system,
    )
    directory = _out_dir(args, source)
    spec = _spec(args, source, plan)
    Journal.check(directory, spec, resume=args.resume)  # before a model takes a minute to load
    backends = await _open_pool(args, open_backend, out)
    try:
        journal = Journal.open(directory, spec, resume=args.resume)
        try:
            return await _sweep(args, source, plan, spec, journal, backends, out)
        finally:
            journal.close()
    finally:
        for backend in backends:
            await backend.aclose()


async def _sweep(
    args: argparse.Namespace,
    source: LoadedSource,
    plan: EvalPlan,
    spec: dict[str, Any],
    journal: Journal,
    backends: list[Backend],
    out: _Output,
) -> int:
    backend_name = backends[0].name
    history = _History.start(journal, spec, source, backend_name, out)
    run = EvalRun(
        source.questions,
        plan,
        backends,
        journal,
        parallel=len(backends) if args.remote else 1,
        sinks=[history.add] if history is not None else [],
    )
    out.note(
        f"{source.title}: {len(source.questions)} of {source.total} questions × "
        f"{len(plan.budgets)} budgets × {plan.samples} samples = {run.total} generations "
        f"({run.done} done) on {backend_name}; results in {journal.directory}"
    )
    cancel = CancelToken()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, cancel.cancel)
    finished: RunFinished | None = None
    try:
        async for event in run.events(cancel):
            if isinstance(event, RunFinished):
                finished = event
                continue
            if out.events is not None:
                out.events.show(event)
            elif out.bar is not None:
                out.bar.show(event)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    assert finished is not None
    files = _write(journal, run, spec, finished, backend_name, source)
    finished = RunFinished(
        finished.status,
        finished.done,
        finished.total,
        finished.points,
        finished.message,
        str(journal.directory),
    )
    if history is not None:
        history.finish(finished)
    return _report(finished, files, out)


def _write(
    journal: Journal,
    run: EvalRun,
    spec: dict[str, Any],
    finished: RunFinished,
    backend_name: str,
    source: LoadedSource,
) -> list[Path]:
    summary = {**spec, "backend": backend_name, "status": finished.status}
    items = run.items()
    title = f"{source.title} · {run.plan.mode.value} · {Path(spec['model']).name or backend_name}"
    try:
        files = write_results(
            journal.directory, summary, finished.points, items, [q.id for q in source.questions]
        )
        files += write_plot(journal.directory, finished.points, title)
    except OSError as exc:
        raise LabError(
            f"Cannot write the results into {journal.directory}: {exc.strerror or exc}. "
            "Every generation is kept; run again with --resume to write them."
        ) from exc
    return files


def _report(finished: RunFinished, files: list[Path], out: _Output) -> int:
    if out.events is not None:
        out.events.show(finished)
    else:
        if finished.points:
            sys.stdout.write(points_table(finished.points) + "\n")
        sys.stdout.write("Results: " + ", ".join(str(f) for f in files) + "\n")
        if finished.status != "finished":
            sys.stderr.write(
                f"Stopped after {finished.done} of {finished.total} generations"
                f"{': ' + finished.message if finished.status == 'failed' else ''}. "
                f"Continue with --resume --out {finished.out_dir}\n"
            )
    if finished.status == "finished":
        return EXIT_OK
    return EXIT_CANCELLED if finished.status == "interrupted" else EXIT_ERROR


def run_eval(args: argparse.Namespace, open_backend: OpenBackend) -> int:
    """Run ``s1desk eval``; ``open_backend`` builds a backend as ``ask`` does."""
    out = _Output(args)
    try:
        return asyncio.run(_evaluate(args, open_backend, out))
    except S1DeskError as exc:
        out.error(str(exc))
        return EXIT_ERROR
