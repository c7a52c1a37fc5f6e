"""Shared set-up for the benchmark scripts: the test model, options, and the kept results."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "tests"))

from s1desk.models.hardware import detect_gpus  # noqa: E402
from support.testmodel import test_model_path  # noqa: E402

T = TypeVar("T")

#: The load average when the script started (1, 5 and 15 minutes).
_LOAD_AT_START = os.getloadavg()
_RUN: dict[str, str | None] = {"label": None, "note": None}


#: Names another GGUF to measure instead of the test model (e.g. on a GPU machine that
#: cannot build the test model from its packages).
MODEL_ENV = "S1DESK_BENCH_MODEL"


def model_path() -> Path:
    other = os.environ.get(MODEL_ENV)
    return Path(other) if other else test_model_path()


def parse_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the script's options plus the two every benchmark has: --label and --note."""
    parser.add_argument(
        "--label",
        help="keep the result as results/NAME-LABEL.json (a second condition, e.g. busy)",
    )
    parser.add_argument(
        "--note", help="the conditions, kept with the figures (e.g. 'a vLLM build beside it')"
    )
    args = parser.parse_args()
    _RUN.update(label=args.label, note=args.note)
    return args


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    return {
        "arch": platform.machine(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "gpus": [f"{g.name} ({g.total / 2**30:.0f} GiB)" for g in detect_gpus()[0]],
        **({"model": Path(os.environ[MODEL_ENV]).name} if os.environ.get(MODEL_ENV) else {}),
    }


def commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{'+changes' if dirty else ''}" if head else "unknown"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def rotated(items: Sequence[T], round_index: int) -> list[T]:
    """``items`` rotated by the round: each goes first in turn."""
    k = round_index % len(items)
    return [*items[k:], *items[:k]]


def rounds(sides: dict[str, Callable[[], T]], count: int) -> dict[str, list[T]]:
    """Run every side once a round, ``count`` rounds, the first side rotating."""
    results: dict[str, list[T]] = {name: [] for name in sides}
    for r in range(count):
        for name in rotated(list(sides), r):
            results[name].append(sides[name]())
    return results


def rate(stamps: Sequence[float]) -> float:
    """Items per second between the first and the last stamp, from the stamps' own count."""
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        raise RuntimeError(f"too few timed items to give a rate ({len(stamps)})")
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def report(name: str, payload: dict[str, Any]) -> Path:
    """Keep the result as benchmarks/results/NAME[-LABEL].json (committed) and print it."""
    label = _RUN["label"]
    stem = f"{name}-{label}" if label else name
    RESULTS.mkdir(exist_ok=True)
    kept = {
        "benchmark": name,
        "label": label,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average": {
            "start": [round(x, 2) for x in _LOAD_AT_START],
            "end": [round(x, 2) for x in os.getloadavg()],
        },
        "command": shlex.join(["benchmarks/" + Path(sys.argv[0]).name, *sys.argv[1:]]),
        "commit": commit(),
        "note": _RUN["note"],
        **payload,
    }
    path = RESULTS / f"{stem}.json"
    path.write_text(json.dumps(kept, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(kept, indent=2, ensure_ascii=False))
    return path
