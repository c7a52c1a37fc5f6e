"""Contexts that hold several sequences at once, sharing one KV cache (batched samples)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import llama_cpp

#: Sequences one context can decode together. The KV cache is unified (every
#: sequence draws on all ``n_ctx`` cells), so a single sequence keeps the whole
#: context; the cost of more is an output buffer of one row of logits each.
MAX_SEQUENCES = 32


@contextlib.contextmanager
def sequence_context_params(n_seq_max: int = MAX_SEQUENCES) -> Iterator[None]:
    """Build llama.cpp contexts for ``n_seq_max`` sequences over one unified KV cache.

    ``Llama`` takes no argument for these, so its defaults are adjusted while it
    is built (the engine loads one model at a time on one thread).
    """
    original = llama_cpp.llama_cpp.llama_context_default_params

    def params() -> Any:
        value = original()
        value.n_seq_max = n_seq_max
        value.kv_unified = True
        return value

    llama_cpp.llama_cpp.llama_context_default_params = params
    try:
        yield
    finally:
        llama_cpp.llama_cpp.llama_context_default_params = original
