"""The run directory's journal: the run's settings and every finished item, kept durably.

``run.json`` says what the run is; ``items.jsonl`` gets one line per finished
generation, flushed and synced before the run moves on, so a run killed at any
moment (Ctrl+C, SIGKILL, a crash, a power cut after the sync) resumes without
generating anything twice. A line torn by a kill mid-write is dropped on resume.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, TextIO

from s1desk.lab.errors import LabError, RunDirectoryError
from s1desk.lab.items import ItemKey, ScoredItem

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
ITEMS_FILE = "items.jsonl"


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_spec(directory: Path) -> dict[str, Any] | None:
    """The settings saved in ``directory``, or ``None`` when it holds no run."""
    path = directory / RUN_FILE
    if not path.exists():
        return None
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDirectoryError(f"{path} cannot be read as a run's settings: {exc}") from exc
    if not isinstance(spec, dict):
        raise RunDirectoryError(f"{path} is not a run's settings (not a JSON object)")
    return spec


def _differences(saved: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    keys = sorted(set(saved) | set(wanted))
    return [k for k in keys if saved.get(k) != wanted.get(k)]


class Journal:
    """The durable record of one run in its directory. Open with :meth:`open`."""

    def __init__(self, directory: Path, items: dict[ItemKey, ScoredItem], fh: TextIO) -> None:
        self.directory = directory
        self.items = items
        self._fh = fh

    @staticmethod
    def check(directory: Path, spec: dict[str, Any], *, resume: bool) -> None:
        """Raise :class:`RunDirectoryError` if :meth:`open` would refuse ``directory``.

        A new run needs a directory without a run; a resumed one needs the same
        settings as the run it continues.
        """
        saved = read_spec(directory)
        if saved is None:
            if resume and (directory / ITEMS_FILE).exists():
                raise RunDirectoryError(f"{directory} has items but no {RUN_FILE}: cannot resume")
            if resume:
                raise RunDirectoryError(f"There is no run to resume in {directory}.")
            return
        if not resume:
            raise RunDirectoryError(
                f"{directory} already holds a run: pass --resume to continue it, "
                "or choose another --out."
            )
        differ = _differences(saved, spec)
        if differ:
            raise RunDirectoryError(
                f"The run in {directory} was made with other settings "
                f"({', '.join(differ)} differ): resume it with the same ones, "
                "or choose another --out."
            )

    @classmethod
    def open(cls, directory: Path, spec: dict[str, Any], *, resume: bool) -> Journal:
        """Start a run in ``directory``, or (``resume``) continue the one there."""
        cls.check(directory, spec, resume=resume)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            if read_spec(directory) is None:
                write_atomic(directory / RUN_FILE, json.dumps(spec, indent=2) + "\n")
                (directory / ITEMS_FILE).unlink(missing_ok=True)
        except OSError as exc:
            raise RunDirectoryError(f"Cannot write into {directory}: {exc}") from exc
        items = _load(directory / ITEMS_FILE)
        try:
            fh = (directory / ITEMS_FILE).open("a", encoding="utf-8")
        except OSError as exc:
            raise RunDirectoryError(f"Cannot write {directory / ITEMS_FILE}: {exc}") from exc
        return cls(directory, items, fh)

    def commit(self, item: ScoredItem) -> None:
        """Write ``item`` and sync it to disk before returning."""
        line = json.dumps(item.to_dict(), ensure_ascii=False)
        try:
            self._fh.write(line + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError as exc:
            raise LabError(f"Cannot save a result to {self.directory / ITEMS_FILE}: {exc}") from exc
        self.items[item.key] = item

    def close(self) -> None:
        self._fh.close()


def _load(path: Path) -> dict[ItemKey, ScoredItem]:
    """The items in ``path``; a torn last line is cut off, any other bad line is an error."""
    if not path.exists():
        return {}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RunDirectoryError(f"Cannot read {path}: {exc}") from exc
    items: dict[ItemKey, ScoredItem] = {}
    lines = data.split(b"\n")
    good = 0
    for number, raw in enumerate(lines, start=1):
        last = number == len(lines)
        if not raw.strip():
            if not last:
                good += len(raw) + 1
            continue
        try:
            item = ScoredItem.from_dict(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError, LabError, TypeError) as exc:
            if last:
                log.warning("%s: dropping a line torn by an interrupted write", path)
                break
            raise RunDirectoryError(
                f"{path}, line {number}: not a result ({exc}). The file was changed by "
                "something other than s1desk; move the directory aside to start over."
            ) from exc
        items[item.key] = item
        good += len(raw) + 1
    if good < len(data):
        with path.open("r+b") as fh:
            fh.truncate(good)
    elif good > len(data):  # the last item is whole but its newline was not written
        with path.open("ab") as fh:
            fh.write(b"\n")
    return items
