"""The test model's tokenizer alone (vocab-only llama.cpp: no weights, no evaluation)."""

from __future__ import annotations

import functools
from pathlib import Path

import llama_cpp


@functools.cache
def _vocab(path: Path) -> llama_cpp.Llama:
    return llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)


def tokenize(path: Path, text: str, *, special: bool = False) -> list[int]:
    """Tokens of ``text`` as the engine tokenizes plain text (no BOS)."""
    return list(_vocab(path).tokenize(text.encode("utf-8"), add_bos=False, special=special))


def piece(path: Path, token: int) -> bytes:
    """The bytes of one token."""
    return bytes(_vocab(path).detokenize([token], special=False))
