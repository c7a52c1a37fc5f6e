"""Saves the chat's conversation in the store as replies stream, and reopens saved ones."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace

from s1desk.chat.controller import ChatController
from s1desk.chat.message import AssistantMessage
from s1desk.chat.recording import Recording
from s1desk.chat.restore import StoredExchange, restore
from s1desk.chat.signal import Signal
from s1desk.store import HistoryStore, StoreError
from s1desk.store.titles import title_from_question

log = logging.getLogger(__name__)


class ChatSaver:
    """Saves every question and reply of a controller's chat; reopens saved conversations.

    Subscribe it to the controller with :meth:`attach` (the composition root
    does, in plain sight): each generation is recorded by a
    :class:`~s1desk.chat.recording.Recording` of its message while it
    streams, written in small batches on the event loop (a whole-answer write
    costs well under a millisecond), so a killed app leaves what was
    generated, marked interrupted when the history is next opened. An edited
    question forks the conversation (:meth:`_fork`).
    """

    def __init__(self, store: HistoryStore, controller: ChatController) -> None:
        self.store = store
        self.controller = controller
        self.changed: Signal[[int]] = Signal()  # a conversation was created, titled or updated
        self.opened: Signal[[int]] = Signal()  # the conversation shown (0: a new, unsaved chat)
        self.problem: Signal[[str]] = Signal()
        self._current: int | None = None
        self._stored: list[StoredExchange] = []
        self._recording: Recording | None = None
        self._conversation_of_recording = 0
        self._failed = False
        self._due: asyncio.TimerHandle | None = None
        self._closed = False

    def attach(self) -> None:
        """Follow the controller: start, update and end recordings, forget a cleared chat."""
        c = self.controller
        c.generation_started.connect(self.generation_started)
        c.reply_updated.connect(self.reply_updated)
        c.generation_ended.connect(self.generation_ended)
        c.version_chosen.connect(self.version_chosen)
        c.cleared.connect(self.cleared)

    def detach(self) -> None:
        c = self.controller
        c.generation_started.disconnect(self.generation_started)
        c.reply_updated.disconnect(self.reply_updated)
        c.generation_ended.disconnect(self.generation_ended)
        c.version_chosen.disconnect(self.version_chosen)
        c.cleared.disconnect(self.cleared)

    @property
    def current(self) -> int | None:
        """The conversation on screen, once saved (``None`` for a new, empty chat)."""
        return self._current

    # -- reopening -----------------------------------------------------------------

    def open_conversation(self, conversation_id: int) -> bool:
        """Show a saved conversation; the chat goes on from it. False if it cannot now."""
        if conversation_id == self._current:
            return True
        try:
            restored = restore(self.store.messages(conversation_id))
        except StoreError as exc:
            self.problem.emit(str(exc))
            return False
        if not self.controller.load(restored.exchanges):
            return False
        self._current = conversation_id
        self._stored = list(restored.stored)
        self.opened.emit(conversation_id)
        return True

    def exchange_of(self, message_id: int) -> int | None:
        """The exchange on screen that holds stored message ``message_id``."""
        for i, row in enumerate(self._stored):
            if message_id in row.message_ids:
                return i
        return None

    def version_of(self, message_id: int) -> tuple[int, int] | None:
        """The exchange on screen and its answer version that stored answer ``message_id``
        is; ``None`` if it is no answer shown here."""
        for i, row in enumerate(self._stored):
            if message_id in row.answer_ids:
                return i, row.answer_ids.index(message_id)
        return None

    def forget(self, conversation_id: int) -> None:
        """The conversation was deleted: a new chat takes its place on screen."""
        if conversation_id == self._current:
            self.controller.new_chat()

    def flush(self) -> None:
        """Write what the streaming reply holds so far (before an export, say)."""
        if self._recording is not None:
            self._write(self._recording.flush)

    # -- the controller's announcements ------------------------------------------------

    def generation_started(self, index: int) -> None:
        """Save the question (a new conversation for the first) and start saving the reply."""
        exchange = self.controller.session.exchanges[index]
        message, request = exchange.reply, exchange.request
        backend = self.controller.backend
        if message is None or request is None or backend is None:
            return
        try:
            conversation = self._conversation_for(
                index, request.question, backend.name, backend.model
            )
            message_id = self.store.start_answer(
                conversation,
                backend=backend.name,
                model=backend.model,
                policy=request.policy,
                sampler=request.sampler,
            )
        except StoreError as exc:
            self.problem.emit(f"This conversation is not being saved: {exc}")
            log.warning("could not start saving the reply: %s", exc)
            return
        if conversation == self._current and index < len(self._stored):
            row = self._stored[index]
            ids = (*row.message_ids, message_id)
            self._stored[index] = StoredExchange(row.question, row.position, ids)
        self._recording = Recording(self.store, message_id, message)
        self._conversation_of_recording = conversation
        self._failed = False
        self.changed.emit(conversation)

    def reply_updated(self, _index: int) -> None:
        recording = self._recording
        if recording is None:
            return
        self._write(recording.update)
        self._watch_stall()

    def generation_ended(self, message: AssistantMessage) -> None:
        recording = self._recording
        if recording is None or recording.message is not message:
            return
        self._recording = None
        self._cancel_due()
        self._write(recording.close, recording)
        self.changed.emit(self._conversation_of_recording)

    def version_chosen(self, index: int) -> None:
        """Another answer version was chosen: save the choice at once (a crash keeps it)."""
        exchanges = self.controller.session.exchanges
        if self._current is None or not 0 <= index < min(len(self._stored), len(exchanges)):
            return
        exchange, answers = exchanges[index], self._stored[index].answer_ids
        if len(answers) != len(exchange.versions):
            # An answer whose saving failed to start is on screen but not in the store.
            log.warning(
                "exchange %d has %d answers on screen but %d saved; the choice is not saved",
                index,
                len(exchange.versions),
                len(answers),
            )
            return
        try:
            self.store.choose_answer(answers[exchange.chosen])
        except StoreError as exc:
            self.problem.emit(f"The answer chosen could not be saved: {exc}")
            log.warning("saving the choice of answer %d failed: %s", answers[exchange.chosen], exc)

    def cleared(self) -> None:
        self._current = None
        self._stored = []
        self.opened.emit(0)

    def close(self) -> None:
        """Stop recording (the controller is done), unsubscribe and close the store."""
        if self._closed:
            return
        self._closed = True
        self._cancel_due()
        if self._recording is not None:
            self._write(self._recording.close)
            self._recording = None
        self.detach()
        self.store.close()

    # -- internals ---------------------------------------------------------------------

    def _watch_stall(self) -> None:
        """A stream that pauses (a slow prompt, a remote server) still gets what arrived
        before the pause written when its batch is due."""
        recording = self._recording
        if recording is None or not recording.pending or self._due is not None:
            return
        loop = asyncio.get_running_loop()
        self._due = loop.call_later(recording.seconds_to_due(), self._stalled)

    def _stalled(self) -> None:
        self._due = None
        if self._recording is not None:
            self._write(self._recording.flush_if_due)
            self._watch_stall()

    def _cancel_due(self) -> None:
        if self._due is not None:
            self._due.cancel()
            self._due = None

    def _write(self, step: Callable[[], None], recording: Recording | None = None) -> None:
        try:
            step()
        except StoreError as exc:
            # Nothing is lost: the next write saves the whole message.
            if not self._failed:
                self._failed = True
                self.problem.emit(f"The conversation could not be saved: {exc}")
            target = recording or self._recording
            log.warning("saving answer %s failed: %s", target and target.message_id, exc)

    def _conversation_for(self, index: int, question: str, backend: str, model: str | None) -> int:
        if self._current is None:
            created = self.store.create_conversation(backend=backend, model=model)
            self._current = created.id
            self._stored = []
            self.opened.emit(created.id)
        conversation = self._current
        stored = self._stored
        if index < len(stored) and not (
            index == len(stored) - 1 and stored[index].question == question
        ):
            conversation = self._fork(index)
        if index > len(self._stored):  # should not happen: save the questions missing
            for exchange in self.controller.session.exchanges[len(self._stored) : index]:
                self._add_question(conversation, exchange.user)
        if index == len(self._stored):
            self._add_question(conversation, question)
        return conversation

    def _add_question(self, conversation: int, question: str) -> None:
        message = self.store.add_question(conversation, question)
        self._stored.append(StoredExchange(question, message.position, (message.id,)))

    def _fork(self, index: int) -> int:
        """An edited question drops what followed: the conversation goes on as a copy
        holding the exchanges before it, and the old one goes to the trash."""
        assert self._current is not None
        old = self.store.conversation(self._current)
        cut = self._stored[index].position
        kept = [m for m in self.store.messages(old.id) if m.position < cut]
        title = old.title
        if index == 0 and title == title_from_question(self._stored[0].question):
            title = ""  # made from the question being replaced: the new one names it
        copy = self.store.insert_conversation(replace(old, title=title), kept)
        self.store.delete_conversation(old.id)
        self._current = copy.id
        restored = restore(self.store.messages(copy.id))
        self._stored = list(restored.stored)
        self.opened.emit(copy.id)
        self.changed.emit(old.id)
        return copy.id
