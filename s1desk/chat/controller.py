"""Runs a conversation against a backend on the event loop and tells its subscribers what
changed (no Qt: events in, updates out)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from s1desk.backends.base import Backend, GenerationRequest
from s1desk.backends.cancel import CancelToken
from s1desk.chat.message import AssistantMessage
from s1desk.chat.session import ChatSession, ChatStateError, Exchange
from s1desk.chat.signal import Signal
from s1desk.errors import S1DeskError
from s1desk.sampling import SamplerSettings
from s1desk.thinking.format import DEFAULT_SYSTEM_PROMPT
from s1desk.thinking.policy import BudgetPolicy

log = logging.getLogger(__name__)

#: Subscribers hear of a streaming reply at most this often (seconds).
UPDATE_INTERVAL = 0.04

NO_BACKEND = "No model is loaded. Open a GGUF model (Model ▸ Open model…, Ctrl+O) first."


class ChatController:
    """The conversation, the backend and the one generation in flight.

    Any object implementing :class:`~s1desk.backends.base.Backend` can be
    plugged in with :meth:`set_backend` (local llama.cpp, remote, scripted).
    Each event is folded into its :class:`AssistantMessage` as it comes and
    subscribers are told in batches, at most every ``UPDATE_INTERVAL``: one
    ``reply_updated`` per batch, never per token. ``reply_started`` comes
    before the first event of a reply and ``reply_finished`` after its last.
    Runs on the asyncio loop (qasync's in the app); it never blocks it.
    """

    def __init__(self, session: ChatSession | None = None) -> None:
        self.session = session or ChatSession()
        self.policy = BudgetPolicy()
        self.sampler = SamplerSettings()
        self.system_prompt = DEFAULT_SYSTEM_PROMPT
        self.exchange_added: Signal[[int]] = Signal()  # a user message at this index
        self.truncated: Signal[[int]] = Signal()  # exchanges from this index on were removed
        #: A generation starts for the exchange at this index (before ``reply_started``).
        self.generation_started: Signal[[int]] = Signal()
        self.reply_started: Signal[[int]] = Signal()  # streamed, or restored by ``load``
        self.reply_updated: Signal[[int]] = Signal()
        self.reply_finished: Signal[[int]] = Signal()  # when the reply is still shown
        #: Another answer version of the exchange at this index is shown (``choose_version``).
        self.version_chosen: Signal[[int]] = Signal()
        #: Every generation's end, its reply shown or not (a new chat may have replaced it).
        self.generation_ended: Signal[[AssistantMessage]] = Signal()
        self.cleared: Signal[[]] = Signal()
        self.busy_changed: Signal[[bool]] = Signal()
        self.backend_changed: Signal[[str]] = Signal()  # the backend's name, "" for none
        self.problem: Signal[[str]] = Signal()  # something to read (no model, bad input)
        self._backend: Backend | None = None
        self._task: asyncio.Task[None] | None = None
        self._cancel: CancelToken | None = None
        self._streaming: int | None = None
        self._update: asyncio.TimerHandle | None = None

    # -- backend ---------------------------------------------------------------

    @property
    def backend(self) -> Backend | None:
        return self._backend

    def set_backend(self, backend: Backend | None) -> Backend | None:
        """Use ``backend`` from now on; return the previous one (the caller closes it)."""
        previous, self._backend = self._backend, backend
        self.backend_changed.emit(backend.name if backend is not None else "")
        return previous

    # -- state -------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def streaming_index(self) -> int | None:
        return self._streaming if self.busy else None

    def message(self, index: int) -> AssistantMessage | None:
        if 0 <= index < len(self.session.exchanges):
            return self.session.exchanges[index].reply
        return None

    # -- actions -----------------------------------------------------------------

    def send(self, text: str) -> bool:
        """Ask ``text``; False (and ``problem``) if it cannot be sent now."""
        if not self._ready():
            return False
        try:
            index = self.session.ask(text)
        except ChatStateError as exc:
            self.problem.emit(str(exc))
            return False
        self.exchange_added.emit(index)
        self._start(index, self.policy)
        return True

    def edit_and_resend(self, index: int, text: str) -> bool:
        """Replace user message ``index`` with ``text``, drop what followed, answer again."""
        if not self._ready():
            return False
        try:
            index = self.session.edit(index, text)
        except ChatStateError as exc:
            self.problem.emit(str(exc))
            return False
        self.truncated.emit(index)
        self.exchange_added.emit(index)
        self._start(index, self.policy)
        return True

    def regenerate(self) -> bool:
        """Answer the last user message again with the current settings."""
        return self._rerun(self.policy)

    def think_longer(self, limit: int) -> BudgetPolicy | None:
        """Re-run the last message with twice its thinking budget (up to ``limit``; from a
        budget of 0, the default budget); return the policy."""
        last = self.session.last_reply
        base = last.policy if last is not None else self.policy
        doubled = 2 * base.max_thinking if base.max_thinking else BudgetPolicy().max_thinking
        policy = base.with_max_thinking(min(limit, doubled))
        if not self._rerun(policy):
            return None
        self.policy = policy
        return policy

    def choose_version(self, index: int, version: int) -> bool:
        """Show answer ``version`` (from 0) of exchange ``index``; later questions go on from
        it. False (and ``problem``) while a reply is written or if there is no such version."""
        try:
            if self.busy:
                raise ChatStateError(
                    "A reply is still being written: stop it (Esc) before switching answers."
                )
            exchange = self.session.exchanges[index] if 0 <= index < len(self.session) else None
            if exchange is not None and exchange.chosen == version:
                return True
            self.session.choose_version(index, version)
        except ChatStateError as exc:
            self.problem.emit(str(exc))
            return False
        self.version_chosen.emit(index)
        return True

    def stop(self) -> None:
        """Stop the generation in flight (within one token)."""
        if self._cancel is not None:
            self._cancel.cancel()

    def new_chat(self) -> None:
        self.stop()
        self.session.clear()
        self.cleared.emit()

    def load(self, exchanges: Sequence[Exchange]) -> bool:
        """Show finished ``exchanges`` (a saved conversation) in place of the current chat.

        Each restored reply (its chosen version) is announced as started and finished, as
        if it streamed."""
        if self.busy:
            self.problem.emit("A reply is still being written: stop it first (Esc).")
            return False
        self.new_chat()
        self.session.exchanges.extend(exchanges)
        for index, exchange in enumerate(self.session.exchanges):
            self.exchange_added.emit(index)
            if exchange.reply is not None:
                self.reply_started.emit(index)
                self.reply_finished.emit(index)
        return True

    async def wait_idle(self) -> None:
        """Return once no generation runs."""
        while (task := self._task) is not None and not task.done():
            await asyncio.shield(task)

    async def shutdown(self) -> None:
        """Stop, wait for the generation to end; the backend stays open (its owner closes it)."""
        self.stop()
        await self.wait_idle()

    # -- internals ----------------------------------------------------------------

    def _ready(self) -> bool:
        if self.busy:
            self.problem.emit("A reply is still being written: stop it first (Esc).")
            return False
        if self._backend is None:
            self.problem.emit(NO_BACKEND)
            return False
        return True

    def _rerun(self, policy: BudgetPolicy) -> bool:
        if not self._ready():
            return False
        try:
            index = self.session.retry_index()
        except ChatStateError as exc:
            self.problem.emit(str(exc))
            return False
        self.truncated.emit(index + 1)
        self._start(index, policy)
        return True

    def _start(self, index: int, policy: BudgetPolicy) -> None:
        backend = self._backend
        assert backend is not None
        request = self.session.start_reply(
            index, policy, self.sampler, self.system_prompt, source=backend.name
        )
        cancel = CancelToken()
        self._cancel = cancel
        self._streaming = index
        self._task = asyncio.ensure_future(self._generate(backend, index, request, cancel))
        self.generation_started.emit(index)
        self.reply_started.emit(index)
        self.busy_changed.emit(True)

    async def _generate(
        self,
        backend: Backend,
        index: int,
        request: GenerationRequest,
        cancel: CancelToken,
    ) -> None:
        message = self.session.exchanges[index].reply
        assert message is not None
        loop = asyncio.get_running_loop()
        try:
            async for event in backend.stream(request, cancel):
                message.apply(event)
                if self._update is None:
                    self._update = loop.call_later(UPDATE_INTERVAL, self._flush)
            if not message.finished:
                message.fail("The backend ended the stream without finishing the reply.")
        except asyncio.CancelledError:
            message.fail("Stopped when the window closed.")
            raise
        except S1DeskError as exc:
            message.fail(str(exc))
        except Exception as exc:
            log.exception("generation failed")
            message.fail(f"Generation failed: {exc}")
        finally:
            if self._update is not None:
                self._update.cancel()
                self._update = None
            self._task = None
            self._cancel = None
            self._streaming = None
            self.generation_ended.emit(message)
            self.busy_changed.emit(False)
            if self._still_shown(index, message):
                self.reply_updated.emit(index)
                self.reply_finished.emit(index)

    def _still_shown(self, index: int, message: AssistantMessage) -> bool:
        return self.message(index) is message

    def _flush(self) -> None:
        self._update = None
        if self._streaming is not None:
            self.reply_updated.emit(self._streaming)
