"""A llama.cpp batch of tokens from several sequences, decoded in one call."""

from __future__ import annotations

from typing import Any

import llama_cpp

from s1desk.backends.llama_session import SamplerChain
from s1desk.errors import S1DeskError


class TokenBatch:
    """Tokens for one ``llama_decode``: each with its sequence, position and logits flag.

    Owns the native batch; :meth:`close` frees it.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._batch: Any = llama_cpp.llama_batch_init(capacity, 0, 1)
        self.size = 0

    def clear(self) -> None:
        self.size = 0

    @property
    def room(self) -> int:
        return self.capacity - self.size

    def add(self, tokens: list[int], sequence: int, position: int) -> int:
        """Append ``tokens`` of ``sequence`` from ``position`` on; logits for the last only.

        Returns the batch index whose logits the sequence samples from next.
        """
        b = self._batch
        for offset, token in enumerate(tokens):
            i = self.size + offset
            b.token[i] = token
            b.pos[i] = position + offset
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = sequence
            b.logits[i] = offset == len(tokens) - 1
        self.size += len(tokens)
        return self.size - 1

    def decode(self, ctx: Any) -> None:
        """Evaluate the batch; raises :class:`S1DeskError` when llama.cpp refuses it."""
        self._batch.n_tokens = self.size
        code = int(llama_cpp.llama_decode(ctx, self._batch))
        if code != 0:
            what = "no room left in the KV cache" if code == 1 else f"error code {code}"
            raise S1DeskError(f"llama.cpp could not decode a batch of {self.size} tokens ({what}).")

    def close(self) -> None:
        if self._batch is not None:
            llama_cpp.llama_batch_free(self._batch)
            self._batch = None


class BatchSampler(SamplerChain):
    """A sequence's own sampler chain, sampling from its row of a batch's logits."""

    def sample_at(self, ctx: Any, index: int) -> int:
        """Pick the next token from the logits at batch ``index`` (-1: the last output)."""
        return int(llama_cpp.llama_sampler_sample(self._chain, ctx, index))
