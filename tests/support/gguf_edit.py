"""Copies of the test model with one header value rewritten, for files llama.cpp aborts on."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path


def with_block_count(model_path: Path, tmp_path: Path, value: int) -> Path:
    """A copy of the test model whose header says it has ``value`` layers."""
    copy = tmp_path / f"blocks-{value}.gguf"
    shutil.copyfile(model_path, copy)
    key = b"qwen2.block_count"
    with copy.open("r+b") as fh:
        head = fh.read(1 << 20)
        at = head.index(key) + len(key)
        (kind,) = struct.unpack_from("<I", head, at)
        assert kind == 4, "block_count is a uint32 in this file"
        fh.seek(at + 4)
        fh.write(struct.pack("<I", value))
    return copy
