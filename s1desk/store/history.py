"""The conversation store: conversations and their messages in one SQLite file."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from types import TracebackType

from s1desk.sampling import SamplerSettings
from s1desk.store import (
    codec,
    database,
    dbfile,
    export,
    importer,
    lease,
    message_writes,
    opening,
    rows,
    versions,
)
from s1desk.store import search as fts
from s1desk.store.checkpoint import Checkpointer
from s1desk.store.errors import NotFoundError, StoreCorruptError
from s1desk.store.records import (
    AnswerSnapshot,
    Conversation,
    Message,
    MessageStatus,
    SearchHit,
)
from s1desk.store.titles import title_from_question
from s1desk.thinking.format import Turn
from s1desk.thinking.policy import BudgetPolicy

log = logging.getLogger(__name__)

_CONVERSATION = rows.CONVERSATION_COLUMNS
_MESSAGE = rows.MESSAGE_COLUMNS


class HistoryStore:
    """Conversations, messages and search over one SQLite database.

    Open with :meth:`open`; close with :meth:`close` (or use ``with``). Not
    thread-safe: use one store from one thread (the GUI thread). Every method
    raises :class:`~s1desk.store.errors.StoreError` with a message for people
    when the database cannot be read or written.
    """

    def __init__(self, db: sqlite3.Connection, path: Path, *, read_only: bool) -> None:
        self._db = db
        self.path = path
        self.read_only = read_only
        self._lease: lease.WriterLease | None = None
        self._leases = path.with_name(path.name + ".writers")
        self._checkpointer: Checkpointer | None = None
        #: An unusable file found at ``path`` when it opened, kept under another name;
        #: its ``message`` is for the user (a new history was started in its place).
        self.set_aside: dbfile.SetAside | None = None

    # -- opening and closing ------------------------------------------------

    @classmethod
    def open(cls, path: Path | None = None, *, read_only: bool = False) -> HistoryStore:
        """Open (creating and migrating as needed) the history at ``path``.

        The default is ``history.sqlite3`` in the data directory, created readable
        by its owner only. A file there that is empty or not an SQLite database
        is renamed, not overwritten, and a new history started: :attr:`set_aside`
        then says where it went. Messages left ``streaming`` by a process that
        is gone are marked ``interrupted``.
        """
        path = path if path is not None else database.default_path()
        db, set_aside = opening.open_database(path, read_only=read_only)
        store = cls(db, path, read_only=read_only)
        store.set_aside = set_aside
        if not read_only:
            try:
                store.recover_interrupted()
                # Checkpoints run on a thread of their own (see checkpoint.py).
                db.execute("PRAGMA wal_autocheckpoint = 0")
                store._checkpointer = Checkpointer(path)
            except BaseException:
                db.close()
                raise
        return store

    def close(self) -> None:
        """Close the database; a store cannot be used after."""
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def recover_interrupted(self) -> int:
        """Mark ``interrupted`` the messages whose writing process died; returns how many."""
        with database.errors(self.path, "read unfinished messages"):
            writers = [
                row[0]
                for row in self._db.execute(
                    "SELECT DISTINCT writer FROM messages WHERE status = 'streaming'"
                )
            ]
        dead = [w for w in writers if w is None or not lease.is_alive(self._leases, w)]
        count = 0
        if dead:
            with self._write("mark unfinished messages"):
                for writer in dead:
                    count += self._db.execute(
                        "UPDATE messages SET status = 'interrupted', writer = NULL "
                        "WHERE status = 'streaming' AND writer IS ?",
                        (writer,),
                    ).rowcount
            log.info("%d message(s) left unfinished by a stopped process marked interrupted", count)
        lease.sweep(self._leases)
        return count

    # -- conversations ------------------------------------------------------

    def create_conversation(
        self, title: str = "", *, backend: str | None = None, model: str | None = None
    ) -> Conversation:
        """A new, empty conversation; the first question gives it a title unless given one."""
        now = codec.timestamp(codec.now())
        with self._write("create a conversation"):
            cursor = self._db.execute(
                "INSERT INTO conversations (title, created, updated, backend, model) "
                "VALUES (?, ?, ?, ?, ?)",
                (title.strip(), now, now, backend, model),
            )
        assert cursor.lastrowid is not None
        return self.conversation(cursor.lastrowid)

    def conversation(self, conversation_id: int) -> Conversation:
        """One conversation, in the trash or not."""
        with database.errors(self.path, "read a conversation"):
            row = self._db.execute(
                f"SELECT {_CONVERSATION} FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"There is no conversation {conversation_id}.")
        return rows.conversation(row)

    def list_conversations(self, offset: int = 0, limit: int = 50) -> list[Conversation]:
        """Conversations outside the trash, most recently updated first."""
        with database.errors(self.path, "list conversations"):
            found = self._db.execute(
                f"SELECT {_CONVERSATION} FROM conversations WHERE deleted IS NULL "
                "ORDER BY updated DESC, id DESC LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
        return [rows.conversation(row) for row in found]

    def count_conversations(self) -> int:
        """How many conversations are outside the trash."""
        with database.errors(self.path, "count conversations"):
            row = self._db.execute(
                "SELECT count(*) FROM conversations WHERE deleted IS NULL"
            ).fetchone()
        return int(row[0])

    def rename_conversation(self, conversation_id: int, title: str) -> Conversation:
        """Give a conversation a title of its own (blank brings back the placeholder)."""
        with self._write("rename a conversation"):
            self._require(conversation_id)
            self._db.execute(
                "UPDATE conversations SET title = ? WHERE id = ?", (title.strip(), conversation_id)
            )
        return self.conversation(conversation_id)

    def delete_conversation(self, conversation_id: int) -> None:
        """Move a conversation to the trash: hidden from lists and search until restored."""
        now = codec.timestamp(codec.now())
        with self._write("delete a conversation"):
            self._require(conversation_id)
            self._db.execute(
                "UPDATE conversations SET deleted = ? WHERE id = ? AND deleted IS NULL",
                (now, conversation_id),
            )

    def restore_conversation(self, conversation_id: int) -> Conversation:
        """Take a conversation out of the trash (the undo of :meth:`delete_conversation`)."""
        with self._write("restore a conversation"):
            self._require(conversation_id)
            self._db.execute(
                "UPDATE conversations SET deleted = NULL WHERE id = ?", (conversation_id,)
            )
        return self.conversation(conversation_id)

    def deleted_conversations(self) -> list[Conversation]:
        """The trash, most recently deleted first."""
        with database.errors(self.path, "list deleted conversations"):
            found = self._db.execute(
                f"SELECT {_CONVERSATION} FROM conversations WHERE deleted IS NOT NULL "
                "ORDER BY deleted DESC, id DESC"
            ).fetchall()
        return [rows.conversation(row) for row in found]

    def purge_deleted(self, older_than: timedelta = timedelta(0)) -> int:
        """Remove for good the conversations in the trash for longer than ``older_than``."""
        cutoff = codec.timestamp(codec.now() - older_than)
        with self._write("empty the trash"):
            cursor = self._db.execute(
                "DELETE FROM conversations WHERE deleted IS NOT NULL AND deleted <= ?", (cutoff,)
            )
        return cursor.rowcount

    # -- messages -----------------------------------------------------------

    def messages(self, conversation_id: int) -> list[Message]:
        """The messages of a conversation, in order; of each question's answers, exactly
        one is ``chosen`` (see :mod:`s1desk.store.versions`)."""
        self.conversation(conversation_id)
        with database.errors(self.path, "read messages"):
            found = self._db.execute(
                f"SELECT {_MESSAGE} FROM messages WHERE conversation_id = ? ORDER BY position",
                (conversation_id,),
            ).fetchall()
        messages = [m for row in found if (m := rows.message(row)) is not None]
        if any(rows.position_damaged(m) for m in messages):
            # Positions grow with ids in a conversation: the next best order.
            messages.sort(key=lambda m: m.id)
        return versions.with_choice(messages)

    def message(self, message_id: int) -> Message:
        """One message, ``chosen`` as stored (:meth:`messages` tells which answer is chosen
        when none of a question's answers is marked)."""
        with database.errors(self.path, "read a message"):
            row = self._db.execute(
                f"SELECT {_MESSAGE} FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"There is no message {message_id}.")
        message = rows.message(row)
        if message is None:
            raise StoreCorruptError(
                f"Message {message_id} in {self.path} is damaged (its role is {row[3]!r})."
            )
        return message

    def turns(self, conversation_id: int) -> list[Turn]:
        """The conversation as history for the next request: questions and the chosen
        answer to each.

        A question whose chosen answer failed with nothing written is left out with it,
        as is one that never got an answer unless it is the last (the one being asked).
        """
        messages = self.messages(conversation_id)
        groups = versions.answer_groups(messages)
        turns: list[Turn] = []
        for k, group in enumerate(groups):
            if group.question is None:
                continue
            if not group.answers:
                if k == len(groups) - 1:
                    turns.append(Turn("user", messages[group.question].text))
                continue
            answer = messages[group.chosen_message]
            if answer.text:
                turns += [
                    Turn("user", messages[group.question].text),
                    Turn("assistant", answer.text),
                ]
        return turns

    def add_question(self, conversation_id: int, text: str) -> Message:
        """Append the user's question; the first one titles an untitled conversation."""
        now = codec.timestamp(codec.now())
        with self._write("save the question"):
            conversation = self._require(conversation_id)
            position = self._next_position(conversation_id)
            cursor = self._db.execute(
                "INSERT INTO messages (conversation_id, position, role, text, created, updated) "
                "VALUES (?, ?, 'user', ?, ?, ?)",
                (conversation_id, position, text, now, now),
            )
            if not conversation.title and position == 0:
                self._db.execute(
                    "UPDATE conversations SET title = ? WHERE id = ?",
                    (title_from_question(text), conversation_id),
                )
            self._touch(conversation_id, now)
        assert cursor.lastrowid is not None
        return self.message(cursor.lastrowid)

    def start_answer(
        self,
        conversation_id: int,
        *,
        backend: str | None = None,
        model: str | None = None,
        policy: BudgetPolicy | None = None,
        sampler: SamplerSettings | None = None,
    ) -> int:
        """Append an empty ``streaming`` answer and return its id.

        :meth:`save_answer` fills it as it streams (a
        :class:`~s1desk.chat.recording.Recording` writes it in batches) and
        marks it complete, interrupted or failed at the end.
        """
        if self._lease is None and not self.read_only:
            self._lease = lease.WriterLease(self._leases)
        writer = self._lease.id if self._lease is not None else None
        now = codec.timestamp(codec.now())
        with self._write("start saving the answer"):
            self._require(conversation_id)
            position = self._next_position(conversation_id)
            message_id = message_writes.insert_answer(
                self._db,
                conversation_id,
                position,
                writer=writer,
                policy=policy,
                sampler=sampler,
                backend=backend,
                model=model,
                now=now,
            )
            self._db.execute(
                "UPDATE conversations SET updated = ?, backend = coalesce(?, backend), "
                "model = coalesce(?, model) WHERE id = ?",
                (now, backend, model, conversation_id),
            )
        return message_id

    def save_answer(self, message_id: int, snapshot: AnswerSnapshot) -> None:
        """Write a streamed answer's state (what a recording writes on each flush)."""
        now = codec.timestamp(codec.now())
        streaming = snapshot.status is MessageStatus.STREAMING
        with self._write("save the answer"):
            if message_writes.update_answer(self._db, message_id, snapshot, now) != 1:
                raise NotFoundError(f"There is no answer {message_id} to save.")
            if not streaming:
                self._db.execute(
                    "UPDATE conversations SET updated = ? "
                    "WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)",
                    (now, message_id),
                )

    def choose_answer(self, message_id: int) -> None:
        """Make answer ``message_id`` the chosen version of its question's answers (the one
        shown and gone on from); the others are kept."""
        with self._write("save the answer chosen"):
            if not message_writes.choose_answer(self._db, message_id):
                raise NotFoundError(f"There is no answer {message_id} to choose.")

    # -- export and import ----------------------------------------------------

    def export_json(self, conversation_id: int, *, reasoning: bool = True) -> str:
        """The conversation as a versioned JSON document (:meth:`import_json` reads it)."""
        conversation = self.conversation(conversation_id)
        return export.to_json(conversation, self.messages(conversation_id), reasoning=reasoning)

    def export_markdown(self, conversation_id: int, *, reasoning: bool = True) -> str:
        """The conversation as Markdown, reasoning as quoted blocks if ``reasoning``."""
        conversation = self.conversation(conversation_id)
        return export.to_markdown(conversation, self.messages(conversation_id), reasoning=reasoning)

    def import_json(self, text: str | bytes) -> Conversation:
        """Add the conversation in a JSON export as a new one; all of it or nothing.

        Raises :class:`~s1desk.store.errors.ImportFormatError` for a malformed
        file, saying what is wrong and where; the store is left unchanged.
        """
        conversation, messages = importer.parse_export(text)
        return self.insert_conversation(conversation, messages)

    # -- search -------------------------------------------------------------

    def search(self, query: str, *, limit: int = 20, offset: int = 0) -> list[SearchHit]:
        """Messages whose question, answer or reasoning match ``query``, newest first.

        Conversations in the trash are left out. See :func:`s1desk.store.search.fts_query`
        for what the query may hold.
        """
        with database.errors(self.path, "search the history"):
            return fts.search(self._db, query, limit=limit, offset=offset)

    # -- helpers --------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self, doing: str) -> Iterator[sqlite3.Connection]:
        with database.transaction(self._db, self.path, doing) as db:
            yield db
        if self._checkpointer is not None:
            self._checkpointer.nudge()

    def _require(self, conversation_id: int) -> Conversation:
        row = self._db.execute(
            f"SELECT {_CONVERSATION} FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"There is no conversation {conversation_id}.")
        return rows.conversation(row)

    def _next_position(self, conversation_id: int) -> int:
        row = self._db.execute(
            "SELECT coalesce(max(position) + 1, 0) FROM messages WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchone()
        return int(row[0])

    def _touch(self, conversation_id: int, now: float) -> None:
        self._db.execute(
            "UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id)
        )

    def insert_conversation(
        self, conversation: Conversation, messages: Sequence[Message]
    ) -> Conversation:
        """Add a whole conversation at once (an import), keeping its timestamps.

        Ids in the arguments are ignored; new ones are given. All or nothing.
        """
        with self._write("import the conversation"):
            cursor = self._db.execute(
                "INSERT INTO conversations (title, created, updated, backend, model) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    conversation.title,
                    codec.timestamp(conversation.created),
                    codec.timestamp(conversation.updated),
                    conversation.backend,
                    conversation.model,
                ),
            )
            new_id = cursor.lastrowid
            assert new_id is not None
            for position, m in enumerate(messages):
                message_writes.insert_message(self._db, new_id, position, m)
        return self.conversation(new_id)
