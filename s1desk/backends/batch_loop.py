"""Several samples of one request decoded together: one llama.cpp batch per step.

The prompt is evaluated once on sequence 0 and copied to the others
(``llama_memory_seq_cp``); each step then decodes one token per live sequence
in a single ``llama_decode``. Every sequence has its own sampler chain (its own
seed) and its own :class:`BudgetForcer`, so a Wait or a cut on one of them is
just more tokens for that sequence in the next batch; a finished sequence
drops out. Each sequence reports through its own :class:`Driver`, as a single
generation does. Runs in the engine process, on its one worker thread.
"""

from __future__ import annotations

import codecs
import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import llama_cpp

from s1desk.backends.base import GenerationRequest
from s1desk.backends.driver import ANSWER_RESERVE, Driver, fit_policy
from s1desk.backends.llama_batch import BatchSampler, TokenBatch
from s1desk.backends.llama_session import LlamaSession
from s1desk.errors import ContextOverflowError, S1DeskError
from s1desk.events import (
    AnswerText,
    BudgetAdjusted,
    Done,
    ErrorEvent,
    StreamEvent,
    ThinkingText,
)
from s1desk.sampling import SamplerSettings
from s1desk.thinking.format import ANSWER_OPEN, THINK_OPEN, render_prompt_parts
from s1desk.thinking.formats import FormatName, thinking_format
from s1desk.thinking.machine import (
    BudgetForcer,
    CloseThinking,
    Finish,
    FinishReason,
    InjectWait,
    Phase,
)
from s1desk.thinking.policy import BudgetPolicy, CapLanding
from s1desk.thinking.sentences import ends_sentence

log = logging.getLogger(__name__)

#: ``emit(sequence, event)``
EmitSample = Callable[[int, StreamEvent], None]


def _decoder() -> codecs.IncrementalDecoder:
    return codecs.getincrementaldecoder("utf-8")(errors="replace")


@dataclass(slots=True)
class _Sequence:
    """One sample in the batch: its sampler, budget forcing, text decoder and place."""

    index: int
    chain: BatchSampler
    #: Its budget forcer, clock and reports.
    driver: Driver
    #: The position its next token takes (its length in the KV cache).
    pos: int
    #: Positions it may fill: its share of the context.
    limit: int
    #: Batch row holding its next logits; ``None`` while tokens wait to be decoded.
    logits: int | None = -1
    #: Tokens to decode for it in the next batch.
    pending: list[int] = field(default_factory=list)
    decoder: codecs.IncrementalDecoder = field(default_factory=_decoder)
    finished: bool = False
    decoded: int = 0

    @property
    def forcer(self) -> BudgetForcer:
        return self.driver.machine


def _need(policy: BudgetPolicy, overhead: int) -> int:
    """Positions one sequence may fill: its thinking, the forced delimiters, the least answer."""
    return policy.max_thinking + overhead + min(ANSWER_RESERVE, policy.max_answer)


def batch_room(policy: BudgetPolicy, prompt_len: int, overhead: int, n_ctx: int, count: int) -> int:
    """Positions each of ``count`` sequences gets; raises when their budgets do not fit.

    Each needs its thinking budget, the forced delimiters and the least answer
    room (as one sequence does in :func:`fit_policy`); the prompt is shared.
    """
    need = _need(policy, overhead)
    share = (n_ctx - prompt_len) // count
    if share < need:
        fits = max((n_ctx - prompt_len) // need, 1)
        total = prompt_len + count * need
        raise ContextOverflowError(
            f"{count} samples decoded together need {total:,} tokens of context (the "
            f"{prompt_len:,}-token prompt once, then {need:,} per sample: "
            f"{policy.max_thinking:,} thinking, {overhead} of delimiters and at least "
            f"{min(ANSWER_RESERVE, policy.max_answer):,} of answer); the context holds "
            f"{n_ctx:,}. Decode at most {fits} together (--parallel {fits}), lower the budget, "
            f"or load the model with a larger context (--ctx {total})."
        )
    return share


@dataclass(frozen=True, slots=True)
class _Prompt:
    """A request's prompt and forced pieces, tokenized, with its budget fitted to the context."""

    base: list[int]
    opening: list[int]
    answer_open: list[int]
    suffix: list[int]
    #: The wrap-up message forced before the delimiter (``wrap-up`` landing only).
    lead: list[int]
    policy: BudgetPolicy
    adjusted: BudgetAdjusted | None

    @classmethod
    def of(cls, s: LlamaSession, req: GenerationRequest) -> _Prompt:
        base = s.tokenize_parts(render_prompt_parts(req.history, req.question, req.system_prompt))
        answer_open = s.tokenize(ANSWER_OPEN)
        suffix = s.tokenize(req.policy.cap_suffix, special=False) if req.policy.cap_suffix else []
        opening = s.tokenize(THINK_OPEN)
        wraps = req.policy.landing is CapLanding.WRAP_UP and req.policy.wrap_up_text
        lead = s.tokenize(req.policy.wrap_up_text, special=False) if wraps else []
        overhead = len(answer_open) + len(suffix) + len(lead)
        policy, adjusted = fit_policy(req.policy, len(base) + len(opening), overhead, s.n_ctx)
        return cls(base, opening, answer_open, suffix, lead, policy, adjusted)

    @property
    def overhead(self) -> int:
        return len(self.answer_open) + len(self.suffix) + len(self.lead)

    @property
    def thinking_prompt_len(self) -> int:
        return len(self.base) + len(self.opening)


def most_together(session: LlamaSession, request: GenerationRequest) -> int:
    """How many samples of ``request`` fit the context together (at least 1)."""
    p = _Prompt.of(session, request)
    fits = (session.n_ctx - p.thinking_prompt_len) // _need(p.policy, p.overhead)
    return max(1, min(fits, session.n_seq_max))


def run_samples(
    session: LlamaSession,
    request: GenerationRequest,
    samplers: Sequence[SamplerSettings],
    emit: EmitSample,
    cancelled: threading.Event,
    *,
    fit: bool,
) -> None:
    """Decode the samples together; with ``fit``, in as few groups as the context allows.

    Without ``fit``, samples that do not fit together end with a clear error.
    """
    try:
        size = most_together(session, request) if fit else len(samplers)
    except S1DeskError as exc:
        for i in range(len(samplers)):
            emit(i, ErrorEvent(message=str(exc), kind=type(exc).__name__))
        return
    size = max(1, size)
    for start in range(0, len(samplers), size):

        def shifted(i: int, event: StreamEvent, start: int = start) -> None:
            emit(start + i, event)

        group = samplers[start : start + size]
        if start and cancelled.is_set():
            for i in range(len(group)):
                shifted(i, Done(reason=FinishReason.CANCELLED))
            continue
        BatchGeneration(session, request, group, shifted, cancelled).run()


class BatchGeneration:
    """The samples of one request, decoded together; call :meth:`run` once."""

    def __init__(
        self,
        session: LlamaSession,
        request: GenerationRequest,
        samplers: Sequence[SamplerSettings],
        emit: EmitSample,
        cancelled: threading.Event,
    ) -> None:
        self.session = session
        self.request = request
        self.samplers = list(samplers)
        self.emit = emit
        self.cancelled = cancelled
        s1 = thinking_format(FormatName.S1)
        self.drivers = [Driver(functools.partial(emit, i), s1) for i in range(len(samplers))]
        self.end_tokens = session.eog_tokens | (
            {session.im_start} if session.im_start is not None else set()
        )
        self.sequences: list[_Sequence] = []
        self._wait_tokens: list[int] = []
        self._lead: list[int] = []
        self.prompt_len = 0
        self.prompt_evaluated = 0

    # -- setup ------------------------------------------------------------

    def run(self) -> None:
        """Decode every sample to its end; errors end the unfinished ones with ``ErrorEvent``."""
        try:
            self._run()
        except S1DeskError as exc:
            self._fail(str(exc), type(exc).__name__)
        except Exception as exc:
            log.exception("batched generation failed")
            self._fail(f"Generation failed: {exc}", "internal")

    def _fail(self, message: str, kind: str) -> None:
        done = {s.index for s in self.sequences if s.finished}
        for i in range(len(self.samplers)):
            if i not in done:
                self.emit(i, ErrorEvent(message=message, kind=kind))

    def _run(self) -> None:
        s = self.session
        if len(self.samplers) > s.n_seq_max:
            raise S1DeskError(
                f"{len(self.samplers)} samples cannot decode together: this engine's context "
                f"holds at most {s.n_seq_max} sequences."
            )
        p = _Prompt.of(s, self.request)
        base, opening, answer_open, suffix = p.base, p.opening, p.answer_open, p.suffix
        policy, adjusted = p.policy, p.adjusted
        count = len(self.samplers)
        share = batch_room(policy, p.thinking_prompt_len, p.overhead, s.n_ctx, count)
        self._wait_tokens = s.tokenize(policy.wait_text, special=False) if policy.wait_text else []
        self._lead = p.lead
        firsts = [d.start_fitted(policy) for d in self.drivers]
        closed_at_once = isinstance(firsts[0], CloseThinking)
        prompt = base + (answer_open if closed_at_once else opening)
        if adjusted is not None:
            for i in range(count):
                self.emit(i, adjusted)
        self.prompt_len = len(prompt)
        self.prompt_evaluated = s.prefill(prompt, self.cancelled)
        memory = llama_cpp.llama_get_memory(s.ctx)
        chains: list[BatchSampler] = []
        batch = TokenBatch(self._capacity(count, answer_open, suffix))
        try:
            for i in range(1, count):
                llama_cpp.llama_memory_seq_rm(memory, i, -1, -1)
                llama_cpp.llama_memory_seq_cp(memory, 0, i, -1, -1)
            for i, settings in enumerate(self.samplers):
                chains.append(BatchSampler(settings, s.n_vocab))
                self.sequences.append(
                    _Sequence(
                        index=i,
                        chain=chains[-1],
                        driver=self.drivers[i],
                        pos=len(prompt),
                        limit=len(prompt) + share,
                    )
                )
                self.drivers[i].decoding()
            self._loop(batch, answer_open, suffix)
        finally:
            for chain in chains:
                chain.close()
            batch.close()
            self._restore(memory, len(prompt), count)

    def _capacity(self, count: int, answer_open: list[int], suffix: list[int]) -> int:
        """Tokens one step may carry: a sampled token, a Wait and the closing delimiters each."""
        per_sequence = 1 + len(self._wait_tokens) + len(self._lead) + len(answer_open) + len(suffix)
        return max(min(count * per_sequence, self.session.llama.n_batch), per_sequence)

    def _restore(self, memory: object, prompt_len: int, count: int) -> None:
        """Leave the cache as one request would: the prompt on sequence 0, nothing else."""
        for i in range(1, count):
            llama_cpp.llama_memory_seq_rm(memory, i, -1, -1)
        n = min(int(self.session.llama.n_tokens), prompt_len)
        llama_cpp.llama_memory_seq_rm(memory, 0, n, -1)
        self.session.llama.n_tokens = n

    # -- the loop ---------------------------------------------------------

    def _loop(self, batch: TokenBatch, answer_open: list[int], suffix: list[int]) -> None:
        s = self.session
        ctx = s.ctx
        tuner = s.tuner
        s.generation_started()
        if tuner is not None:  # batches of several tokens use the tuned count too
            s.apply_threads(batch=s.threads)
        try:
            step_start = time.perf_counter()
            while True:
                live = [q for q in self.sequences if not q.finished]
                if not live:
                    return
                if self.cancelled.is_set():
                    for q in live:
                        self._end(q, q.forcer.abort(FinishReason.CANCELLED).reason)
                    return
                for q in live:
                    if q.logits is not None and not q.pending:
                        self._step(q, answer_open, suffix)
                batch.clear()
                for q in self.sequences:
                    if q.pending and not q.finished and len(q.pending) <= batch.room:
                        q.logits = batch.add(q.pending, q.index, q.pos)
                        q.pos += len(q.pending)
                        q.decoded += len(q.pending)
                        q.pending = []
                if batch.size:
                    batch.decode(ctx)
                    s.evaluated += batch.size
                now = time.perf_counter()
                if tuner is not None and batch.size:
                    threads = tuner.step(now - step_start)
                    if threads is not None:
                        s.threads = threads
                        s.apply_threads(batch=threads)
                step_start = now
        finally:
            if tuner is not None:
                s.apply_threads()

    def _step(self, q: _Sequence, answer_open: list[int], suffix: list[int]) -> None:
        """Sample sequence ``q``'s next token and decide; what to decode goes to ``q.pending``."""
        if q.pos >= q.limit:
            self._end(q, q.forcer.abort(FinishReason.CONTEXT_FULL).reason)
            return
        assert q.logits is not None
        token = q.chain.sample_at(self.session.ctx, q.logits)
        q.logits = None
        q.driver.clock.sampled()
        forcer = q.forcer
        emit = self.emit
        if forcer.phase is Phase.THINKING:
            if token in self.end_tokens:
                self._flush(q, ThinkingText)
                decision = forcer.end_requested()
                if isinstance(decision, InjectWait):
                    wait = self._wait_tokens[: decision.room]
                    q.driver.waited(self._text_of(wait))
                    self._force(q, wait)
                    after = forcer.injected(len(wait))
                    if isinstance(after, CloseThinking):
                        self._close(q, after, answer_open, suffix)
                else:
                    self._close(q, decision, answer_open, suffix)
                return
            text = q.decoder.decode(self.session.piece(token))
            if text:
                emit(q.index, ThinkingText(text))
            decision_t = forcer.thought(1, sentence_end=ends_sentence(text))
            q.pending.append(token)
            if isinstance(decision_t, CloseThinking):
                self._flush(q, ThinkingText)
                self._close(q, decision_t, answer_open, suffix)
            return
        if token in self.end_tokens:
            self._flush(q, AnswerText)
            self._end(q, forcer.answer_ended().reason)
            return
        text = q.decoder.decode(self.session.piece(token))
        if text:
            emit(q.index, AnswerText(text))
        decision_a = forcer.answered(1)
        if isinstance(decision_a, Finish):
            self._flush(q, AnswerText)
            self._end(q, decision_a.reason)
            return
        q.pending.append(token)

    def _force(self, q: _Sequence, tokens: list[int]) -> None:
        q.pending.extend(tokens)
        q.chain.accept(tokens)

    def _close(
        self, q: _Sequence, decision: CloseThinking, answer_open: list[int], suffix: list[int]
    ) -> None:
        lead = self._lead if decision.lead else []
        self._force(q, lead + answer_open + (suffix if decision.suffix else []))
        q.decoder = _decoder()
        q.driver.closed(decision, len(lead))

    def _flush(self, q: _Sequence, kind: type[ThinkingText] | type[AnswerText]) -> None:
        rest = q.decoder.decode(b"", final=True)
        q.decoder = _decoder()
        if rest:
            self.emit(q.index, kind(rest))

    def _text_of(self, tokens: Sequence[int]) -> str:
        return b"".join(self.session.piece(t) for t in tokens).decode("utf-8", errors="replace")

    def _end(self, q: _Sequence, reason: FinishReason) -> None:
        """Sequence ``q`` is over: it drops out of the batch; its Stats and Done go out now."""
        q.finished = True
        q.pending = []
        q.logits = None
        prompt_evaluated = self.prompt_evaluated if q.index == 0 else 0
        q.driver.finish(
            reason,
            prompt_tokens=self.prompt_len,
            cached=self.prompt_len - self.prompt_evaluated,
            evaluated=q.decoded + prompt_evaluated,
        )
