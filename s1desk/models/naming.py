"""GGUF file names: the quantization they carry and the parts of a split model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

_SPLIT = re.compile(r"^(?P<stem>.+)-(?P<part>\d{5})-of-(?P<parts>\d{5})\.gguf$", re.IGNORECASE)
_QUANT = re.compile(
    r"(?:^|[-._])(?P<quant>(?:i1-)?(?:IQ[1-4]_(?:XXS|XS|NL|S|M)|Q[2-8]_K(?:_(?:XXL|XL|L|M|S))?"
    r"|Q[4-8]_[01]|F16|BF16|F32|MXFP4))(?=[-._]|$)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class GGUFName:
    """What a file name says: ``quant`` (upper case, or None), and ``part`` of ``parts``."""

    name: str
    quant: str | None
    part: int
    parts: int

    @property
    def is_split(self) -> bool:
        return self.parts > 1


def parse_gguf_name(path: str) -> GGUFName:
    """Read a name like ``simplescaling_s1.1-32B-Q4_K_M.gguf`` or ``…-f16-00001-of-00002.gguf``."""
    name = PurePosixPath(path).name
    part, parts = 1, 1
    stem = name[: -len(".gguf")] if name.lower().endswith(".gguf") else name
    split = _SPLIT.match(name)
    if split:
        stem = split["stem"]
        part, parts = int(split["part"]), int(split["parts"])
    quants = _QUANT.findall(stem)
    quant = quants[-1].upper().replace("I1-", "i1-") if quants else None
    return GGUFName(name=name, quant=quant, part=part, parts=parts)


def split_part_names(first: str) -> list[str]:
    """All part names of a split GGUF, given any one of them (the name itself if not split)."""
    info = parse_gguf_name(first)
    if not info.is_split:
        return [first]
    prefix = first[: -len(f"-{info.part:05d}-of-{info.parts:05d}.gguf")]
    return [f"{prefix}-{n:05d}-of-{info.parts:05d}.gguf" for n in range(1, info.parts + 1)]
