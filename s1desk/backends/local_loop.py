"""The token-by-token budget-forcing loop on llama.cpp (runs on the worker thread)."""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from s1desk.backends.base import GenerationRequest
from s1desk.backends.llama_session import LlamaSession, SamplerChain
from s1desk.errors import ContextOverflowError
from s1desk.events import (
    AnswerText,
    BudgetAdjusted,
    Done,
    Stats,
    StreamEvent,
    ThinkingEnd,
    ThinkingText,
    WaitInjected,
)
from s1desk.thinking.format import ANSWER_OPEN, THINK_OPEN, render_prompt_parts
from s1desk.thinking.machine import (
    BudgetForcer,
    CloseReason,
    CloseThinking,
    Finish,
    FinishReason,
    InjectWait,
    Phase,
)
from s1desk.thinking.policy import BudgetPolicy

Emit = Callable[[StreamEvent], None]

#: The least room for an answer kept free when a budget is fitted to the context.
ANSWER_RESERVE = 256


def _decoder() -> codecs.IncrementalDecoder:
    return codecs.getincrementaldecoder("utf-8")(errors="replace")


@dataclass(slots=True)
class _Clock:
    start: float = field(default_factory=time.perf_counter)
    decode_start: float = 0.0
    first_token: float | None = None
    thinking_end: float | None = None
    sampled: int = 0


def fit_policy(
    policy: BudgetPolicy, prompt_len: int, overhead: int, n_ctx: int
) -> tuple[BudgetPolicy, BudgetAdjusted | None]:
    """Lower the thinking budget so prompt + thinking + an answer fit ``n_ctx``.

    Raises :class:`ContextOverflowError` when even the prompt and the least
    answer do not fit.
    """
    reserve = min(ANSWER_RESERVE, policy.max_answer)
    room = n_ctx - prompt_len - overhead - reserve
    if room < 0:
        raise ContextOverflowError(
            f"The conversation is {prompt_len:,} tokens; with room for an answer it needs "
            f"{prompt_len + overhead + reserve:,}, more than the context of {n_ctx:,} tokens. "
            "Start a new chat, shorten the message, or load the model with a larger context."
        )
    if policy.max_thinking <= room:
        return policy, None
    fitted = policy.with_max_thinking(room)
    return fitted, BudgetAdjusted(
        max_thinking=fitted.max_thinking,
        min_thinking=fitted.min_thinking,
        message=(
            f"Thinking budget lowered from {policy.max_thinking:,} to {fitted.max_thinking:,} "
            f"tokens to fit the {n_ctx:,}-token context."
        ),
    )


class LocalGeneration:
    """One request run against a session; call :meth:`run` once."""

    def __init__(
        self,
        session: LlamaSession,
        request: GenerationRequest,
        emit: Emit,
        cancelled: threading.Event,
    ) -> None:
        self.session = session
        self.request = request
        self.emit = emit
        self.cancelled = cancelled
        self.clock = _Clock()
        self.evaluated_before = session.evaluated
        self.decoder = _decoder()
        self.end_tokens = session.eog_tokens | (
            {session.im_start} if session.im_start is not None else set()
        )

    def run(self) -> None:
        s = self.session
        base = s.tokenize_parts(
            render_prompt_parts(
                self.request.history, self.request.question, self.request.system_prompt
            )
        )
        answer_open = s.tokenize(ANSWER_OPEN)
        policy = self.request.policy
        suffix = s.tokenize(policy.cap_suffix, special=False) if policy.cap_suffix else []
        opening = s.tokenize(THINK_OPEN)
        policy, adjusted = fit_policy(
            policy, len(base) + len(opening), len(answer_open) + len(suffix), s.n_ctx
        )
        if adjusted is not None:
            self.emit(adjusted)
        forcer = BudgetForcer(policy)
        first = forcer.start()
        prompt = base + (answer_open if isinstance(first, CloseThinking) else opening)
        evaluated = s.prefill(prompt, self.cancelled)
        self.clock.decode_start = time.perf_counter()
        if isinstance(first, CloseThinking):
            self.clock.thinking_end = self.clock.decode_start
            self.emit(ThinkingEnd(reason=CloseReason.NONE, thinking_tokens=0))
        chain = SamplerChain(self.request.sampler, s.n_vocab)
        try:
            finish = self._loop(forcer, chain, answer_open, suffix)
        finally:
            chain.close()
        self._finish(forcer, finish, prompt_tokens=len(prompt), evaluated=evaluated)

    def _loop(
        self,
        forcer: BudgetForcer,
        chain: SamplerChain,
        answer_open: list[int],
        suffix: list[int],
    ) -> FinishReason:
        s = self.session
        emit = self.emit
        end_tokens = self.end_tokens
        cancelled = self.cancelled
        clock = self.clock
        tune = s.tuned_step
        step_start = time.perf_counter()
        while True:
            now = time.perf_counter()
            tune(now - step_start)
            step_start = now
            if cancelled.is_set():
                return forcer.abort(FinishReason.CANCELLED).reason
            if s.n_past >= s.n_ctx:
                return forcer.abort(FinishReason.CONTEXT_FULL).reason
            token = chain.sample(s.ctx)
            clock.sampled += 1
            if clock.first_token is None:
                clock.first_token = time.perf_counter()
            if forcer.phase is Phase.THINKING:
                if token in end_tokens:
                    self._flush(ThinkingText)
                    decision = forcer.end_requested()
                    if isinstance(decision, InjectWait):
                        wait = s.tokenize(decision.text, special=False)[: decision.room]
                        emit(
                            WaitInjected(
                                text=self._text_of(wait),
                                at=forcer.wait_positions[-1],
                                index=forcer.waits,
                            )
                        )
                        self._force(chain, wait)
                        after = forcer.injected(len(wait))
                        if isinstance(after, CloseThinking):
                            self._close(chain, forcer, after, answer_open, suffix)
                    else:
                        self._close(chain, forcer, decision, answer_open, suffix)
                    continue
                text = self.decoder.decode(s.piece(token))
                if text:
                    emit(ThinkingText(text))
                decision_t = forcer.thought(1)
                s.eval((token,))
                if isinstance(decision_t, CloseThinking):
                    self._flush(ThinkingText)
                    self._close(chain, forcer, decision_t, answer_open, suffix)
            else:
                if token in end_tokens:
                    self._flush(AnswerText)
                    return forcer.answer_ended().reason
                text = self.decoder.decode(s.piece(token))
                if text:
                    emit(AnswerText(text))
                decision_a = forcer.answered(1)
                if isinstance(decision_a, Finish):
                    self._flush(AnswerText)
                    return decision_a.reason
                s.eval((token,))

    def _force(self, chain: SamplerChain, tokens: Sequence[int]) -> None:
        self.session.eval(tokens)
        chain.accept(tokens)

    def _close(
        self,
        chain: SamplerChain,
        forcer: BudgetForcer,
        decision: CloseThinking,
        answer_open: list[int],
        suffix: list[int],
    ) -> None:
        forced = answer_open + (suffix if decision.suffix else [])
        self._force(chain, forced)
        self.clock.thinking_end = time.perf_counter()
        self.decoder = _decoder()
        self.emit(ThinkingEnd(reason=decision.reason, thinking_tokens=forcer.thinking_tokens))
        if decision.suffix:
            self.emit(AnswerText(decision.suffix))

    def _flush(self, kind: type[ThinkingText] | type[AnswerText]) -> None:
        rest = self.decoder.decode(b"", final=True)
        self.decoder = _decoder()
        if rest:
            self.emit(kind(rest))

    def _text_of(self, tokens: Sequence[int]) -> str:
        return b"".join(self.session.piece(t) for t in tokens).decode("utf-8", errors="replace")

    def _finish(
        self, forcer: BudgetForcer, reason: FinishReason, prompt_tokens: int, evaluated: int
    ) -> None:
        now = time.perf_counter()
        c = self.clock
        decode_s = max(now - c.decode_start, 1e-9)
        thinking_end = c.thinking_end if c.thinking_end is not None else now
        self.emit(
            Stats(
                prompt_tokens=prompt_tokens,
                cached_prompt_tokens=prompt_tokens - evaluated,
                thinking_tokens=forcer.thinking_tokens,
                answer_tokens=forcer.answer_tokens,
                waits=forcer.waits,
                time_to_first_token_s=(c.first_token or now) - c.start,
                thinking_s=max(thinking_end - c.decode_start, 0.0),
                total_s=now - c.start,
                tokens_per_second=c.sampled / decode_s,
                evaluated_tokens=self.session.evaluated - self.evaluated_before,
            )
        )
        self.emit(Done(reason=reason))
