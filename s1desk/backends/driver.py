"""The generation driver both loops share: start-up, the Wait and close steps, clock, statistics.

The local loop (per token, in the engine process) and the remote loop (per
streamed segment) differ in how they get tokens and force text; everything
they report goes through one :class:`Driver`, so both emit the same events in
the same order with the same figures.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from s1desk.errors import ContextOverflowError, S1DeskError
from s1desk.events import (
    AnswerText,
    BudgetAdjusted,
    Done,
    ErrorEvent,
    Stats,
    StreamEvent,
    ThinkingEnd,
    ThinkingText,
    WaitInjected,
)
from s1desk.thinking.formats import ThinkingFormat
from s1desk.thinking.machine import (
    BudgetForcer,
    CloseReason,
    CloseThinking,
    FinishReason,
    Phase,
    Think,
)
from s1desk.thinking.policy import BudgetPolicy

Emit = Callable[[StreamEvent], None]

#: The least room for an answer kept free when a budget is fitted to the context.
ANSWER_RESERVE = 256
#: What a person can do when a local conversation does not fit.
LOCAL_REMEDY = "load the model with a larger context"
#: The same for a server.
REMOTE_REMEDY = "start the server with a larger context"


def fit_policy(
    policy: BudgetPolicy,
    prompt_len: int,
    overhead: int,
    n_ctx: int,
    remedy: str = LOCAL_REMEDY,
) -> tuple[BudgetPolicy, BudgetAdjusted | None]:
    """Lower the thinking budget so prompt + thinking + an answer fit ``n_ctx``.

    Raises :class:`ContextOverflowError` when even the prompt and the least
    answer do not fit; its message ends with ``remedy``.
    """
    reserve = min(ANSWER_RESERVE, policy.max_answer)
    room = n_ctx - prompt_len - overhead - reserve
    if room < 0:
        raise ContextOverflowError(
            f"The conversation is {prompt_len:,} tokens; with room for an answer it needs "
            f"{prompt_len + overhead + reserve:,}, more than the context of {n_ctx:,} tokens. "
            f"Start a new chat, shorten the message, or {remedy}."
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


def error_event(exc: BaseException, log: logging.Logger) -> ErrorEvent:
    """The event that ends a generation which raised ``exc`` (one wording everywhere)."""
    if isinstance(exc, S1DeskError):
        log.info("generation failed: %s", exc)
        return ErrorEvent(message=str(exc), kind=type(exc).__name__)
    log.error("generation failed", exc_info=exc)
    return ErrorEvent(message=f"Generation failed: {exc}", kind="internal")


@dataclass(slots=True)
class Clock:
    """When a generation started, decoded its first token and ended thinking."""

    start: float = field(default_factory=time.perf_counter)
    decode_start: float = 0.0
    first_token: float | None = None
    thinking_end: float | None = None
    #: Tokens the model produced (sampled locally, counted remotely).
    generated: int = 0
    #: Seconds spent waiting for tokens, where known (remote); else since decode_start.
    decode_s: float = 0.0

    def token_seen(self) -> None:
        if self.first_token is None:
            self.first_token = time.perf_counter()

    def sampled(self) -> None:
        """One token sampled (locally)."""
        self.generated += 1
        self.token_seen()


class Driver:
    """One generation's budget forcer, clock and reports."""

    def __init__(self, emit: Emit, fmt: ThinkingFormat) -> None:
        self.emit = emit
        self.format = fmt
        self.clock = Clock()
        self.forcer: BudgetForcer | None = None

    def start(
        self,
        policy: BudgetPolicy,
        prompt_len: int,
        overhead: int,
        n_ctx: int,
        remedy: str = LOCAL_REMEDY,
    ) -> Think | CloseThinking:
        """Fit the budget to the context and start the machine: think, or answer at once."""
        fitted, adjusted = fit_policy(policy, prompt_len, overhead, n_ctx, remedy)
        if adjusted is not None:
            self.emit(adjusted)
        return self.start_fitted(fitted)

    def start_fitted(self, policy: BudgetPolicy) -> Think | CloseThinking:
        """Start the machine on a budget already fitted to the context (samples decoded
        together fit theirs as a group)."""
        self.forcer = BudgetForcer(policy, delimiter=self.format.think_close)
        return self.forcer.start()

    def decoding(self) -> None:
        """The prompt is in; from now on tokens come. A zero budget reports its closed block."""
        clock = self.clock
        clock.decode_start = time.perf_counter()
        if self.machine.phase is Phase.ANSWERING:
            clock.thinking_end = clock.decode_start
            self.emit(ThinkingEnd(reason=CloseReason.NONE, thinking_tokens=0))

    @property
    def machine(self) -> BudgetForcer:
        if self.forcer is None:
            raise RuntimeError("the driver was not started")
        return self.forcer

    def waited(self, text: str) -> None:
        """An extension (``text``) replaces the end of thinking the model asked for."""
        forcer = self.machine
        self.emit(WaitInjected(text=text, at=forcer.wait_positions[-1], index=forcer.waits))

    def closed(self, decision: CloseThinking, lead_tokens: int = 0) -> None:
        """Thinking closed: the wrap-up message (``lead_tokens`` long) joined the reasoning."""
        forcer = self.machine
        if decision.lead:
            forcer.wrapped_up(lead_tokens)
            self.emit(ThinkingText(decision.lead))
        self.clock.thinking_end = time.perf_counter()
        self.emit(
            ThinkingEnd(
                reason=decision.reason,
                thinking_tokens=forcer.thinking_tokens,
                overshoot_tokens=forcer.overshoot,
            )
        )
        if decision.suffix:
            self.emit(AnswerText(decision.suffix))

    def finish(
        self, reason: FinishReason, prompt_tokens: int, cached: int, evaluated: int = 0
    ) -> None:
        """Emit the statistics and ``Done`` (also after a cancel)."""
        now = time.perf_counter()
        c = self.clock
        forcer = self.forcer
        if forcer is not None and forcer.phase is not Phase.FINISHED:
            reason = forcer.abort(reason).reason
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
                evaluated_tokens=evaluated,
                overshoot_tokens=forcer.overshoot if forcer else 0,
            )
        )
        self.emit(Done(reason=reason))
