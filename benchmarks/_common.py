"""Shared set-up for the benchmark scripts: the test model, a loaded session, timing."""

from __future__ import annotations

import json
import platform
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.testmodel import test_model_path  # noqa: E402


def model_path() -> Path:
    return test_model_path()


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(name: str, payload: dict[str, Any]) -> None:
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    payload = {"benchmark": name, "machine": machine(), **payload}
    (out / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))
