"""The values the store hands out: conversations, messages, search hits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from s1desk.events import BudgetAdjusted, ErrorEvent, Stats
from s1desk.sampling import SamplerSettings
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.thinking.policy import BudgetPolicy

Role = Literal["user", "assistant"]
SearchField = Literal["question", "answer", "reasoning"]

#: Shown for a conversation that has no title yet (no question asked).
UNTITLED = "New conversation"


class MessageStatus(StrEnum):
    """Where a message stands.

    ``streaming`` only while a live process writes it; one left so by a process
    that died becomes ``interrupted`` the next time the store opens.
    """

    STREAMING = "streaming"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class WaitMark:
    """Where a "Wait" was injected into the reasoning.

    ``at_token`` counts thinking tokens before it (the event's ``at``);
    ``offset`` is the character offset in the reasoning where ``text`` starts.
    """

    index: int
    at_token: int
    offset: int
    text: str


@dataclass(frozen=True, slots=True)
class ThinkingEndMark:
    """Where and why thinking closed: after ``at_token`` tokens, at character ``offset``."""

    reason: CloseReason
    at_token: int
    offset: int


@dataclass(frozen=True, slots=True)
class Conversation:
    """One conversation; ``deleted`` is set while it sits in the trash."""

    id: int
    title: str
    created: datetime
    updated: datetime
    backend: str | None = None
    model: str | None = None
    deleted: datetime | None = None
    #: Columns that did not read back from the database, each with why (see ``rows``).
    damage: tuple[str, ...] = ()

    @property
    def display_title(self) -> str:
        return self.title or UNTITLED


@dataclass(frozen=True, slots=True)
class AnswerSnapshot:
    """Everything a streamed answer holds so far; written whole on every flush."""

    text: str = ""
    reasoning: str = ""
    waits: tuple[WaitMark, ...] = ()
    thinking_end: ThinkingEndMark | None = None
    stats: Stats | None = None
    budget_adjusted: BudgetAdjusted | None = None
    status: MessageStatus = MessageStatus.STREAMING
    finish_reason: FinishReason | None = None
    error: ErrorEvent | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A question (``user``) or an answer with its reasoning (``assistant``).

    ``text`` is the question or the answer. Offsets in ``waits`` and
    ``thinking_end`` are character (code point) offsets into ``reasoning``.
    """

    id: int
    conversation_id: int
    position: int
    role: Role
    text: str
    created: datetime
    updated: datetime
    status: MessageStatus = MessageStatus.COMPLETE
    reasoning: str = ""
    waits: tuple[WaitMark, ...] = ()
    thinking_end: ThinkingEndMark | None = None
    policy: BudgetPolicy | None = None
    sampler: SamplerSettings | None = None
    stats: Stats | None = None
    budget_adjusted: BudgetAdjusted | None = None
    backend: str | None = None
    model: str | None = None
    finish_reason: FinishReason | None = None
    error: ErrorEvent | None = None
    #: An answer: the version of its question's answers the conversation goes on from
    #: (see :mod:`s1desk.store.versions`).
    chosen: bool = False
    #: Columns that did not read back from the database, each with why; the message
    #: is shown without them (see ``rows``).
    damage: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SnippetPart:
    """A piece of a search snippet; ``match`` marks the words that matched."""

    text: str
    match: bool


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One message that matched a search, with a snippet of the field that matched."""

    message_id: int
    conversation_id: int
    conversation_title: str
    role: Role
    field: SearchField
    snippet: tuple[SnippetPart, ...]
    created: datetime

    @property
    def snippet_text(self) -> str:
        return "".join(part.text for part in self.snippet)
