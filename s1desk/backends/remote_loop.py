"""Segment-level budget forcing over ``/v1/completions``: one request per thinking segment.

Thinking runs as a completion that stops at the end-of-thinking delimiters,
with the room left under the cap as ``max_tokens``. An early stop under the
minimum appends ``Wait`` to the prompt and sends the grown prompt again (the
server's prefix cache makes that cheap); the cap or a natural end appends the
answer delimiter, and the answer is one more completion. Token counts come
from the server, so the :class:`BudgetForcer` sees the same numbers as the
local backend would.

Each segment is a :class:`SegmentStream` request, closed at its room
whatever the server does. The prompt is a :class:`RemotePrompt`, so nothing
a person typed can become a control token on the server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from s1desk.backends.base import GenerationRequest
from s1desk.backends.driver import REMOTE_REMEDY, Driver
from s1desk.backends.remote_client import OpenAIClient
from s1desk.backends.remote_errors import ServerRequestError
from s1desk.backends.remote_format import ServerFormat
from s1desk.backends.remote_prompt import RemotePrompt
from s1desk.backends.remote_segment import SegmentStream
from s1desk.backends.remote_server import ServerProfile, Tokenizer
from s1desk.events import AnswerText, StreamEvent, ThinkingText
from s1desk.thinking.format import PromptPart
from s1desk.thinking.machine import (
    BudgetForcer,
    CloseThinking,
    Finish,
    FinishReason,
    InjectWait,
    Phase,
)
from s1desk.thinking.policy import CapLanding

log = logging.getLogger(__name__)

Emit = Callable[[StreamEvent], None]

#: When the server does not report its context, s1's own (Qwen2.5's) length is assumed.
ASSUMED_CONTEXT = 32_768
#: How long counting the tokens of a cancelled segment may delay the end of a cancel.
PARTIAL_COUNT_TIMEOUT_S = 2.0


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
        server_format: ServerFormat,
        previous_prompt: list[int],
    ) -> None:
        self.profile = profile
        self.tokenizer = tokenizer
        self.request = request
        self.context_length = profile.max_model_len or context_length or ASSUMED_CONTEXT
        self.server_format = server_format
        self.format = server_format.format
        self.previous_prompt = previous_prompt
        self.prompt_ids: list[int] = []
        self.driver = Driver(emit, self.format)
        self.clock = self.driver.clock
        self.segments = SegmentStream(
            client, profile, tokenizer, server_format, request.sampler, self.clock, emit
        )

    @property
    def forcer(self) -> BudgetForcer | None:
        return self.driver.forcer

    async def run(self) -> None:
        request = self.request
        fmt = self.format
        base = self._new_prompt()
        for part in fmt.render_builtin(request.history, request.question, request.system_prompt):
            await base.add(part)
        policy = request.policy
        thinking = base.copy()
        await thinking.add(PromptPart(fmt.think_open, control=True))
        opening_ids = await thinking.token_ids()
        overhead = await self.tokenizer.count(fmt.think_close)
        if policy.cap_suffix:
            overhead += len(await self._plain_ids(policy.cap_suffix))
        if policy.landing is CapLanding.WRAP_UP:
            overhead += len(await self._plain_ids(policy.wrap_up_text))
        self.prompt_ids = opening_ids
        first = self.driver.start(
            policy, len(opening_ids), overhead, self.context_length, REMOTE_REMEDY
        )
        forcer = self.driver.machine
        if isinstance(first, CloseThinking):
            prompt = base
            await prompt.add(PromptPart(fmt.no_think_open, control=True))
            self.prompt_ids = await prompt.token_ids()
            self.driver.decoding()
        else:
            self.driver.decoding()
            prompt = await self._think(forcer, thinking)
        reason = await self._answer(forcer, prompt)
        self.finish(reason)

    def _new_prompt(self) -> RemotePrompt:
        return RemotePrompt(
            self.tokenizer,
            self.profile.takes_token_ids,
            self.server_format.control_ids,
            self.format.plain_openings,
        )

    async def _plain_ids(self, text: str) -> list[int]:
        return await self.segments.plain_ids(text)

    async def _think(self, forcer: BudgetForcer, prompt: RemotePrompt) -> RemotePrompt:
        while True:
            grace = forcer.in_grace
            segment = await self.segments.read(
                prompt.payload, forcer.room, ThinkingText, thinking=True, until_sentence=grace
            )
            ids = segment.ids
            if segment.ended and self.format_markers and ids is not None:
                ids = None  # the ids may hold a stop string's tokens: count the text's own
            await prompt.add_text(segment.text, ids)
            decision = (
                forcer.thought(segment.tokens, sentence_end=segment.sentence_end)
                if segment.tokens
                else None
            )
            if isinstance(decision, CloseThinking):
                return await self._close(forcer, decision, prompt)
            if grace and not segment.ended and segment.tokens:
                continue  # finishing the sentence past the cap
            if not segment.ended:
                if not segment.tokens:
                    raise ServerRequestError("The server stopped without producing a token.", 200)
                continue  # the server stopped short of the room it was given: ask again
            ending = forcer.end_requested()
            if isinstance(ending, CloseThinking):
                return await self._close(forcer, ending, prompt)
            text, ids = await self._wait_text(ending)
            self.driver.waited(text)
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
        lead = await self._plain_ids(decision.lead) if decision.lead else []
        await prompt.add_text(decision.lead, lead)
        self.driver.closed(decision, len(lead))
        await prompt.add(PromptPart(decision.delimiter, control=True))
        await prompt.add_text(decision.suffix)
        return prompt

    @property
    def format_markers(self) -> list[str]:
        """End-of-thinking markers this server stops on as text (several tokens long)."""
        return [m for m in self.format.end_markers if m not in self.format.control_tokens]

    async def _answer(self, forcer: BudgetForcer, prompt: RemotePrompt) -> FinishReason:
        while True:
            segment = await self.segments.read(prompt.payload, forcer.room, AnswerText)
            await prompt.add_text(segment.text, segment.ids)
            if segment.tokens:
                decision = forcer.answered(segment.tokens)
                if isinstance(decision, Finish):
                    return decision.reason
            if segment.ended:
                return forcer.answer_ended().reason
            if not segment.tokens:
                raise ServerRequestError("The server stopped without producing a token.", 200)

    async def count_partial(self) -> None:
        """After a cancel mid-segment: count what streamed so far into the machine."""
        forcer, text = self.forcer, self.segments.partial
        self.segments.partial = ""
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
        prompt_tokens = len(self.prompt_ids)
        usage = self.segments.usage
        if usage is not None and usage.cached_tokens is not None:
            cached = usage.cached_tokens
        else:
            cached = _common_prefix(self.prompt_ids, self.previous_prompt)
        self.driver.finish(reason, prompt_tokens, cached)


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
