"""Time from launching s1desk to a visible, usable window (model loading excluded).

"Usable" means the window is shown and its transcript page has loaded, so a
message can be typed and sent. Each run is a fresh process, timed from before
its launch to the wall-clock moment it prints. Sides, one launch each a round,
the first rotating: the app; a bare PySide6 ``QWidget`` shown the same way (no
web view, no settings, no history: a floor, not a rival); and a process that
only imports what the app imports before it builds the window (``qasync``,
``s1desk.ui.app`` and all they pull in) and exits: the app's time in imports.
Target: <= 1.5 s.

Usage: .venv/bin/python benchmarks/gui_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from _common import ROOT, parse_args, report, rotated

_APP = """
import asyncio, os, sys, time
from s1desk.ui.app import create_application, build_window
import qasync
from s1desk.settings import load_settings
from s1desk.ui.window.main_window import MainWindow
app = create_application()
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
window = build_window(load_settings())
window.show()
async def ready():
    while not (window.transcript.is_ready and window.isVisible()):
        await asyncio.sleep(0.005)
    print(time.time(), flush=True)
    await window.shutdown()
with loop:
    loop.run_until_complete(ready())
"""

_BASELINE = """
import time
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget()
w.show()
app.processEvents()
print(time.time(), flush=True)
"""


_IMPORTS = """
import time
import qasync
from s1desk.ui.app import build_window, create_application
print(time.time(), flush=True)
"""


def _launch(code: str, env: dict[str, str]) -> float:
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1]) - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parse_args(parser)
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["S1DESK_HOME"] = tempfile.mkdtemp(prefix="s1desk-bench-")
    env.pop("S1DESK_MODEL", None)
    _launch(_APP, env)  # warm the disk cache once
    codes = {"app": _APP, "bare_qt_window": _BASELINE, "imports_only": _IMPORTS}
    runs: dict[str, list[float]] = {name: [] for name in codes}
    for r in range(args.runs):
        for name in rotated(list(codes), r):
            runs[name].append(_launch(codes[name], env))
    m = {name: statistics.median(v) for name, v in runs.items()}
    report(
        "gui_startup",
        {
            "platform": env["QT_QPA_PLATFORM"],
            "runs": args.runs,
            "launch_to_usable_window_s": round(m["app"], 3),
            "baseline_bare_qt_window_s": round(m["bare_qt_window"], 3),
            "imports_only_s": round(m["imports_only"], 3),
            "ratio_to_baseline": round(m["app"] / m["bare_qt_window"], 2),
            "all_runs_s": {name: [round(x, 3) for x in v] for name, v in runs.items()},
            "target_s": 1.5,
            "met": m["app"] <= 1.5,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
