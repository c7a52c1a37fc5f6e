"""The thinking format a GGUF file's metadata names (its chat template and name)."""

from __future__ import annotations

from pathlib import Path

from s1desk.models.gguf import read_gguf
from s1desk.thinking.detect import Detection, detect_format

CHAT_TEMPLATE_KEY = "tokenizer.chat_template"


def gguf_format(path: Path) -> Detection:
    """Detect the format of the model in ``path`` from its header (no weights are read)."""
    info = read_gguf(path)
    template = info.metadata.get(CHAT_TEMPLATE_KEY)
    name = " ".join(str(v) for v in (info.metadata.get("general.name"), Path(path).name) if v)
    return detect_format(template if isinstance(template, str) else None, name)
