"""A GGUF header reader that checks a model file is whole before llama.cpp loads it."""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s1desk.errors import ModelLoadError

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# GGUF metadata value types -> struct format for scalars.
_SCALARS: dict[int, str] = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i",
    6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}  # fmt: skip
_STRING = 8
_LENGTH = struct.Struct("<Q")
_ARRAY = 9

# ggml tensor types -> (elements per block, bytes per block).
_GGML_BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24),
    8: (32, 34), 9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144),
    13: (256, 176), 14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74),
    18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82),
    23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),
    29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17),
}  # fmt: skip

#: llama.cpp's ``general.file_type`` values, as quantization names.
FILE_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
    10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
    16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S",
    22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M",
    28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0",
    37: "TQ2_0", 38: "MXFP4",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class GGUFInfo:
    """What a GGUF header says, and whether the file holds all its tensors."""

    path: Path
    version: int
    tensor_count: int
    metadata: dict[str, Any]
    data_offset: int
    expected_size: int
    file_size: int

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def quantization(self) -> str:
        file_type = self.metadata.get("general.file_type")
        if isinstance(file_type, int):
            return FILE_TYPES.get(file_type, f"type {file_type}")
        return "unknown"

    @property
    def context_length(self) -> int | None:
        value = self.metadata.get(f"{self.architecture}.context_length")
        return value if isinstance(value, int) else None


class _Cursor:
    def __init__(self, buf: mmap.mmap | bytes) -> None:
        self.buf = buf
        self.pos = 0

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise EOFError
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        length = self.unpack("<Q")
        if self.pos + length > len(self.buf):
            raise EOFError
        raw = self.buf[self.pos : self.pos + length]
        self.pos += length
        return bytes(raw).decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        """Step over ``count`` strings without decoding them (a vocabulary, merges)."""
        buf, pos, end = self.buf, self.pos, len(self.buf)
        length_at = _LENGTH.unpack_from
        for _ in range(count):
            if pos + 8 > end:
                raise EOFError
            pos += 8 + length_at(buf, pos)[0]
        if pos > end:
            raise EOFError
        self.pos = pos

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type = self.unpack("<I")
            count = self.unpack("<Q")
            if item_type in _SCALARS:
                size = struct.calcsize(_SCALARS[item_type]) * count
                if self.pos + size > len(self.buf):
                    raise EOFError
                self.pos += size
            elif item_type == _STRING:
                self.skip_strings(count)
            else:
                for _ in range(count):
                    self.value(item_type)
            return ArrayValue(item_type, count)
        raise ValueError(f"unknown metadata type {vtype}")


@dataclass(frozen=True, slots=True)
class ArrayValue:
    """A metadata array, summarised (vocabularies hold 150,000 strings)."""

    item_type: int
    count: int


def read_gguf(path: Path) -> GGUFInfo:
    """Read and check the header of ``path``.

    Raises :class:`ModelLoadError` with a plain explanation when the file is
    missing, is not GGUF, or is shorter than its tensors require.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"Model file not found: {path}")
    file_size = path.stat().st_size
    if file_size < 24:
        raise ModelLoadError(f"{path.name} is not a GGUF model (only {file_size} bytes).")
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        if buf[:4] != MAGIC:
            raise ModelLoadError(
                f"{path.name} is not a GGUF model (it does not start with the GGUF signature)."
            )
        try:
            return _parse(path, _Cursor(buf), file_size)
        except (EOFError, ValueError, UnicodeDecodeError) as exc:
            raise ModelLoadError(
                f"{path.name} is damaged or truncated: its GGUF header cannot be read ({exc})."
                if str(exc)
                else f"{path.name} is truncated: its GGUF header ends early."
            ) from exc


def _parse(path: Path, cur: _Cursor, file_size: int) -> GGUFInfo:
    cur.pos = 4
    version = cur.unpack("<I")
    if version not in (2, 3):
        raise ModelLoadError(f"{path.name} uses GGUF version {version}, which is not supported.")
    tensor_count = cur.unpack("<Q")
    kv_count = cur.unpack("<Q")
    metadata: dict[str, Any] = {}
    for _ in range(kv_count):
        key = cur.string()
        metadata[key] = cur.value(cur.unpack("<I"))
    end_of_data = 0
    for _ in range(tensor_count):
        cur.string()
        n_dims = cur.unpack("<I")
        elements = 1
        for _ in range(n_dims):
            elements *= cur.unpack("<Q")
        ggml_type = cur.unpack("<I")
        offset = cur.unpack("<Q")
        block, block_bytes = _GGML_BLOCKS.get(ggml_type, (1, 0))
        end_of_data = max(end_of_data, offset + elements // block * block_bytes)
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0:
        alignment = DEFAULT_ALIGNMENT
    data_offset = -(-cur.pos // alignment) * alignment
    expected = data_offset + end_of_data
    if file_size < expected:
        raise ModelLoadError(
            f"{path.name} is truncated: it has {file_size:,} bytes but its tensors need "
            f"{expected:,}. Download it again."
        )
    return GGUFInfo(
        path=path,
        version=version,
        tensor_count=tensor_count,
        metadata=metadata,
        data_offset=data_offset,
        expected_size=expected,
        file_size=file_size,
    )
