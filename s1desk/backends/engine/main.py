"""The engine process itself: ``python -m s1desk.backends.engine.main READ_FD WRITE_FD``.

It loads one model with llama.cpp and runs requests one after another with the
token-level budget-forcing loop, so a decision per token never crosses the
process boundary. Commands arrive on ``READ_FD``; events leave on ``WRITE_FD``.
A reader thread takes commands as they come, so a Cancel reaches the running
generation between two tokens (or aborts a prompt evaluation). When the app
goes away (its end of the pipe closes) the engine stops what it does and exits.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import queue
import sys
import threading
import time

from s1desk.backends.engine.messages import (
    Cancel,
    Command,
    Event,
    Finished,
    Generate,
    GenerateSamples,
    Load,
    Loaded,
    LoadFailed,
    SampleEvent,
    Shutdown,
)
from s1desk.backends.engine.wire import WireClosedError, read_frame, write_frames
from s1desk.errors import S1DeskError
from s1desk.events import (
    BudgetAdjusted,
    Done,
    ErrorEvent,
    Stats,
    StreamEvent,
    ThinkingEnd,
    WaitInjected,
)
from s1desk.thinking.formats import FormatName
from s1desk.thinking.machine import FinishReason

log = logging.getLogger("s1desk.engine")

#: Tokens decoded at load time to prove the kernels run on this CPU and time them.
PROBE_TOKENS = 8
#: Events that come faster than this are written together (a fast GPU makes hundreds
#: of tokens a second; the app need not wake for each): at most one step late.
FLUSH_S = 1 / 60


class _Outbox:
    """Replies to the app: written at once, except events that follow the last write
    within :data:`FLUSH_S`, which wait for the next reply (a reply that ends something
    always writes everything held)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._held: list[object] = []
        self._last = 0.0

    def send(self, value: object, *, final: bool = True) -> None:
        self._held.append(value)
        now = time.perf_counter()
        if final or now - self._last >= FLUSH_S:
            write_frames(self._fd, self._held)
            self._held = []
            self._last = now


class _Inbox:
    """Commands from the app, read on their own thread; Cancel acts at once."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._queue: queue.Queue[Command | None] = queue.Queue()
        self._lock = threading.Lock()
        self._running: tuple[int, threading.Event] | None = None
        self._thread = threading.Thread(target=self._read, name="s1desk-engine-inbox", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                command = read_frame(self._fd)
            except WireClosedError:
                self._cancel_running()
                self._queue.put(None)
                return
            if isinstance(command, Cancel):
                with self._lock:
                    if self._running is not None and self._running[0] == command.request_id:
                        self._running[1].set()
                continue
            self._queue.put(command)

    def _cancel_running(self) -> None:
        with self._lock:
            if self._running is not None:
                self._running[1].set()

    def next(self) -> Command | None:
        return self._queue.get()

    def running(self, request_id: int) -> threading.Event:
        cancelled = threading.Event()
        with self._lock:
            self._running = (request_id, cancelled)
        return cancelled

    def idle(self) -> None:
        with self._lock:
            self._running = None


def _probe(session: object) -> float:
    """Decode a few tokens, so a kernel that faults on this CPU faults now, at load."""
    from s1desk.backends.llama_session import LlamaSession
    from s1desk.backends.local_config import default_threads

    assert isinstance(session, LlamaSession)
    tokens = session.tokenize("Hello, world. One two three four five", first=True)
    session.prefill(tokens, threading.Event())
    # Measured on the count a quiet machine settles on (the tuner's first look starts lower).
    threads = session.threads
    if session.tuner is not None:
        session.set_threads(default_threads())
    start = time.perf_counter()
    token = tokens[-1]
    for _ in range(PROBE_TOKENS):
        session.eval((token,))
    rate = PROBE_TOKENS / max(time.perf_counter() - start, 1e-9)
    session.set_threads(threads)
    session.reset()
    session.evaluated = 0
    return rate


#: Events after which a stream may go quiet for long (the app must see them at once).
_ENDS = (Done, ErrorEvent, WaitInjected, ThinkingEnd, BudgetAdjusted, Stats)


def serve(read_fd: int, write_fd: int) -> None:
    """Answer commands until Shutdown or until the app's end of the pipe closes."""
    from s1desk.backends.batch_loop import run_samples
    from s1desk.backends.driver import error_event
    from s1desk.backends.llama_session import LlamaSession
    from s1desk.backends.local_loop import LocalGeneration, session_prompting

    inbox = _Inbox(read_fd)
    outbox = _Outbox(write_fd)
    session: LlamaSession | None = None
    send = outbox.send

    try:
        while (command := inbox.next()) is not None:
            if isinstance(command, Shutdown):
                break
            if isinstance(command, Load):
                if session is not None:
                    session.close()
                    session = None
                try:
                    session = LlamaSession(command.config)
                    rate = _probe(session)
                    prompting = session_prompting(session)
                except S1DeskError as exc:
                    send(LoadFailed(message=str(exc), kind=type(exc).__name__))
                    continue
                send(
                    Loaded(
                        n_ctx=session.n_ctx,
                        n_vocab=session.n_vocab,
                        gpu_layers=session.gpu_layers,
                        threads=session.threads,
                        threads_batch=session.threads_batch,
                        extra_buffers=command.config.extra_buffers is not False,
                        probe_tokens_per_second=rate,
                        thinking_format=prompting.format.name.value,
                        format_reason=prompting.detection.reason,
                        n_seq_max=session.n_seq_max,
                    )
                )
            elif isinstance(command, GenerateSamples):
                rid = command.request_id
                cancelled = inbox.running(rid)

                def emit_sample(i: int, event: StreamEvent, rid: int = rid) -> None:
                    send(SampleEvent(rid, i, event), final=isinstance(event, _ENDS))

                try:
                    if session is None:
                        for i in range(len(command.samplers)):
                            emit_sample(
                                i, ErrorEvent("No model is loaded in the engine.", "S1DeskError")
                            )
                    elif session_prompting(session).format.name is not FormatName.S1:
                        # Batched decoding drives s1's markers; other formats run the
                        # samples one after another through the per-format loop.
                        for i, sampler in enumerate(command.samplers):
                            if cancelled.is_set():
                                emit_sample(i, Done(reason=FinishReason.CANCELLED))
                                continue
                            one = dataclasses.replace(command.request, sampler=sampler)
                            try:
                                LocalGeneration(
                                    session, one, functools.partial(emit_sample, i), cancelled
                                ).run()
                            except WireClosedError:
                                raise
                            except Exception as exc:
                                emit_sample(i, error_event(exc, log))
                    else:
                        # Failures end each unfinished sample with an ErrorEvent there.
                        run_samples(
                            session,
                            command.request,
                            command.samplers,
                            emit_sample,
                            cancelled,
                            fit=command.fit,
                        )
                finally:
                    inbox.idle()
                send(Finished(rid))
            elif isinstance(command, Generate):
                rid = command.request_id
                cancelled = inbox.running(rid)

                def emit(event: StreamEvent, rid: int = rid) -> None:
                    send(Event(rid, event), final=isinstance(event, _ENDS))

                try:
                    if session is None:
                        raise S1DeskError("No model is loaded in the engine.")
                    LocalGeneration(session, command.request, emit, cancelled).run()
                except WireClosedError:
                    raise
                except Exception as exc:
                    emit(error_event(exc, log))
                finally:
                    inbox.idle()
                send(Finished(rid))
    except WireClosedError:
        pass  # the app is gone
    finally:
        if session is not None:
            session.close()


def main(argv: list[str]) -> int:
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    read_fd, write_fd = int(argv[1]), int(argv[2])
    serve(read_fd, write_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
