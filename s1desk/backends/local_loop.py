"""The token-by-token budget-forcing loop on llama.cpp (runs in the engine process)."""

from __future__ import annotations

import codecs
import threading
import time
import weakref
from collections.abc import Callable, Sequence

from s1desk.backends.base import GenerationRequest
from s1desk.backends.driver import Driver
from s1desk.backends.llama_session import LlamaSession, SamplerChain
from s1desk.backends.local_format import ModelPrompting, model_prompting
from s1desk.events import AnswerText, StreamEvent, ThinkingText
from s1desk.thinking.machine import (
    CloseThinking,
    Finish,
    FinishReason,
    InjectWait,
    Phase,
)
from s1desk.thinking.markers import MarkerScanner
from s1desk.thinking.policy import CapLanding
from s1desk.thinking.sentences import ends_sentence

Emit = Callable[[StreamEvent], None]

#: Each loaded model's prompting, worked out at its first request.
_PROMPTING: weakref.WeakKeyDictionary[LlamaSession, ModelPrompting] = weakref.WeakKeyDictionary()


def _decoder() -> codecs.IncrementalDecoder:
    return codecs.getincrementaldecoder("utf-8")(errors="replace")


def session_prompting(session: LlamaSession) -> ModelPrompting:
    """The format the session's model speaks (as configured, or detected), and its template."""
    cached = _PROMPTING.get(session)
    if cached is not None:
        return cached
    prompting = model_prompting(
        session.config.thinking_format,
        session.info.metadata,
        session.config.path.name,
        session,
        bos_token=session.bos_text,
        eos_token=session.eos_text,
    )
    _PROMPTING[session] = prompting
    return prompting


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
        self.prompting = session_prompting(session)
        fmt = self.prompting.format
        self.driver = Driver(emit, fmt)
        self.evaluated_before = session.evaluated
        self.decoder = _decoder()
        think_ids, think_texts = self._markers(fmt.end_markers)
        answer_ids, _ = self._markers(fmt.answer_end_markers)
        self.think_end = session.eog_tokens | think_ids
        self.answer_end = session.eog_tokens | answer_ids
        #: Ids plain text must never produce (the format's single-token markers).
        self.control_ids = think_ids | answer_ids
        self.scanner = MarkerScanner(think_texts)

    def _markers(self, markers: Sequence[str]) -> tuple[frozenset[int], list[str]]:
        """Markers that are one token in this vocabulary (as ids), and the others (as text)."""
        ids: set[int] = set()
        texts: list[str] = []
        for marker in markers:
            token = self.session.single_token(marker)
            if token is None:
                texts.append(marker)
            else:
                ids.add(token)
        return frozenset(ids), texts

    def _plain(self, text: str) -> list[int]:
        return self.session.tokenize_plain(text, self.control_ids) if text else []

    def run(self) -> None:
        s = self.session
        request = self.request
        fmt = self.prompting.format
        parts = self.prompting.render(request.history, request.question, request.system_prompt)
        base = s.tokenize_parts(parts, self.control_ids)
        opening = s.tokenize(fmt.think_open)
        closing = s.tokenize(fmt.think_close)
        policy = request.policy
        suffix = self._plain(policy.cap_suffix)
        lead = self._plain(policy.wrap_up_text) if policy.landing is CapLanding.WRAP_UP else []
        self.closing, self.suffix = closing, suffix
        first = self.driver.start(
            policy, len(base) + len(opening), len(closing) + len(suffix) + len(lead), s.n_ctx
        )
        prompt = base + (
            s.tokenize(fmt.no_think_open) if isinstance(first, CloseThinking) else opening
        )
        s.generation_started()
        # Made before the prompt is evaluated: a backend sampler picks from that decode too.
        chain = SamplerChain(request.sampler, s.n_vocab, s.ctx)
        try:
            evaluated = s.prefill(prompt, self.cancelled)
            self.driver.decoding()
            finish = self._loop(chain)
        finally:
            chain.close()
        self.driver.finish(
            finish,
            prompt_tokens=len(prompt),
            cached=len(prompt) - evaluated,
            evaluated=s.evaluated - self.evaluated_before,
        )

    def _loop(self, chain: SamplerChain) -> FinishReason:
        s = self.session
        emit = self.emit
        forcer = self.driver.machine
        clock = self.driver.clock
        cancelled = self.cancelled
        scanner = self.scanner
        tune = s.tuned_step
        step_start = 0.0  # no step before the first
        while True:
            now = time.perf_counter()
            if step_start:
                tune(now - step_start)
            step_start = now
            if cancelled.is_set():
                return forcer.abort(FinishReason.CANCELLED).reason
            if s.n_past >= s.n_ctx:
                return forcer.abort(FinishReason.CONTEXT_FULL).reason
            token = chain.sample(s.ctx)
            clock.sampled()
            if forcer.phase is Phase.THINKING:
                if token in self.think_end:
                    self._flush(ThinkingText, scanner.flush())
                    self._end_requested(chain)
                    continue
                text = self.decoder.decode(s.piece(token))
                scan = scanner.feed(text)
                if scan.shown:
                    emit(ThinkingText(scan.shown))
                if scan.found:
                    # The marker's last token is not in the cache; the ones before it are.
                    self.decoder = _decoder()
                    self._end_requested(chain, scan.rewind - 1, scan.keep)
                    continue
                decision_t = forcer.thought(1, sentence_end=ends_sentence(text))
                s.eval((token,))
                if isinstance(decision_t, CloseThinking):
                    held = scanner.drop()
                    self._flush(ThinkingText)
                    self._close(chain, decision_t, held.rewind, held.keep)
            else:
                if token in self.answer_end:
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

    def _end_requested(self, chain: SamplerChain, rewind: int = 0, keep: str = "") -> None:
        """The model asked to end thinking; ``rewind`` cached tokens held its marker."""
        forcer = self.driver.machine
        decision = forcer.end_requested()
        if isinstance(decision, InjectWait):
            wait = self.session.tokenize(decision.text, special=False)[: decision.room]
            self.driver.waited(self._text_of(wait))
            self._force(chain, wait, rewind, keep)
            after = forcer.injected(len(wait))
            if isinstance(after, CloseThinking):
                self._close(chain, after)
        else:
            self._close(chain, decision, rewind, keep)

    def _force(
        self, chain: SamplerChain, tokens: Sequence[int], rewind: int = 0, keep: str = ""
    ) -> None:
        """Put ``tokens`` on the cache, after taking ``rewind`` tokens off and ``keep`` back on."""
        s = self.session
        if rewind or keep:
            cached = s.cached_tokens()
            s.prefill(
                cached[: len(cached) - rewind] + self._plain(keep) + list(tokens), self.cancelled
            )
        else:
            s.eval(tokens)
        chain.accept(tokens)

    def _close(
        self, chain: SamplerChain, decision: CloseThinking, rewind: int = 0, keep: str = ""
    ) -> None:
        lead = self._plain(decision.lead)
        forced = lead + self.closing + (self.suffix if decision.suffix else [])
        self._force(chain, forced, rewind, keep)
        self.decoder = _decoder()
        self.driver.closed(decision, len(lead))

    def _flush(self, kind: type[ThinkingText] | type[AnswerText], held: str = "") -> None:
        rest = held + self.decoder.decode(b"", final=True)
        self.decoder = _decoder()
        if rest:
            self.emit(kind(rest))

    def _text_of(self, tokens: Sequence[int]) -> str:
        return b"".join(self.session.piece(t) for t in tokens).decode("utf-8", errors="replace")
