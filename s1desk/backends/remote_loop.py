"""Segment-level budget forcing over ``/v1/completions``: one request per thinking segment.

Thinking runs as a completion that stops at the end-of-thinking delimiters,
with the room left under the cap as ``max_tokens``. An early stop under the
minimum appends ``Wait`` to the prompt and sends the grown prompt again (the
server's prefix cache makes that cheap); the cap or a natural end appends the
answer delimiter, and the answer is one more completion. Token counts come
from the server, so the :class:`BudgetForcer` sees the same numbers as the
local backend would.

The server is not trusted to respect ``max_tokens``: tokens are counted as
they arrive (the server's ids, else one per streamed piece, with a bound on
characters), and a segment that passes its room is closed and cut at the cap.
The prompt is a :class:`RemotePrompt`, so nothing a person typed can become a
control token on the server.
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
from s1desk.backends.remote_errors import MalformedStreamError, ServerRequestError
from s1desk.backends.remote_prompt import RemotePrompt, plain_ids
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
    PromptPart,
    render_prompt_parts,
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
#: A segment whose text passes this many characters per token of its room (plus
#: :data:`CHAR_ALLOWANCE`) is closed and counted: no token is that long on average.
MAX_CHARS_PER_TOKEN = 32
CHAR_ALLOWANCE = 1024
#: Stream events in a row that carry neither text nor tokens before the stream is refused.
MAX_EMPTY_EVENTS = 1000


@dataclass(slots=True)
class Segment:
    """What one completion request added to the current block.

    ``ids`` are its tokens when the server reported them (stop token excluded).
    """

    text: str
    tokens: int
    ended: bool
    ids: list[int] | None = None


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
        request = self.request
        base = self._new_prompt()
        for part in render_prompt_parts(request.history, request.question, request.system_prompt):
            await base.add(part)
        policy = request.policy
        thinking = base.copy()
        await thinking.add(PromptPart(THINK_OPEN, control=True))
        opening_ids = await thinking.token_ids()
        overhead = await self.tokenizer.count(ANSWER_OPEN)
        if policy.cap_suffix:
            overhead += len(await self._plain_ids(policy.cap_suffix))
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
            prompt = base
            await prompt.add(PromptPart(ANSWER_OPEN, control=True))
            self.prompt_ids = await prompt.token_ids()
            self.clock.thinking_end = self.clock.decode_start
            self.emit(ThinkingEnd(reason=CloseReason.NONE, thinking_tokens=0))
        else:
            prompt = await self._think(forcer, thinking)
        reason = await self._answer(forcer, prompt)
        self.finish(reason)

    def _new_prompt(self) -> RemotePrompt:
        return RemotePrompt(self.tokenizer, self.profile.takes_token_ids, self.stop_ids)

    async def _plain_ids(self, text: str) -> list[int]:
        return await plain_ids(self.tokenizer, text, self.stop_ids)

    async def _think(self, forcer: BudgetForcer, prompt: RemotePrompt) -> RemotePrompt:
        while True:
            segment = await self._segment(prompt, forcer.room, ThinkingText)
            await prompt.add_text(segment.text, segment.ids)
            decision = forcer.thought(segment.tokens) if segment.tokens else None
            if isinstance(decision, CloseThinking):
                return await self._close(forcer, decision, prompt)
            if not segment.ended:
                if not segment.tokens:
                    raise ServerRequestError("The server stopped without producing a token.", 200)
                continue  # the server stopped short of the room it was given: ask again
            ending = forcer.end_requested()
            if isinstance(ending, CloseThinking):
                return await self._close(forcer, ending, prompt)
            text, ids = await self._wait_text(ending)
            self.emit(WaitInjected(text=text, at=forcer.wait_positions[-1], index=forcer.waits))
            await prompt.add_text(text, ids)
            after = forcer.injected(len(ids))
            if isinstance(after, CloseThinking):
                return await self._close(forcer, after, prompt)

    async def _wait_text(self, decision: InjectWait) -> tuple[str, list[int]]:
        ids = await self._plain_ids(decision.text)
        if len(ids) <= decision.room:
            return decision.text, ids
        kept = ids[: decision.room]
        return await self.tokenizer.detokenize(kept), kept

    async def _close(
        self, forcer: BudgetForcer, decision: CloseThinking, prompt: RemotePrompt
    ) -> RemotePrompt:
        self.clock.thinking_end = time.perf_counter()
        self.emit(ThinkingEnd(reason=decision.reason, thinking_tokens=forcer.thinking_tokens))
        if decision.suffix:
            self.emit(AnswerText(decision.suffix))
        await prompt.add(PromptPart(decision.delimiter, control=True))
        await prompt.add_text(decision.suffix)
        return prompt

    async def _answer(self, forcer: BudgetForcer, prompt: RemotePrompt) -> FinishReason:
        while True:
            segment = await self._segment(prompt, forcer.room, AnswerText)
            await prompt.add_text(segment.text, segment.ids)
            if segment.tokens:
                decision = forcer.answered(segment.tokens)
                if isinstance(decision, Finish):
                    return decision.reason
            if segment.ended:
                return forcer.answer_ended().reason
            if not segment.tokens:
                raise ServerRequestError("The server stopped without producing a token.", 200)

    async def _segment(
        self, prompt: RemotePrompt, max_tokens: int, kind: type[ThinkingText] | type[AnswerText]
    ) -> Segment:
        """One completion request, closed at ``max_tokens`` whatever the server does."""
        body = self._body(prompt.payload, max_tokens)
        parts: list[str] = []
        ids: list[int] = []
        with_ids = None  # whether the server reports the ids of what it streams
        finish: str | None = None
        control = False
        held = ""  # text that would pass the cap, kept back until it is counted
        pieces = chars = empty = 0
        char_limit = CHAR_ALLOWANCE + MAX_CHARS_PER_TOKEN * max_tokens
        self.partial = ""
        started = time.perf_counter()
        async with contextlib.aclosing(self.client.stream_completion(body)) as chunks:
            async for chunk in chunks:
                if chunk.usage is not None and self.usage is None:
                    self.usage = chunk.usage
                new_ids = list(chunk.token_ids) if chunk.token_ids is not None else None
                if new_ids is not None and chunk.finish_reason is not None:
                    while new_ids and new_ids[-1] in self.stop_ids:
                        new_ids.pop()
                if not chunk.text and not new_ids:
                    empty += 1
                    if (
                        self.profile.drops_control_tokens
                        and chunk.finish_reason is None
                        and chunk.usage is None
                    ):
                        # llama_cpp.server streams <|im_start|> as an empty chunk and would
                        # go on past it: stop here, the model asked to end the block.
                        control = True
                        break
                    if empty > MAX_EMPTY_EVENTS:
                        raise MalformedStreamError(
                            f"The server sent {MAX_EMPTY_EVENTS} stream events in a row "
                            "without text or tokens."
                        )
                else:
                    empty = 0
                    if chunk.text:
                        pieces += 1
                    # Without ids (or once a piece comes without them), each piece
                    # counts as one token: llama_cpp.server streams one per piece.
                    with_ids = new_ids is not None and with_ids is not False
                    ids.extend(new_ids or [])
                    counted = len(ids) if with_ids else pieces
                    if counted > max_tokens or chars + len(chunk.text) > char_limit:
                        # Past the room the server was given: close the request here.
                        held = chunk.text
                        break
                    if chunk.text:
                        if self.clock.first_token is None:
                            self.clock.first_token = time.perf_counter()
                        chars += len(chunk.text)
                        parts.append(chunk.text)
                        self.partial += chunk.text
                        self.emit(kind(chunk.text))
                if chunk.finish_reason is not None:
                    finish = chunk.finish_reason
        text = "".join(parts)
        known = ids if with_ids else None
        if held or len(ids) > max_tokens:
            text, known, finish = await self._cut(text, held, known, max_tokens, kind)
        self.partial = ""
        count = await self._count(text, known, finish, max_tokens)
        self.clock.generated += count
        self.clock.decode_s += time.perf_counter() - started
        return Segment(text=text, tokens=count, ended=control or finish == "stop", ids=known)

    async def _cut(
        self,
        text: str,
        held: str,
        ids: list[int] | None,
        max_tokens: int,
        kind: type[ThinkingText] | type[AnswerText],
    ) -> tuple[str, list[int], str | None]:
        """After closing a segment that passed its room: count it, keep what fits, emit that.

        Returns the segment's text, its ids and ``"length"`` when the room is
        full (``None`` when it is not: the loop then asks again).
        """
        full = text + held
        if ids is None:
            ids = await self._plain_ids(full)
        log.warning(
            "the server sent %d tokens (%d characters) for a room of %d; cut at the room",
            len(ids),
            len(full),
            max_tokens,
        )
        finish: str | None = None
        kept = full
        if len(ids) > max_tokens:
            ids, kept = await self._detokenize_prefix(ids[:max_tokens])
            finish = "length"
        if kept.startswith(text):
            rest = kept[len(text) :]
            if rest:
                if self.clock.first_token is None:
                    self.clock.first_token = time.perf_counter()
                self.emit(kind(rest))
            return kept, ids, finish
        # More than the room was shown before the count showed it: it stays shown.
        return text, ids, finish

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
            count = len(await self._plain_ids(text))
        if count > max_tokens:
            log.warning("server produced %d tokens for a room of %d", count, max_tokens)
            count = max_tokens
        return count

    def _body(self, prompt: str | list[int], max_tokens: int) -> dict[str, Any]:
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

    async def _detokenize_prefix(self, ids: list[int]) -> tuple[list[int], str]:
        """The text of ``ids``; a cut inside a character drops its first bytes' tokens."""
        for drop in range(4):
            kept = ids[: len(ids) - drop]
            try:
                return kept, await self.tokenizer.detokenize(kept)
            except ServerRequestError:
                if drop == 3 or len(kept) <= 1:
                    raise
        raise AssertionError("unreachable")

    async def count_partial(self) -> None:
        """After a cancel mid-segment: count what streamed so far into the machine."""
        forcer, text = self.forcer, self.partial
        self.partial = ""
        if forcer is None or not text or forcer.phase is Phase.FINISHED:
            return
        try:
            count = min(
                len(await asyncio.wait_for(self._plain_ids(text), PARTIAL_COUNT_TIMEOUT_S)),
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
