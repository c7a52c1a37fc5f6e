"""The CPU meter sees a real busy program beside this process, and not this process itself."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from s1desk.backends.cpu_meter import MIN_WINDOW_S, CpuMeter
from s1desk.backends.local_config import usable_cores


def test_a_short_window_says_nothing() -> None:
    meter = CpuMeter()
    meter.start()
    assert meter.others() is None
    assert meter.free_cores() is None


@pytest.mark.skipif(usable_cores() < 2, reason="needs a core for the busy program and one free")
def test_a_program_spinning_beside_it_takes_a_core() -> None:
    meter = CpuMeter()
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # it is running
        meter.start()
        time.sleep(MIN_WINDOW_S + 0.3)
        others = meter.others()
    finally:
        busy.kill()
        busy.wait()
    assert others is not None
    assert others >= 0.6
    assert meter.free_cores() is not None


def test_its_own_work_is_not_counted() -> None:
    meter = CpuMeter()
    meter.start()
    deadline = time.monotonic() + MIN_WINDOW_S + 0.2
    while time.monotonic() < deadline:
        pass  # this process spins on one core
    others = meter.others()
    assert others is not None
    # Counted, the core spun here would show as 1.0 at least.
    assert others < 0.8
