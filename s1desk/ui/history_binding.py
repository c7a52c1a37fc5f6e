"""Keeps the chat on screen and its conversation in the store in step, as replies stream."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal

from s1desk.backends.base import Backend, GenerationRequest
from s1desk.chat.message import AssistantMessage
from s1desk.events import ErrorEvent, StreamEvent
from s1desk.store import HistoryStore, MessageRecorder, StoreError
from s1desk.store.titles import title_from_question
from s1desk.ui.chat_controller import ChatController
from s1desk.ui.history_restore import StoredExchange, restore

log = logging.getLogger(__name__)

#: A streaming answer is written at least this often (seconds)…
FLUSH_SECONDS = 0.5
#: …and after this many events: high, so a fast stream costs a write per interval, not per batch.
FLUSH_EVENTS = 4096


def model_name(backend: Backend) -> str | None:
    """The model a backend runs, when it says (a local file's name, a server's model id)."""
    session = getattr(backend, "session", None)
    path = getattr(getattr(session, "config", None), "path", None)
    if path is not None:
        return str(getattr(path, "name", path))
    model = getattr(getattr(backend, "profile", None), "model", None)
    return model if isinstance(model, str) else None


class _Recording:
    """One reply being saved: the store's recorder, a timer for stalled streams."""

    def __init__(
        self, binding: HistoryBinding, recorder: MessageRecorder, conversation: int
    ) -> None:
        self._binding = binding
        self.recorder = recorder
        self.conversation = conversation
        self._failed = False
        # A stream that pauses (a slow prompt, a remote server) still gets
        # what arrived before the pause written within FLUSH_SECONDS.
        self._timer = QTimer(binding)
        self._timer.setInterval(int(FLUSH_SECONDS * 1000))
        self._timer.timeout.connect(lambda: self._write(self.recorder.flush_if_due))
        self._timer.start()

    def feed(self, event: StreamEvent) -> None:
        self._write(lambda: self.recorder.feed(event))

    def end(self, message: AssistantMessage) -> None:
        self._timer.stop()
        self._timer.deleteLater()
        if not self.recorder.finished and message.error:
            # Failed outside the stream (the window closed, the backend broke off).
            self._write(lambda: self.recorder.feed(ErrorEvent(message.error or "", "app")))
        self._write(self.recorder.close)
        self._binding._reply_ended(self)

    def _write(self, step: Callable[[], None]) -> None:
        try:
            step()
        except StoreError as exc:
            # Nothing fed is lost: the recorder writes it with the next flush.
            if not self._failed:
                self._failed = True
                self._binding.problem.emit(f"The conversation could not be saved: {exc}")
            log.warning("saving answer %d failed: %s", self.recorder.message_id, exc)


class HistoryBinding(QObject):
    """Saves every question and reply of the chat, and reopens saved conversations.

    Plugged into the controller as its ``observer``: each reply is recorded
    by a :class:`~s1desk.store.MessageRecorder` while it streams, written in
    small batches on the GUI thread (a whole-answer write costs well under a
    millisecond), so a killed app leaves what was generated, marked
    interrupted when the history is next opened.
    """

    changed = Signal(int)  # a conversation was created, titled or updated
    opened = Signal(int)  # the conversation now shown (0: a new, unsaved chat)
    problem = Signal(str)

    def __init__(self, store: HistoryStore, controller: ChatController) -> None:
        super().__init__(controller)
        self.store = store
        self.controller = controller
        self._current: int | None = None
        self._stored: list[StoredExchange] = []
        self._recordings: set[_Recording] = set()
        controller.observer = self
        controller.cleared.connect(self._cleared)

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

    def forget(self, conversation_id: int) -> None:
        """The conversation was deleted: a new chat takes its place on screen."""
        if conversation_id == self._current:
            self.controller.new_chat()

    def flush(self) -> None:
        """Write what the streaming replies hold so far (before an export, say)."""
        for recording in list(self._recordings):
            recording._write(recording.recorder.flush)

    # -- ReplyObserver -----------------------------------------------------------------

    def begin(self, index: int, request: GenerationRequest, backend: Backend) -> _Recording | None:
        """Save the question (a new conversation for the first) and start saving the reply."""
        model = model_name(backend)
        try:
            conversation = self._conversation_for(index, request.question, backend.name, model)
            recorder = self.store.start_answer(
                conversation,
                backend=backend.name,
                model=model,
                policy=request.policy,
                sampler=request.sampler,
                flush_seconds=FLUSH_SECONDS,
                flush_events=FLUSH_EVENTS,
            )
        except StoreError as exc:
            self.problem.emit(f"This conversation is not being saved: {exc}")
            log.warning("could not start saving the reply: %s", exc)
            return None
        if conversation == self._current and index < len(self._stored):
            row = self._stored[index]
            ids = (*row.message_ids, recorder.message_id)
            self._stored[index] = StoredExchange(row.question, row.position, ids)
        recording = _Recording(self, recorder, conversation)
        self._recordings.add(recording)
        self.changed.emit(conversation)
        return recording

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

    def _reply_ended(self, recording: _Recording) -> None:
        self._recordings.discard(recording)
        self.changed.emit(recording.conversation)

    def _cleared(self) -> None:
        self._current = None
        self._stored = []
        self.opened.emit(0)

    def close(self) -> None:
        """Stop recording (the controller is done) and close the store."""
        for recording in list(self._recordings):
            recording._write(recording.recorder.close)
        self._recordings.clear()
        if self.controller.observer is self:
            self.controller.observer = None
        self.store.close()
