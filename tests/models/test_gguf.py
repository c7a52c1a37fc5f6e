"""The GGUF header reader on the real test model and on broken copies of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from s1desk.errors import ModelLoadError
from s1desk.models.gguf import read_gguf


def test_reads_the_real_header(model_path: Path) -> None:
    info = read_gguf(model_path)
    assert info.version == 3
    assert info.architecture == "qwen2"
    assert info.quantization == "Q4_K_M"
    assert info.context_length == 32768
    assert info.tensor_count == 291
    assert info.expected_size == info.file_size == model_path.stat().st_size


@pytest.mark.parametrize("size", [100, 1_000_000, 50_000_000, 491_400_000])
def test_truncation_anywhere_is_reported(model_path: Path, tmp_path: Path, size: int) -> None:
    broken = tmp_path / "cut.gguf"
    with model_path.open("rb") as src, broken.open("wb") as dst:
        remaining = size
        while remaining:
            chunk = src.read(min(remaining, 1 << 24))
            dst.write(chunk)
            remaining -= len(chunk)
    with pytest.raises(ModelLoadError, match="truncated"):
        read_gguf(broken)


def test_wrong_signature(tmp_path: Path) -> None:
    bogus = tmp_path / "x.gguf"
    bogus.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(ModelLoadError, match="not a GGUF model"):
        read_gguf(bogus)


def test_unsupported_version(tmp_path: Path) -> None:
    bogus = tmp_path / "v9.gguf"
    bogus.write_bytes(b"GGUF" + (9).to_bytes(4, "little") + b"\0" * 40)
    with pytest.raises(ModelLoadError, match="version 9"):
        read_gguf(bogus)
