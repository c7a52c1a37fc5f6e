"""Time from launching s1desk to a visible, usable window (model loading excluded).

"Usable" means the window is shown and its transcript page has loaded, so a
message can be typed and sent. Each run is a fresh process; the baseline is a
bare PySide6 window started the same way in the same run. Target: <= 1.5 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from _common import ROOT, report

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


def _launch(code: str, env: dict[str, str]) -> float:
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1]) - start


def main() -> int:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["S1DESK_HOME"] = tempfile.mkdtemp(prefix="s1desk-bench-")
    env.pop("S1DESK_MODEL", None)
    _launch(_APP, env)  # warm the disk cache once
    runs = [_launch(_APP, env) for _ in range(5)]
    base = [_launch(_BASELINE, env) for _ in range(5)]
    app_s = statistics.median(runs)
    base_s = statistics.median(base)
    report(
        "gui_startup",
        {
            "platform": env["QT_QPA_PLATFORM"],
            "launch_to_usable_window_s": round(app_s, 3),
            "runs_s": [round(r, 3) for r in runs],
            "baseline_bare_qt_window_s": round(base_s, 3),
            "ratio_to_baseline": round(app_s / base_s, 2),
            "target_s": 1.5,
            "met": app_s <= 1.5,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
