"""How long the first install's compile of llama.cpp takes (the figure *Two commands* quotes).

Downloads the llama-cpp-python source distribution that pyproject.toml asks
for, then builds its wheel with pip, without pip's cache, as the first
``scripts/setup-env`` does (build isolation included: pip fetches the build
tools into a throwaway environment). The download and the build are timed
separately. There is no baseline: this is a cost, not a comparison; run it
on a quiet machine, as it uses every core for minutes.

Usage: .venv/bin/python benchmarks/build_time.py [--requirement SPEC]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import parse_args, report

REQUIREMENT = "llama-cpp-python>=0.3.16,<0.4"


def pip(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pip", *args, "--quiet"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requirement", default=REQUIREMENT)
    args = parse_args(parser)
    with tempfile.TemporaryDirectory(prefix="s1desk-build-") as tmp:
        sources, wheels = Path(tmp) / "src", Path(tmp) / "wheels"
        download_s = pip(
            "download", "--no-deps", "--no-binary", ":all:", "--no-cache-dir",
            "-d", str(sources), args.requirement,
        )  # fmt: skip
        (sdist,) = sources.iterdir()
        build_s = pip("wheel", "--no-deps", "--no-cache-dir", "-w", str(wheels), str(sdist))
        (wheel,) = wheels.iterdir()
    report(
        "build_time",
        {
            "requirement": args.requirement,
            "source": sdist.name,
            "wheel": wheel.name,
            "download_s": round(download_s, 1),
            "build_s": round(build_s, 1),
            "build_min": round(build_s / 60, 2),
        },
    )


if __name__ == "__main__":
    main()
