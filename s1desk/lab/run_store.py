"""The scaling lab's runs in the history database: listed, reopened, never generated twice."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from s1desk.lab.items import ScoredItem
from s1desk.store import codec, database, migrations
from s1desk.store.errors import NotFoundError

_ITEM = (
    "question_id, budget, sample, thinking_tokens, answer_tokens, waits, thinking_end, finish, "
    "extracted, correct, why, vote, seconds, reasoning, answer"
)
_RUN = "id, out_dir, created, updated, source, title, model, backend, status, spec, points, message"


@dataclass(frozen=True, slots=True)
class EvalRunRecord:
    """A run as the history lists it; ``points`` as written in ``results.json``."""

    id: int
    out_dir: Path
    created: float
    updated: float
    source: str
    title: str
    model: str
    backend: str
    status: str
    spec: dict[str, Any]
    points: list[dict[str, Any]]
    message: str


def _record(row: Sequence[Any]) -> EvalRunRecord:
    return EvalRunRecord(
        id=row[0],
        out_dir=Path(row[1]),
        created=row[2],
        updated=row[3],
        source=row[4],
        title=row[5],
        model=row[6],
        backend=row[7],
        status=row[8],
        spec=json.loads(row[9]),
        points=json.loads(row[10]),
        message=row[11],
    )


def _item(row: Sequence[Any]) -> ScoredItem:
    return ScoredItem(
        question_id=row[0],
        budget=row[1],
        sample=row[2],
        thinking_tokens=row[3],
        answer_tokens=row[4],
        waits=row[5],
        thinking_end=row[6],
        finish=row[7],
        extracted=row[8],
        correct=bool(row[9]),
        why=row[10],
        vote=row[11],
        seconds=row[12],
        reasoning=row[13],
        answer=row[14],
    )


def _values(run_id: int, item: ScoredItem) -> tuple[Any, ...]:
    return (
        run_id,
        item.question_id,
        item.budget,
        item.sample,
        item.thinking_tokens,
        item.answer_tokens,
        item.waits,
        item.thinking_end,
        item.finish,
        item.extracted,
        int(item.correct),
        item.why,
        item.vote,
        item.seconds,
        item.reasoning,
        item.answer,
    )


class EvalRunStore:
    """Eval runs in the history database (the same file as conversations).

    Each item is committed on its own; adding an item that is already there
    changes nothing, so a resumed run can hand over everything it has.
    """

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    def open(cls, path: Path | None = None) -> EvalRunStore:
        """Open (creating and migrating as needed) the history database at ``path``."""
        path = path if path is not None else database.default_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        db = database.connect(path)
        try:
            with database.errors(path, "prepare the history database"):
                migrations.migrate(db)
        except BaseException:
            db.close()
            raise
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> EvalRunStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start_run(
        self,
        out_dir: Path,
        spec: dict[str, Any],
        *,
        source: str,
        title: str,
        model: str,
        backend: str,
    ) -> int:
        """The run kept for ``out_dir`` (created, or marked running again); returns its id."""
        now = codec.timestamp(codec.now())
        key = str(out_dir.resolve())
        with database.transaction(self._db, self.path, "record an evaluation run"):
            self._db.execute(
                "INSERT INTO eval_runs (out_dir, created, updated, source, title, model, backend, "
                "spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (out_dir) DO UPDATE SET "
                "updated = excluded.updated, status = 'running', spec = excluded.spec, "
                "model = excluded.model, backend = excluded.backend, message = ''",
                (key, now, now, source, title, model, backend, json.dumps(spec)),
            )
            row = self._db.execute("SELECT id FROM eval_runs WHERE out_dir = ?", (key,)).fetchone()
        run_id: int = row[0]
        return run_id

    def add_items(self, run_id: int, items: Iterable[ScoredItem]) -> int:
        """Add ``items`` that the run does not have yet; returns how many were new."""
        rows = [_values(run_id, item) for item in items]
        with database.transaction(self._db, self.path, "save an evaluation result"):
            before = self._db.total_changes
            self._db.executemany(
                f"INSERT OR IGNORE INTO eval_items (run_id, {_ITEM}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            added = self._db.total_changes - before
        return added

    def finish_run(
        self, run_id: int, status: str, points: Sequence[dict[str, Any]], message: str = ""
    ) -> None:
        now = codec.timestamp(codec.now())
        with database.transaction(self._db, self.path, "record the end of an evaluation run"):
            self._db.execute(
                "UPDATE eval_runs SET status = ?, points = ?, message = ?, updated = ? "
                "WHERE id = ?",
                (status, json.dumps(list(points)), message, now, run_id),
            )

    def runs(self, limit: int = 100) -> list[EvalRunRecord]:
        """Runs, most recently updated first."""
        with database.errors(self.path, "list evaluation runs"):
            rows = self._db.execute(
                f"SELECT {_RUN} FROM eval_runs ORDER BY updated DESC, id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_record(r) for r in rows]

    def run(self, run_id: int) -> EvalRunRecord:
        with database.errors(self.path, "read an evaluation run"):
            row = self._db.execute(
                f"SELECT {_RUN} FROM eval_runs WHERE id = ?", (run_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"There is no evaluation run {run_id}.")
        return _record(row)

    def items(self, run_id: int) -> list[ScoredItem]:
        """The run's items by budget, question and sample, with their reasoning and answer."""
        with database.errors(self.path, "read evaluation results"):
            rows = self._db.execute(
                f"SELECT {_ITEM} FROM eval_items WHERE run_id = ? ORDER BY budget, id, sample",
                (run_id,),
            ).fetchall()
        return [_item(r) for r in rows]
