"""The app's handle on one engine process: start it, load, stream a request, stop it."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import os
import subprocess
import sys
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import s1desk
from s1desk.backends.base import GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.backends.engine.faults import describe_exit, killed_by
from s1desk.backends.engine.messages import (
    Cancel,
    Event,
    Finished,
    Generate,
    GenerateSamples,
    Load,
    Loaded,
    LoadFailed,
    Reply,
    SampleEvent,
    Shutdown,
)
from s1desk.backends.engine.wire import FrameReader, WireClosedError, write_frame
from s1desk.backends.local_config import LocalModelConfig
from s1desk.errors import BackendClosedError, ModelLoadError
from s1desk.events import Done, ErrorEvent, StreamEvent
from s1desk.sampling import SamplerSettings
from s1desk.thinking.machine import FinishReason

log = logging.getLogger(__name__)

#: How long a cancelled request may go without a word from its engine before the engine is
#: stopped (one token can take seconds on a machine busy with other work).
CANCEL_GRACE_S = 5.0
#: How long a shutdown may take before the engine is killed.
SHUTDOWN_GRACE_S = 5.0
#: Lines of the engine's output kept to explain how it ended.
_OUTPUT_LINES = 40


class _Wake:
    """Put in the reply queue to wake a waiting stream: its cancel token was set."""


_WAKE = _Wake()


@dataclass(frozen=True, slots=True)
class Exited:
    """The engine process ended (or its pipe broke)."""

    returncode: int | None

    @property
    def signal(self) -> int | None:
        return killed_by(self.returncode)


class EngineCrashedError(ModelLoadError):
    """The engine process ended while loading a model."""

    def __init__(self, message: str, exited: Exited) -> None:
        super().__init__(message)
        self.exited = exited


class EngineProcess:
    """One child process running llama.cpp; one request at a time.

    Not safe for concurrent use: :class:`~s1desk.backends.local.LocalBackend`
    serialises requests.
    """

    def __init__(self, config: LocalModelConfig) -> None:
        self.config = config
        self.loaded: Loaded | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._write_fd = -1
        self._replies: asyncio.Queue[Reply | Exited | _Wake] = asyncio.Queue()
        self._output: collections.deque[str] = collections.deque(maxlen=_OUTPUT_LINES)
        self._threads: list[threading.Thread] = []
        self._ids = itertools.count(1)
        self.exited: Exited | None = None
        self._ended = asyncio.Event()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self.exited is None

    @property
    def model_name(self) -> str:
        return self.config.path.name

    async def start(self) -> Loaded:
        """Spawn the process and load the model; raises :class:`ModelLoadError`."""
        loop = asyncio.get_running_loop()
        cmd_r, cmd_w = os.pipe()
        rep_r, rep_w = os.pipe()
        env = dict(os.environ)
        # The engine runs this very copy of s1desk, wherever it was imported from.
        root = str(Path(s1desk.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "s1desk.backends.engine.main", str(cmd_r), str(rep_w)],
                pass_fds=(cmd_r, rep_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,  # Ctrl+C in a terminal reaches the app, not the engine
            )
        except OSError as exc:
            for fd in (cmd_r, cmd_w, rep_r, rep_w):
                os.close(fd)
            raise ModelLoadError(f"Could not start the llama.cpp engine: {exc}") from exc
        finally:
            for fd in (cmd_r, rep_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._write_fd = cmd_w
        self._listen(loop, rep_r)
        self._spawn_thread(self._read_output, name="s1desk-engine-output")
        self._send(Load(self.config))
        while isinstance(reply := await self._replies.get(), _Wake):
            pass
        if isinstance(reply, Loaded):
            self.loaded = reply
            return reply
        await self.stop()
        if isinstance(reply, LoadFailed):
            raise ModelLoadError(reply.message)
        assert isinstance(reply, Exited)
        message = describe_exit(self.model_name, reply.returncode, list(self._output))
        raise EngineCrashedError(message.replace("What was written so far is kept. ", ""), reply)

    def _spawn_thread(self, target: object, *args: object, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _listen(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        """Read replies on the event loop itself where it can watch a pipe (one wake-up
        per batch of replies, no thread between), else on a thread of their own."""
        try:
            os.set_blocking(fd, False)
            loop.add_reader(fd, self._on_readable, loop, fd, FrameReader(fd))
        except (NotImplementedError, OSError):  # e.g. a proactor loop on Windows
            os.set_blocking(fd, True)
            self._spawn_thread(self._read_replies, loop, fd, name="s1desk-engine-replies")

    def _on_readable(self, loop: asyncio.AbstractEventLoop, fd: int, reader: FrameReader) -> None:
        try:
            replies = reader.read_available()
        except WireClosedError:
            loop.remove_reader(fd)
            os.close(fd)
            self._spawn_thread(self._wait_exit, loop, name="s1desk-engine-exit")
            return
        self._deliver(replies)

    def _wait_exit(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait for the process to end (its pipe has closed) and report how."""
        proc = self._proc
        code = proc.wait() if proc is not None else None
        with contextlib.suppress(RuntimeError):  # the loop closed first
            loop.call_soon_threadsafe(self._on_exit, Exited(code))

    def _read_replies(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        try:
            reader = FrameReader(fd)
            while True:
                loop.call_soon_threadsafe(self._deliver, reader.read())
        except WireClosedError:
            pass
        finally:
            os.close(fd)
            self._wait_exit(loop)

    def _deliver(self, replies: list[Reply]) -> None:
        for reply in replies:
            self._replies.put_nowait(reply)

    def _on_exit(self, exited: Exited) -> None:
        if self.exited is None:
            self.exited = exited
            log.info("engine for %s ended with %s", self.model_name, exited.returncode)
        self._ended.set()
        self._replies.put_nowait(exited)

    def _read_output(self) -> None:
        proc = self._proc
        if proc is None or proc.stderr is None:
            return
        for raw in proc.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip()
            if line:
                self._output.append(line)
                log.debug("engine: %s", line)

    def _send(self, command: object) -> None:
        if self._write_fd < 0:
            raise BackendClosedError("The llama.cpp engine is not running.")
        with contextlib.suppress(WireClosedError):  # the reader sees the process end
            write_frame(self._write_fd, command)

    def _wake_on(self, cancel: CancelToken) -> Callable[[], None]:
        """Wake the waiting stream when ``cancel`` is set (from any thread); returns the
        function that withdraws the wake-up."""
        loop = asyncio.get_running_loop()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed first
                loop.call_soon_threadsafe(self._replies.put_nowait, _WAKE)

        return cancel.on_cancel(wake)

    async def _next(self, cancel: CancelToken, rid: int, sent_cancel: list[bool]) -> Reply | Exited:
        """The next reply, sending Cancel when ``cancel`` is set; stops a stuck engine.

        Nothing polls: the reply reader and the cancel token both wake this wait.
        """
        while True:
            if cancel.cancelled and not sent_cancel[0]:
                sent_cancel[0] = True
                self._send(Cancel(rid))
            if not sent_cancel[0]:
                reply = await self._replies.get()
            else:
                try:
                    reply = await asyncio.wait_for(self._replies.get(), CANCEL_GRACE_S)
                except TimeoutError:
                    log.warning("engine did not stop in %.1f s; ending it", CANCEL_GRACE_S)
                    await self._end()
                    return Exited(None)
            if not isinstance(reply, _Wake):
                return reply

    async def generate(
        self, request: GenerationRequest, cancel: CancelToken | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        """Run ``request``; a crash ends the stream with an :class:`ErrorEvent`."""
        if not self.alive:
            raise BackendClosedError("The llama.cpp engine is not running.")
        token = cancel or CancelToken()
        rid = next(self._ids)
        sent_cancel = [False]
        finished = False
        self._send(Generate(rid, request))
        withdraw = self._wake_on(token)
        try:
            while True:
                reply = await self._next(token, rid, sent_cancel)
                if isinstance(reply, Event) and reply.request_id == rid:
                    yield reply.event
                elif isinstance(reply, Finished) and reply.request_id == rid:
                    finished = True
                    return
                elif isinstance(reply, Exited):
                    finished = True
                    yield self._exit_event(reply, sent_cancel)
                    return
        finally:
            await self._leave(token, rid, sent_cancel, finished, withdraw)

    async def generate_samples(
        self,
        request: GenerationRequest,
        samplers: Sequence[SamplerSettings],
        cancel: CancelToken | None = None,
        *,
        fit: bool = False,
    ) -> AsyncGenerator[tuple[int, StreamEvent], None]:
        """Run ``request`` once per sampler, decoded together; yield ``(sample, event)``.

        With ``fit``, samples too many for the context run in groups that fit;
        without it they end with an error saying so. Each sample's events end
        with one ``Done`` or ``ErrorEvent``; a crash ends every unfinished one
        with an :class:`ErrorEvent`.
        """
        if not self.alive:
            raise BackendClosedError("The llama.cpp engine is not running.")
        token = cancel or CancelToken()
        rid = next(self._ids)
        sent_cancel = [False]
        finished = False
        unfinished = set(range(len(samplers)))
        self._send(GenerateSamples(rid, request, tuple(samplers), fit))
        withdraw = self._wake_on(token)
        try:
            while True:
                reply = await self._next(token, rid, sent_cancel)
                if isinstance(reply, SampleEvent) and reply.request_id == rid:
                    if isinstance(reply.event, Done | ErrorEvent):
                        unfinished.discard(reply.sequence)
                    yield reply.sequence, reply.event
                elif isinstance(reply, Finished) and reply.request_id == rid:
                    finished = True
                    return
                elif isinstance(reply, Exited):
                    finished = True
                    end = self._exit_event(reply, sent_cancel)
                    for i in sorted(unfinished):
                        yield i, end
                    return
        finally:
            await self._leave(token, rid, sent_cancel, finished, withdraw)

    def _exit_event(self, exited: Exited, sent_cancel: list[bool]) -> Done | ErrorEvent:
        """How a request ends when the engine exits under it: cancelled if it was ended for
        a Stop, else an error saying what happened."""
        if sent_cancel[0] and exited.returncode is None:
            return Done(reason=FinishReason.CANCELLED)
        message = describe_exit(self.model_name, exited.returncode, list(self._output))
        return ErrorEvent(message=message, kind="EngineCrashedError")

    async def _leave(
        self,
        cancel: CancelToken,
        rid: int,
        sent_cancel: list[bool],
        finished: bool,
        withdraw: Callable[[], None],
    ) -> None:
        """A stream ends: if its consumer left early, cancel and wait until the engine is
        free again; the cancel wake-up is withdrawn whatever happens."""
        try:
            if not finished:
                cancel.cancel()
                await self._drain(cancel, rid, sent_cancel)
        finally:
            withdraw()

    async def _drain(self, cancel: CancelToken, rid: int, sent_cancel: list[bool]) -> None:
        """After the consumer left early: cancel and wait until the engine is free again."""
        while self.alive:
            reply = await self._next(cancel, rid, sent_cancel)
            if isinstance(reply, Exited) or (
                isinstance(reply, Finished) and reply.request_id == rid
            ):
                return

    async def _end(self) -> None:
        """Kill the engine for a Stop it did not answer, and wait until it is gone.

        Its exit is then known (the next request starts a fresh engine) and what it
        left in the queue, its own end included, is dropped: this was a stop, not a
        crash to report.
        """
        self.kill()
        await self._ended.wait()
        while not self._replies.empty():
            self._replies.get_nowait()

    def kill(self) -> None:
        """End the process at once (its memory goes back to the system)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()

    async def stop(self) -> None:
        """Ask the engine to exit, kill it if it does not, and wait for it."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            self._send(Shutdown())
        try:
            await asyncio.wait_for(self._ended.wait(), SHUTDOWN_GRACE_S)
        except TimeoutError:
            log.warning("engine for %s did not exit; killing it", self.model_name)
            proc.kill()
            await self._ended.wait()
        if self._write_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._write_fd)
            self._write_fd = -1
        for thread in self._threads:
            thread.join(timeout=SHUTDOWN_GRACE_S)  # both end with the process
        if proc.stderr is not None:
            proc.stderr.close()
