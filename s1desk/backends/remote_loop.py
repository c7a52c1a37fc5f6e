"""Segment-level budget forcing over ``/v1/completions``: one request per thinking segment.

Thinking runs as a completion that stops at the end-of-thinking delimiters,
with the room left under the cap as ``max_tokens``. An early stop under the
minimum appends ``Wait`` to the prompt and sends the grown prompt again (the
server's prefix cache makes that cheap); the cap or a natural end appends the
answer delimiter, and the answer is one more completion. Token counts come
from the server, so the :class:`BudgetForcer` sees the same numbers as the
local backend would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from s1desk.backends.base import GenerationRequest
from s1desk.backends.local_loop import fit_policy
from s1desk.backends.remote_client import OpenAIClient, Usage
from s1desk.backends.remote_errors import ServerRequestError
from s1desk.backends.remote_server import ServerProfile, Tokenizer
from s1desk.errors import ContextOverflowError
from s1desk.events import (
    AnswerText,
    Done,
    Stats,
    StreamEvent,
    ThinkingEnd,
    ThinkingText,
    WaitInjected,
)
from s1desk.thinking.format import (
    ANSWER_OPEN,
    ENDOFTEXT,
    IM_END,
    IM_START,
    THINK_OPEN,
    render_prompt,
)
from s1desk.thinking.machine import (
    BudgetForcer,
    CloseReason,
    CloseThinking,
    Finish,
    FinishReason,
    InjectWait,
    Phase,
)

log = logging.getLogger(__name__)

Emit = Callable[[StreamEvent], None]

#: Stop strings for servers that keep special tokens in the text they stream.
STOP_STRINGS = (IM_START, IM_END, ENDOFTEXT)
#: When the server does not report its context, s1's own (Qwen2.5's) length is assumed.
ASSUMED_CONTEXT = 32_768
#: How long counting the tokens of a cancelled segment may delay the end of a cancel.
PARTIAL_COUNT_TIMEOUT_S = 2.0


@dataclass(slots=True)
class Segment:
    """What one completion request added to the current block."""

    text: str
    tokens: int
    ended: bool


@dataclass(slots=True)
class _Clock:
    start: float = field(default_factory=time.perf_counter)
    decode_start: float = 0.0
    first_token: float | None = None
    thinking_end: float | None = None
    generated: int = 0
    decode_s: float = 0.0


class RemoteGeneration:
    """One request served by a remote server; await :meth:`run` once.

    ``previous_prompt`` holds the token ids of the prompt the backend sent
    last; it estimates the cached prefix where the server does not report it.
    """

    def __init__(
        self,
        client: OpenAIClient,
        profile: ServerProfile,
        tokenizer: Tokenizer,
        request: GenerationRequest,
        emit: Emit,
        context_length: int | None,
        stop_ids: list[int],
        previous_prompt: list[int],
    ) -> None:
        self.client = client
        self.profile = profile
        self.tokenizer = tokenizer
        self.request = request
        self.emit = emit
        self.context_length = profile.max_model_len or context_length or ASSUMED_CONTEXT
        self.stop_ids = stop_ids
        self.previous_prompt = previous_prompt
        self.prompt_ids: list[int] = []
        self.clock = _Clock()
        self.forcer: BudgetForcer | None = None
        self.usage: Usage | None = None
        self.partial = ""  # text of the segment being streamed

    async def run(self) -> None:
        base = render_prompt(
            self.request.history, self.request.question, self.request.system_prompt
        )
        policy = self.request.policy
        opening_ids = await self.tokenizer.tokenize(base + THINK_OPEN)
        overhead = await self.tokenizer.count(ANSWER_OPEN)
        if policy.cap_suffix:
            overhead += await self.tokenizer.count(policy.cap_suffix)
        self.prompt_ids = opening_ids
        try:
            fitted, adjusted = fit_policy(policy, len(opening_ids), overhead, self.context_length)
        except ContextOverflowError as exc:
            raise ContextOverflowError(
                str(exc).replace(
                    "load the model with a larger context", "start the server with a larger context"
                )
            ) from exc
        if adjusted is not None:
            self.emit(adjusted)
        forcer = self.forcer = BudgetForcer(fitted)
        first = forcer.start()
        self.clock.decode_start = time.perf_counter()
        if isinstance(first, CloseThinking):
            prompt = base + ANSWER_OPEN
            self.prompt_ids = await self.tokenizer.tokenize(prompt)
            self.clock.thinking_end = self.clock.decode_start
            self.emit(ThinkingEnd(reason=CloseReason.NONE, thinking_tokens=0))
        else:
            prompt = await self._think(forcer, base + THINK_OPEN)
        reason = await self._answer(forcer, prompt)
        self.finish(reason)

    async def _think(self, forcer: BudgetForcer, prompt: str) -> str:
        while True:
            segment = await self._segment(prompt, forcer.room, ThinkingText)
            prompt += segment.text
            decision = forcer.thought(segment.tokens) if segment.tokens else None
            if isinstance(decision, CloseThinking):
                return self._close(forcer, decision, prompt)
            if not segment.ended:
                if not segment.tokens:
                    raise ServerRequestError("The server stopped without producing a token.", 200)
                continue  # the server stopped short of the room it was given: ask again
            ending = forcer.end_requested()
            if isinstance(ending, CloseThinking):
                return self._close(forcer, ending, prompt)
            text, count = await self._wait_text(ending)
            self.emit(WaitInjected(text=text, at=forcer.wait_positions[-1], index=forcer.waits))
            prompt += text
            after = forcer.injected(count)
            if isinstance(after, CloseThinking):
                return self._close(forcer, after, prompt)

    async def _wait_text(self, decision: InjectWait) -> tuple[str, int]:
        ids = await self.tokenizer.tokenize(decision.text)
        if len(ids) <= decision.room:
            return decision.text, len(ids)
        kept = ids[: decision.room]
        return await self.tokenizer.detokenize(kept), len(kept)

    def _close(self, forcer: BudgetForcer, decision: CloseThinking, prompt: str) -> str:
        self.clock.thinking_end = time.perf_counter()
        self.emit(ThinkingEnd(reason=decision.reason, thinking_tokens=forcer.thinking_tokens))
        if decision.suffix:
            self.emit(AnswerText(decision.suffix))
        return prompt + decision.text

    async def _answer(self, forcer: BudgetForcer, prompt: str) -> FinishReason:
        while True:
            segment = await self._segment(prompt, forcer.room, AnswerText)
            prompt += segment.text
            if segment.tokens:
                decision = forcer.answered(segment.tokens)
                if isinstance(decision, Finish):
                    return decision.reason
            if segment.ended:
                return forcer.answer_ended().reason
            if not segment.tokens:
                raise ServerRequestError("The server stopped without producing a token.", 200)

    async def _segment(
        self, prompt: str, max_tokens: int, kind: type[ThinkingText] | type[AnswerText]
    ) -> Segment:
        body = self._body(prompt, max_tokens)
        parts: list[str] = []
        ids: list[int] | None = None
        finish: str | None = None
        control = False
        self.partial = ""
        started = time.perf_counter()
        async with contextlib.aclosing(self.client.stream_completion(body)) as chunks:
            async for chunk in chunks:
                if chunk.usage is not None and self.usage is None:
                    self.usage = chunk.usage
                if chunk.token_ids is not None:
                    ids = [*(ids or []), *chunk.token_ids]
                if chunk.text:
                    if self.clock.first_token is None:
                        self.clock.first_token = time.perf_counter()
                    parts.append(chunk.text)
                    self.partial += chunk.text
                    self.emit(kind(chunk.text))
                elif (
                    self.profile.drops_control_tokens
                    and chunk.finish_reason is None
                    and chunk.usage is None
                ):
                    # llama_cpp.server streams <|im_start|> as an empty chunk and would
                    # go on past it: stop here, the model asked to end the block.
                    control = True
                    break
                if chunk.finish_reason is not None:
                    finish = chunk.finish_reason
        text = "".join(parts)
        self.partial = ""
        count = await self._count(text, ids, finish, max_tokens)
        self.clock.generated += count
        self.clock.decode_s += time.perf_counter() - started
        return Segment(text=text, tokens=count, ended=control or finish == "stop")

    async def _count(
        self, text: str, ids: list[int] | None, finish: str | None, max_tokens: int
    ) -> int:
        """Tokens the segment added, the stop token excluded, from the server's own counts."""
        if ids is not None:
            if ids and ids[-1] in self.stop_ids:
                ids = ids[:-1]
            count = len(ids)
        elif finish == "length":
            count = max_tokens
        else:
            count = await self.tokenizer.count(text)
        if count > max_tokens:
            log.warning("server produced %d tokens for a room of %d", count, max_tokens)
            count = max_tokens
        return count

    def _body(self, prompt: str, max_tokens: int) -> dict[str, Any]:
        s = self.request.sampler
        body: dict[str, Any] = {
            "model": self.profile.model,
            "prompt": prompt,
            "max_tokens": max_tokens,
            "temperature": s.temperature,
            "top_p": s.top_p,
            "stop": list(STOP_STRINGS),
            "stream_options": {"include_usage": True},
        }
        if s.top_k:
            body["top_k"] = s.top_k
        if s.min_p:
            body["min_p"] = s.min_p
        if s.seed is not None:
            body["seed"] = s.seed
        if self.profile.stop_token_ids_supported:
            body["stop_token_ids"] = self.stop_ids
            body["skip_special_tokens"] = True
            body["return_token_ids"] = True
            if s.repeat_penalty != 1.0:
                body["repetition_penalty"] = s.repeat_penalty
        elif s.repeat_penalty != 1.0:
            body["repeat_penalty"] = s.repeat_penalty
        return body

    async def count_partial(self) -> None:
        """After a cancel mid-segment: count what streamed so far into the machine."""
        forcer, text = self.forcer, self.partial
        self.partial = ""
        if forcer is None or not text or forcer.phase is Phase.FINISHED:
            return
        try:
            count = min(
                await asyncio.wait_for(self.tokenizer.count(text), PARTIAL_COUNT_TIMEOUT_S),
                forcer.room,
            )
        except Exception:  # the count is a courtesy; the cancel must still finish
            log.debug("could not count the cancelled segment", exc_info=True)
            return
        self.clock.generated += count
        if count and forcer.phase is Phase.THINKING:
            forcer.thinking_tokens += count
        elif count and forcer.phase is Phase.ANSWERING:
            forcer.answer_tokens += count

    def finish(self, reason: FinishReason) -> None:
        """Emit the statistics and ``Done``; also used after a cancel."""
        now = time.perf_counter()
        c = self.clock
        forcer = self.forcer
        if forcer is not None and forcer.phase is not Phase.FINISHED:
            reason = forcer.abort(reason).reason
        prompt_tokens = len(self.prompt_ids)
        if self.usage is not None and self.usage.cached_tokens is not None:
            cached = self.usage.cached_tokens
        else:
            cached = _common_prefix(self.prompt_ids, self.previous_prompt)
        thinking_end = c.thinking_end if c.thinking_end is not None else now
        decode_s = c.decode_s or max(now - c.decode_start, 1e-9)
        self.emit(
            Stats(
                prompt_tokens=prompt_tokens,
                cached_prompt_tokens=min(cached, prompt_tokens),
                thinking_tokens=forcer.thinking_tokens if forcer else 0,
                answer_tokens=forcer.answer_tokens if forcer else 0,
                waits=forcer.waits if forcer else 0,
                time_to_first_token_s=(c.first_token or now) - c.start,
                thinking_s=max(thinking_end - c.decode_start, 0.0) if c.decode_start else 0.0,
                total_s=now - c.start,
                tokens_per_second=c.generated / max(decode_s, 1e-9),
            )
        )
        self.emit(Done(reason=reason))


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
