"""What kind of OpenAI-compatible server answers, and its tokenizer endpoints.

The budget forcing needs token counts from the server. vLLM reports them in
the stream (``return_token_ids``, ``include_usage``) and has ``/tokenize``;
llama_cpp.server reports no usage while streaming and has
``/extras/tokenize``. Each server is described once here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from s1desk.backends.remote_client import ModelInfo, OpenAIClient
from s1desk.backends.remote_errors import ModelNotFoundError, NotOpenAICompatibleError
from s1desk.thinking.format import ENDOFTEXT, IM_END, IM_START

log = logging.getLogger(__name__)


class ServerKind(StrEnum):
    """Server families whose behaviour differs in ways the budget forcing sees."""

    VLLM = "vllm"
    LLAMA_CPP_PYTHON = "llama_cpp.server"
    OTHER = "openai-compatible"


@dataclass(frozen=True, slots=True)
class ServerProfile:
    """A connected server: its kind, the model used and the context it allows."""

    kind: ServerKind
    model: str
    models: tuple[str, ...]
    max_model_len: int | None

    @property
    def stop_token_ids_supported(self) -> bool:
        """vLLM stops on token ids; llama_cpp.server ignores the field."""
        return self.kind is ServerKind.VLLM

    @property
    def takes_token_ids(self) -> bool:
        """vLLM takes a prompt as token ids; llama_cpp.server only as text (which it
        tokenizes with special-token parsing on)."""
        return self.kind is ServerKind.VLLM

    @property
    def drops_control_tokens(self) -> bool:
        """llama_cpp.server streams a control token (``<|im_start|>``) as an empty chunk
        and cannot stop on it: the client must notice the empty chunk."""
        return self.kind is ServerKind.LLAMA_CPP_PYTHON


async def discover(client: OpenAIClient, wanted: str) -> ServerProfile:
    """Read ``/v1/models``, pick ``wanted`` (or the only model) and tell the server's kind."""
    models = await client.models()
    if not models:
        raise NotOpenAICompatibleError(f"{client.config.root} serves no model.")
    chosen = _pick(models, wanted, client.config.root)
    kind = await _kind(client, chosen)
    return ServerProfile(
        kind=kind,
        model=chosen.id,
        models=tuple(m.id for m in models),
        max_model_len=chosen.max_model_len,
    )


def _pick(models: list[ModelInfo], wanted: str, root: str) -> ModelInfo:
    if not wanted:
        if len(models) == 1:
            return models[0]
        names = ", ".join(m.id for m in models)
        raise ModelNotFoundError(f"{root} serves several models ({names}): pick one.")
    for m in models:
        if m.id == wanted:
            return m
    names = ", ".join(m.id for m in models)
    raise ModelNotFoundError(f"{root} does not serve {wanted!r}; it serves: {names}.")


async def _kind(client: OpenAIClient, model: ModelInfo) -> ServerKind:
    if model.owned_by == "vllm" or model.max_model_len is not None:
        return ServerKind.VLLM
    if await client.probe("/extras/tokenize", {"input": "s1", "model": model.id}):
        return ServerKind.LLAMA_CPP_PYTHON
    return ServerKind.OTHER


class Tokenizer:
    """Counts tokens the way the server's model does, through the server."""

    def __init__(self, client: OpenAIClient, profile: ServerProfile) -> None:
        self._client = client
        self._profile = profile

    async def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text``, special tokens such as ``<|im_start|>`` parsed as such."""
        if not text:
            return []
        kind = self._profile.kind
        payload: Any
        if kind is ServerKind.VLLM:
            payload = await self._client.post_json(
                "/tokenize",
                {"model": self._profile.model, "prompt": text, "add_special_tokens": False},
            )
        elif kind is ServerKind.LLAMA_CPP_PYTHON:
            payload = await self._client.post_json(
                "/extras/tokenize", {"input": text, "model": self._profile.model}
            )
        else:
            raise NotOpenAICompatibleError(
                f"{self._client.config.root} has no tokenizer endpoint that s1desk knows "
                "(vLLM's /tokenize or llama_cpp.server's /extras/tokenize), so thinking "
                "tokens cannot be counted there."
            )
        tokens = payload.get("tokens") if isinstance(payload, dict) else None
        if not isinstance(tokens, list) or not all(isinstance(t, int) for t in tokens):
            raise NotOpenAICompatibleError("The server's tokenizer answered without token ids.")
        return tokens

    async def count(self, text: str) -> int:
        return len(await self.tokenize(text))

    async def detokenize(self, tokens: list[int]) -> str:
        kind = self._profile.kind
        if kind is ServerKind.VLLM:
            payload = await self._client.post_json(
                "/detokenize", {"model": self._profile.model, "tokens": tokens}
            )
            text = payload.get("prompt") if isinstance(payload, dict) else None
        else:
            payload = await self._client.post_json(
                "/extras/detokenize", {"tokens": tokens, "model": self._profile.model}
            )
            text = payload.get("text") if isinstance(payload, dict) else None
        if not isinstance(text, str):
            raise NotOpenAICompatibleError("The server's detokenizer answered without text.")
        return text

    async def stop_token_ids(self) -> list[int]:
        """Ids that end thinking: ``<|im_start|>``, ``<|im_end|>`` and ``<|endoftext|>`` (EOS; the
        server stops on its own EOS too)."""
        ids: list[int] = []
        for marker in (IM_START, IM_END, ENDOFTEXT):
            tokens = await self.tokenize(marker)
            if len(tokens) == 1:
                ids.append(tokens[0])
            else:
                log.warning("%s is not one token on this model: %s", marker, tokens)
        return ids
