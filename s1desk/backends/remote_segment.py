"""One segment of a remote generation: a completion request streamed, counted and cut at its room.

The server is not trusted to respect ``max_tokens``: tokens are counted as
they arrive (the server's ids, else one per streamed piece, with a bound on
characters), and a segment that passes its room is closed and cut at the cap.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from s1desk.backends.driver import Clock
from s1desk.backends.remote_client import OpenAIClient, Usage
from s1desk.backends.remote_errors import MalformedStreamError, ServerRequestError
from s1desk.backends.remote_format import ServerFormat
from s1desk.backends.remote_prompt import plain_ids
from s1desk.backends.remote_server import ServerProfile, Tokenizer
from s1desk.events import AnswerText, StreamEvent, ThinkingText
from s1desk.sampling import SamplerSettings
from s1desk.thinking.sentences import ends_sentence

log = logging.getLogger(__name__)

Emit = Callable[[StreamEvent], None]

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
    #: Closed at the end of a sentence (``finish-sentence`` past the cap).
    sentence_end: bool = False


class SegmentStream:
    """Completion requests on one server for one generation, one per segment.

    :attr:`usage` is the first usage the server reported; :attr:`partial` the
    text of the segment being streamed (empty between segments).
    """

    def __init__(
        self,
        client: OpenAIClient,
        profile: ServerProfile,
        tokenizer: Tokenizer,
        server_format: ServerFormat,
        sampler: SamplerSettings,
        clock: Clock,
        emit: Emit,
    ) -> None:
        self.client = client
        self.profile = profile
        self.tokenizer = tokenizer
        self.server_format = server_format
        self.format = server_format.format
        self.stop_ids = server_format.stop_ids
        self.control_set = frozenset(server_format.control_ids)
        self.sampler = sampler
        self.clock = clock
        self.emit = emit
        self.usage: Usage | None = None
        self.partial = ""

    async def plain_ids(self, text: str) -> list[int]:
        """The ids of ``text`` as plain text: no control token of the format can come of it."""
        return await plain_ids(
            self.tokenizer, text, self.server_format.control_ids, self.format.plain_openings
        )

    async def read(
        self,
        prompt: str | list[int],
        max_tokens: int,
        kind: type[ThinkingText] | type[AnswerText],
        *,
        thinking: bool = False,
        until_sentence: bool = False,
    ) -> Segment:
        """One completion request, closed at ``max_tokens`` whatever the server does.

        Past the cap with the ``finish-sentence`` landing the request is also
        closed after the first streamed piece that ends a sentence
        (``until_sentence``).
        """
        body = self.body(prompt, max_tokens, thinking=thinking)
        sentence_end = False
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
                    while new_ids and new_ids[-1] in self.control_set:
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
                        self.clock.token_seen()
                        chars += len(chunk.text)
                        parts.append(chunk.text)
                        self.partial += chunk.text
                        self.emit(kind(chunk.text))
                        if until_sentence and ends_sentence(chunk.text):
                            sentence_end = True
                            break
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
        return Segment(
            text=text,
            tokens=count,
            ended=control or finish == "stop",
            ids=known,
            sentence_end=sentence_end or (until_sentence and ends_sentence(text)),
        )

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
            ids = await self.plain_ids(full)
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
                self.clock.token_seen()
                self.emit(kind(rest))
            return kept, ids, finish
        # More than the room was shown before the count showed it: it stays shown.
        return text, ids, finish

    async def _count(
        self, text: str, ids: list[int] | None, finish: str | None, max_tokens: int
    ) -> int:
        """Tokens the segment added, the stop token excluded, from the server's own counts."""
        if ids is not None:
            if ids and ids[-1] in self.control_set:
                ids = ids[:-1]
            count = len(ids)
        elif finish == "length":
            count = max_tokens
        else:
            count = len(await self.plain_ids(text))
        if count > max_tokens:
            log.warning("server produced %d tokens for a room of %d", count, max_tokens)
            count = max_tokens
        return count

    def body(
        self, prompt: str | list[int], max_tokens: int, *, thinking: bool = False
    ) -> dict[str, Any]:
        s = self.sampler
        fmt = self.format
        stop = list(fmt.control_tokens)
        stop_ids = list(self.stop_ids)
        if thinking:
            stop += [m for m in fmt.end_markers if m not in stop]
            stop_ids += self.server_format.marker_ids
        else:
            stop += [m for m in fmt.answer_end_markers if m not in stop]
        body: dict[str, Any] = {
            "model": self.profile.model,
            "prompt": prompt,
            "max_tokens": max_tokens,
            "temperature": s.temperature,
            "top_p": s.top_p,
            "stop": stop,
            "stream_options": {"include_usage": True},
        }
        if s.top_k:
            body["top_k"] = s.top_k
        if s.min_p:
            body["min_p"] = s.min_p
        if s.seed is not None:
            body["seed"] = s.seed
        if self.profile.stop_token_ids_supported:
            body["stop_token_ids"] = stop_ids
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
