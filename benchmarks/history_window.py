"""The window with a large history: how soon it is usable, reopening and searching in it.

Builds (with ``history_open.build``) a history of 1,000 conversations and
20,000 messages, then launches the app as a fresh process several times
against it and against an empty history (the baseline, same window, same
run, alternating which goes first). "Usable" is what a person needs: the
window shown, the transcript page loaded and the sidebar listing the newest
conversations. Each child also
times, inside the app, reopening the newest conversation (10 exchanges) until
the transcript shows all of it, a search from the sidebar, and paging in the
next 50 conversations. Target: window usable in under 1 s with the large
history, measured from the window's construction (the interpreter, Qt and
Chromium start-up cost the same either way and are reported as launch
figures).

Usage: .venv/bin/python benchmarks/history_window.py [--history DIR] [--runs N]
(``--history DIR`` reuses or keeps the built history in DIR.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from history_open import CONVERSATIONS, EXCHANGES, build

from _common import ROOT, parse_args, report, rotated
from s1desk.store import HistoryStore

_CHILD = r"""
import asyncio, json, sys, time
t_start = time.perf_counter()
import qasync
from s1desk.settings import load_settings
from s1desk.ui.app import create_application, build_window
from s1desk.ui.window.main_window import MainWindow

app = create_application()
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
t_window = time.perf_counter()
window = build_window(load_settings())
t_built = time.perf_counter()
window.show()
expect_rows = int(sys.argv[1])
out = {}

async def run():
    sidebar = window.history.sidebar
    while not (window.transcript.is_ready and window.isVisible()
               and sidebar.model.rowCount() >= expect_rows):
        await asyncio.sleep(0.002)
    t_ready = time.perf_counter()
    out["wall_ready"] = time.time()
    out["construct_s"] = t_built - t_window
    out["window_to_usable_s"] = t_ready - t_window
    out["process_to_usable_s"] = t_ready - t_start
    if expect_rows:
        t = time.perf_counter()
        sidebar.list.clicked.emit(sidebar.model.index(0))
        n = len(window.controller.session)
        while await window.transcript.evaluate("S1.count()") != n:
            await asyncio.sleep(0.002)
        await window.transcript.evaluate("S1.answerText(%d)" % (n - 1))
        out["reopen_s"] = time.perf_counter() - t
        out["reopened_exchanges"] = n
        t = time.perf_counter()
        sidebar.search_box.setText("eigenvalue")
        sidebar.run_search()
        out["search_s"] = time.perf_counter() - t
        out["search_hits"] = sidebar.results.rowCount()
        t = time.perf_counter()
        rows = sidebar.model.rowCount()
        sidebar.model.fetchMore()
        out["page_in_s"] = time.perf_counter() - t
        out["paged_rows"] = sidebar.model.rowCount() - rows
    await window.shutdown()

with loop:
    loop.run_until_complete(run())
print(json.dumps(out), flush=True)
"""


def _launch(home: Path, expect_rows: int) -> dict[str, Any]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["S1DESK_HOME"] = str(home)
    env.pop("S1DESK_MODEL", None)
    start = time.time()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(expect_rows)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["launch_to_usable_s"] = figures.pop("wall_ready") - start
    return figures


def _home_with_history(directory: Path) -> Path:
    home = directory / "home"
    db = home / "data" / "history.sqlite3"
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        print(f"building {CONVERSATIONS} conversations in {db} …", file=sys.stderr)
        seconds = build(db)
        print(f"built in {seconds:.0f} s", file=sys.stderr)
    return home


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(float(r[key]) for r in runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--history", type=Path, help="build (or reuse) the history in DIR")
    parser.add_argument("--runs", type=int, default=5)
    args = parse_args(parser)
    with tempfile.TemporaryDirectory(prefix="s1desk-history-window-") as tmp:
        home = _home_with_history(args.history or Path(tmp))
        with HistoryStore.open(home / "data" / "history.sqlite3") as store:
            conversations = store.count_conversations()
        empty = Path(tmp) / "empty"
        HistoryStore.open(empty / "data" / "history.sqlite3").close()  # migrated, no rows
        _launch(home, 50)  # warm the disk cache and Chromium's files once
        _launch(empty, 0)
        full: list[dict[str, Any]] = []
        base: list[dict[str, Any]] = []
        for r in range(args.runs):  # interleaved, the first rotating: load hits both alike
            for side in rotated(["history", "empty"], r):
                if side == "history":
                    full.append(_launch(home, 50))
                else:
                    base.append(_launch(empty, 0))
    usable = _median(full, "window_to_usable_s")
    usable_empty = _median(base, "window_to_usable_s")
    report(
        "history_window",
        {
            "history": {"conversations": conversations, "messages": CONVERSATIONS * EXCHANGES * 2},
            "runs": args.runs,
            "window_to_usable_s": round(usable, 3),
            "window_to_usable_empty_history_s": round(usable_empty, 3),
            "ratio_to_empty": round(usable / usable_empty, 2),
            "history_cost_ms": round(1000 * (usable - usable_empty), 1),
            "construct_window_ms": round(1000 * _median(full, "construct_s"), 1),
            "construct_window_empty_ms": round(1000 * _median(base, "construct_s"), 1),
            "launch_to_usable_s": round(_median(full, "launch_to_usable_s"), 3),
            "launch_to_usable_empty_s": round(_median(base, "launch_to_usable_s"), 3),
            "reopen_10_exchanges_ms": round(1000 * _median(full, "reopen_s"), 1),
            "search_from_sidebar_ms": round(1000 * _median(full, "search_s"), 1),
            "search_hits": full[0]["search_hits"],
            "page_in_50_ms": round(1000 * _median(full, "page_in_s"), 1),
            "target_s": 1.0,
            "met": usable < 1.0,
            "all_runs": {"history": full, "empty": base},
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
