"""The shape of a transformer that decides its memory: layers, heads, widths, vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s1desk.models.gguf import ArrayValue, GGUFInfo


@dataclass(frozen=True, slots=True)
class Architecture:
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    n_embd: int
    n_vocab: int
    context_length: int = 32_768

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Architecture:
        return cls(**{k: int(v) for k, v in data.items()})

    @classmethod
    def from_gguf(cls, info: GGUFInfo) -> Architecture:
        """Read it from a GGUF header (``{arch}.block_count`` and friends)."""
        arch = info.architecture
        meta = info.metadata

        def number(key: str, default: int | None = None) -> int:
            value = meta.get(f"{arch}.{key}", default)
            if not isinstance(value, int):
                raise ValueError(f"{info.path.name}: the GGUF header has no {arch}.{key}")
            return value

        n_heads = number("attention.head_count")
        n_embd = number("embedding_length")
        head_dim = number("attention.key_length", n_embd // n_heads)
        tokens = meta.get("tokenizer.ggml.tokens")
        vocab = meta.get(f"{arch}.vocab_size")
        if not isinstance(vocab, int):
            vocab = tokens.count if isinstance(tokens, ArrayValue) else 0
        return cls(
            n_layers=number("block_count"),
            n_heads=n_heads,
            n_kv_heads=number("attention.head_count_kv", n_heads),
            head_dim=head_dim,
            n_embd=n_embd,
            n_vocab=vocab,
            context_length=number("context_length", 32_768),
        )
