"""One loaded llama.cpp model and context, used from one thread at a time."""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from typing import Any

import llama_cpp
import numpy as np

from s1desk.backends.cpu_meter import CpuMeter
from s1desk.backends.llama_sequences import sequence_context_params
from s1desk.backends.local_config import LocalModelConfig, default_threads, usable_cores
from s1desk.backends.step_guard import StepGuard
from s1desk.backends.thread_tuner import ThreadTuner, candidate_threads
from s1desk.errors import ModelLoadError
from s1desk.models.gguf import read_gguf
from s1desk.models.hardware import gpu_offload_supported
from s1desk.sampling import SamplerSettings
from s1desk.thinking.format import PromptPart

log = logging.getLogger(__name__)

_DEFAULT_SEED = 0xFFFFFFFF  # llama.cpp's LLAMA_DEFAULT_SEED: a random seed
_KV_GGML_TYPES = {
    "f16": llama_cpp.GGML_TYPE_F16,
    "q8_0": llama_cpp.GGML_TYPE_Q8_0,
    "q4_0": llama_cpp.GGML_TYPE_Q4_0,
}


# ggml's log levels: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5 (continues the last line).
_WARN, _ERROR, _CONT = 3, 4, 5
_LLAMA_LOG_LEVELS = {
    0: logging.CRITICAL,
    1: logging.DEBUG,
    2: logging.DEBUG,
    _WARN: logging.INFO,
    _ERROR: logging.INFO,
}
_llama_log = logging.getLogger("s1desk.llama_cpp")
#: Stopped attempts of one step before it is left to run without a limit.
_MAX_STOPS = 2
#: The last warnings and errors llama.cpp reported, to explain a failed load.
_recent: collections.deque[tuple[int, str]] = collections.deque(maxlen=8)
_last_level = 0


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
def _route_llama_log(level: int, text: bytes, _user_data: Any) -> None:
    """Send llama.cpp's own messages to Python logging instead of stderr."""
    global _last_level
    message = text.decode("utf-8", errors="replace").rstrip()
    if level == _CONT:
        level = _last_level
        if message and _recent and level in (_WARN, _ERROR):
            last_level, last = _recent[-1]
            _recent[-1] = (last_level, last + " " + message.strip())
            return
    _last_level = level
    if message and level in (_WARN, _ERROR):
        _recent.append((level, message))
    if message:
        # Errors are logged at info level at most: an aborted decode (Stop during
        # prompt evaluation) is reported by llama.cpp as an error and is expected.
        _llama_log.log(_LLAMA_LOG_LEVELS.get(level, logging.DEBUG), message)


def load_failure_detail() -> str:
    """What llama.cpp said about a failed load: its errors, else its warnings."""
    errors = [m for level, m in _recent if level == _ERROR]
    return "; ".join(errors or [m for _, m in _recent][-2:])


llama_cpp.llama_log_set(_route_llama_log, None)


@contextlib.contextmanager
def _model_params(*, extra_buffers: bool) -> Iterator[None]:
    """Load models with llama.cpp's extra buffer types on or off.

    ``Llama`` takes no argument for ``use_extra_bufts`` (the weight-repacking and
    AMX buffer types), so its defaults are adjusted while it is built. This runs
    in the engine process, which loads one model at a time on one thread.
    """
    original = llama_cpp.llama_cpp.llama_model_default_params

    def params() -> Any:
        value = original()
        value.use_extra_bufts = extra_buffers
        return value

    llama_cpp.llama_cpp.llama_model_default_params = params
    try:
        yield
    finally:
        llama_cpp.llama_cpp.llama_model_default_params = original


class SamplerChain:
    """A llama.cpp sampler chain kept for a whole generation (penalties keep history).

    Plain greedy decoding (no repeat penalty) given the context runs as llama.cpp's
    backend sampler: the argmax is part of the decode (on the GPU when the model is
    there), so no logits cross to the host and no Python looks at 152k of them. Where
    the backend sampler is refused, or a decode left no sampled token, the first
    highest logit is read straight off the logits, as llama.cpp's greedy sampler picks it.
    """

    def __init__(self, settings: SamplerSettings, n_vocab: int, ctx: Any = None) -> None:
        self._n_vocab = n_vocab
        self._argmax = settings.greedy and settings.repeat_penalty == 1.0
        self._ctx: Any = None
        self._backend: Any = None
        if self._argmax and ctx is not None:
            self._attach(ctx)
        params = llama_cpp.llama_sampler_chain_default_params()
        self._chain: Any = llama_cpp.llama_sampler_chain_init(params)
        add = llama_cpp.llama_sampler_chain_add
        if settings.repeat_penalty != 1.0:
            add(
                self._chain,
                llama_cpp.llama_sampler_init_penalties(
                    n_vocab, settings.repeat_last_n, settings.repeat_penalty, 0.0, 0.0
                ),
            )
        if settings.greedy:
            add(self._chain, llama_cpp.llama_sampler_init_greedy())
        else:
            if settings.top_k > 0:
                add(self._chain, llama_cpp.llama_sampler_init_top_k(settings.top_k))
            if settings.top_p < 1.0:
                add(self._chain, llama_cpp.llama_sampler_init_top_p(settings.top_p, 1))
            if settings.min_p > 0.0:
                add(self._chain, llama_cpp.llama_sampler_init_min_p(settings.min_p, 1))
            add(self._chain, llama_cpp.llama_sampler_init_temp(settings.temperature))
            seed = _DEFAULT_SEED if settings.seed is None else settings.seed & 0xFFFFFFFF
            add(self._chain, llama_cpp.llama_sampler_init_dist(seed))

    def _attach(self, ctx: Any) -> None:
        """Put a greedy chain on sequence 0's decodes (a fresh one: llama.cpp sets a chain
        up for the backend once)."""
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
        if llama_cpp.llama_set_sampler(ctx, 0, chain):
            self._ctx, self._backend = ctx, chain
        else:
            log.info("llama.cpp refused the backend sampler; greedy reads the logits")
            llama_cpp.llama_sampler_free(chain)

    def sample(self, ctx: Any) -> int:
        """Pick the next token from the logits of the last decoded position."""
        if self._argmax:
            if self._backend is not None:
                token = int(llama_cpp.llama_get_sampled_token_ith(ctx, -1))
                if token >= 0:
                    return token
            logits = llama_cpp.llama_get_logits_ith(ctx, -1)
            return int(np.argmax(np.ctypeslib.as_array(logits, shape=(self._n_vocab,))))
        return int(llama_cpp.llama_sampler_sample(self._chain, ctx, -1))

    def accept(self, tokens: Sequence[int]) -> None:
        """Tell the chain about tokens that were forced, not sampled."""
        for token in tokens:
            llama_cpp.llama_sampler_accept(self._chain, token)

    def close(self) -> None:
        if self._backend is not None:
            llama_cpp.llama_set_sampler(self._ctx, 0, None)
            llama_cpp.llama_sampler_free(self._backend)
            self._ctx = self._backend = None
        if self._chain is not None:
            llama_cpp.llama_sampler_free(self._chain)
            self._chain = None


class LlamaSession:
    """A model, its context and the token history mirrored in the KV cache.

    Not thread-safe: the local backend calls it from its single worker thread.
    """

    def __init__(self, config: LocalModelConfig) -> None:
        info = read_gguf(config.path)
        n_gpu_layers = config.n_gpu_layers if gpu_offload_supported() else 0
        #: What other programs leave free, for the tuner (measured per generation).
        self.meter = CpuMeter()
        self.tuner = (
            None
            if config.n_threads
            else ThreadTuner(candidate_threads(usable_cores()), ceiling=self.meter.free_cores)
        )
        threads = config.n_threads or (self.tuner.current if self.tuner else default_threads())
        threads_batch = config.n_threads_batch or default_threads()
        self.config = config
        self.info = info
        self.gpu_layers = n_gpu_layers
        self.threads = threads
        self.threads_batch = threads_batch
        #: The (decode, batch) counts llama.cpp was last given.
        self._applied = (threads, threads_batch)
        #: Tokens llama.cpp has evaluated (decoded) in this session.
        self.evaluated = 0
        _recent.clear()
        try:
            with (
                _model_params(extra_buffers=config.extra_buffers is not False),
                sequence_context_params(),
            ):
                self.llama = llama_cpp.Llama(
                    model_path=str(config.path),
                    n_ctx=config.n_ctx,
                    n_gpu_layers=n_gpu_layers,
                    n_threads=threads,
                    n_threads_batch=threads_batch,
                    n_batch=config.n_batch,
                    flash_attn=config.flash_attn,
                    type_k=_KV_GGML_TYPES[config.kv_type],
                    type_v=_KV_GGML_TYPES[config.kv_type],
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            detail = load_failure_detail() or str(exc)
            raise ModelLoadError(
                f"llama.cpp could not load {config.path.name} ({info.architecture}, "
                f"{info.quantization}): {detail}. The file may be damaged, or need a newer "
                "llama.cpp."
            ) from exc
        self.ctx: Any = self.llama.ctx
        self.n_ctx: int = self.llama.n_ctx()
        self.n_vocab: int = self.llama.n_vocab()
        #: Sequences the context can decode together (batched samples).
        self.n_seq_max: int = int(llama_cpp.llama_n_seq_max(self.ctx))
        self._pieces: dict[int, bytes] = {}
        #: The one-token batch decoding reuses (sequence 0, logits on).
        self._one: Any = llama_cpp.llama_batch_init(1, 0, 1)
        self._one.n_tokens = 1
        self._one.n_seq_id[0] = 1
        self._one.seq_id[0][0] = 0
        self._one.logits[0] = True
        self._abort = threading.Event()
        self._abort_cb: Any = llama_cpp.ggml_abort_callback(self._should_abort)
        #: Stops a decoding step that runs far past its time (a thread too many beside a
        #: busy program), so the tuner can redo it with fewer threads.
        self._guard = StepGuard(self.ctx)
        self._guard.install()
        #: Seconds of steps stopped and redone since the last report to the tuner.
        self._lost = 0.0
        #: Steps stopped at their deadline and redone, in this session.
        self.overruns = 0
        vocab = llama_cpp.llama_model_get_vocab(self.llama.model)
        self.eog_tokens = frozenset(
            t for t in range(self.n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, t)
        )
        self.im_start = self.single_token("<|im_start|>")
        #: The text of the BOS and EOS tokens (chat templates write them).
        self.bos_text = self._special_text(self.llama.token_bos())
        self.eos_text = self._special_text(self.llama.token_eos())

    # -- tokens ---------------------------------------------------------

    def tokenize(self, text: str, *, first: bool = False, special: bool = True) -> list[int]:
        """Tokens of ``text``; ``special`` parses control tokens, ``first`` may add a BOS.

        Only the format's own markup is tokenized with ``special``: text from a
        person, a file or the model stays text, whatever it spells.
        """
        return list(self.llama.tokenize(text.encode("utf-8"), add_bos=first, special=special))

    def tokenize_plain(
        self, text: str, control_ids: Collection[int] = (), *, first: bool = False
    ) -> list[int]:
        """Tokens of text from a person or the model: never one of ``control_ids``.

        Without special-token parsing llama.cpp still matches a vocabulary's
        user-defined tokens (``</think>`` in Qwen3's) in plain text; where that
        happens the text is tokenized in pieces cut after every ``<``.
        """
        tokens = self.tokenize(text, first=first, special=False)
        if not control_ids or not set(tokens) & set(control_ids):
            return tokens
        pieces = text.split("<")
        tokens = []
        for i, piece in enumerate(pieces):
            chunk = piece + ("<" if i < len(pieces) - 1 else "")
            if chunk:
                tokens += self.tokenize(chunk, first=first and not tokens, special=False)
        return tokens

    def tokenize_parts(
        self, parts: Sequence[PromptPart], control_ids: Collection[int] = ()
    ) -> list[int]:
        """The tokens of a rendered prompt: control tokens only where the format put them."""
        tokens: list[int] = []
        for i, part in enumerate(parts):
            if part.control:
                tokens += self.tokenize(part.text, first=i == 0)
            else:
                tokens += self.tokenize_plain(part.text, control_ids, first=i == 0)
        return tokens

    def _special_text(self, token: int) -> str:
        if not 0 <= token < self.n_vocab:
            return ""
        return bytes(self.llama.detokenize([token], special=True)).decode("utf-8", "replace")

    def single_token(self, text: str) -> int | None:
        tokens = self.tokenize(text)
        return tokens[0] if len(tokens) == 1 else None

    def piece(self, token: int) -> bytes:
        """The bytes of one token (special tokens render as empty)."""
        cached = self._pieces.get(token)
        if cached is None:
            cached = bytes(self.llama.detokenize([token], special=False))
            self._pieces[token] = cached
        return cached

    # -- the KV cache ---------------------------------------------------

    @property
    def n_past(self) -> int:
        return int(self.llama.n_tokens)

    def cached_tokens(self) -> list[int]:
        return [int(t) for t in self.llama.input_ids[: self.llama.n_tokens]]

    def prefill(self, tokens: Sequence[int], cancelled: threading.Event) -> int:
        """Make the cache hold exactly ``tokens``, reusing the longest common prefix.

        Returns how many tokens were evaluated. The last token is always
        evaluated so that fresh logits exist. A set ``cancelled`` aborts a long
        evaluation between compute steps; the cache is then cleared.
        """
        cached = self.llama.input_ids[: self.llama.n_tokens]
        keep = 0
        limit = min(len(cached), len(tokens) - 1)
        while keep < limit and cached[keep] == tokens[keep]:
            keep += 1
        if keep < self.llama.n_tokens and not self._truncate(keep):
            keep = 0
        todo = list(tokens[keep:])
        self._abort = cancelled
        llama_cpp.llama_set_abort_callback(self.ctx, self._abort_cb, None)
        try:
            self.llama.eval(todo)
            self.evaluated += len(todo)
        except RuntimeError:
            self.reset()
            if cancelled.is_set():
                return 0
            raise
        finally:
            self._guard.install()
        return len(todo)

    def eval(self, tokens: Sequence[int]) -> None:
        """Append ``tokens`` on top of the cache (no re-evaluation of what is there)."""
        if len(tokens) == 1:
            self._eval_one(tokens[0])
        else:
            self.llama.eval(tokens)
        self.evaluated += len(tokens)

    def _eval_one(self, token: int) -> None:
        """One decoding step, without llama-cpp-python's per-call batch building: the
        cache holds exactly ``n_past`` positions (every cut goes through :meth:`_truncate`)."""
        n = int(self.llama.n_tokens)
        self._one.token[0] = token
        self._one.pos[0] = n
        tuner, guard = self.tuner, self._guard
        for attempt in range(_MAX_STOPS + 1):
            # After a few stopped attempts the step runs to its end, whatever it takes.
            limit = tuner.step_limit() if tuner is not None and attempt < _MAX_STOPS else None
            guard.expect(limit)
            start = time.perf_counter() if limit is not None else 0.0
            code = int(llama_cpp.llama_decode(self.ctx, self._one))
            if not (guard.done() and code == 2 and tuner is not None):
                break
            # Stopped at its deadline (llama.cpp removed the position): fewer threads.
            lost = time.perf_counter() - start
            self._lost += lost
            self.overruns += 1
            threads = tuner.overran(lost)
            if threads is not None:
                self.set_threads(threads)
        if code != 0:
            raise RuntimeError(f"llama_decode returned {code}")
        self.llama.input_ids[n] = token
        self.llama.n_tokens = n + 1

    def generation_started(self) -> None:
        """A request begins: the tuner's view of other programs starts afresh."""
        self.meter.start()

    def tuned_step(self, seconds: float) -> None:
        """Report one decoding step's duration; the tuner may change the thread count."""
        if self.tuner is not None:
            seconds, self._lost = max(0.0, seconds - self._lost), 0.0
            threads = self.tuner.step(seconds)
            if threads is not None:
                self.threads = threads
            self.apply_threads()

    def set_threads(self, threads: int) -> None:
        """Decode with ``threads`` from the next token on."""
        self.threads = threads
        self.apply_threads()

    def batch_threads(self) -> int:
        """Threads for evaluations of several tokens (a prompt, forced text): the configured
        count, but with automatic threads no more than the tuner last settled on for
        decoding: beside a busy program a forced close on 2 threads took 7 s here."""
        settled = self.tuner.settled if self.tuner is not None else None
        if settled is None or self.config.n_threads_batch:
            return self.threads_batch
        return min(self.threads_batch, settled)

    def apply_threads(self, batch: int | None = None) -> None:
        """Give llama.cpp the decode count and ``batch`` (default :meth:`batch_threads`)."""
        wanted = (self.threads, batch or self.batch_threads())
        if wanted != self._applied:
            llama_cpp.llama_set_n_threads(self.ctx, *wanted)
            self._applied = wanted

    def reset(self) -> None:
        self._truncate(0)

    def _truncate(self, n: int) -> bool:
        ok = bool(self.llama._ctx.kv_cache_seq_rm(-1, n, -1))
        if n == 0 or not ok:
            memory = llama_cpp.llama_get_memory(self.ctx)
            if memory is not None:
                llama_cpp.llama_memory_clear(memory, True)
            self.llama.n_tokens = 0
            return n == 0
        self.llama.n_tokens = n
        return True

    def _should_abort(self, _data: Any) -> bool:
        return self._abort.is_set()

    # -- lifetime -------------------------------------------------------

    def close(self) -> None:
        self._guard.close()
        if self._one is not None:
            llama_cpp.llama_batch_free(self._one)
            self._one = None
        with contextlib.suppress(Exception):
            self.llama.close()
