"""One question and its answer versions: every reply to it, and the one the chat goes on from."""

from __future__ import annotations

from dataclasses import dataclass, field

from s1desk.backends.base import GenerationRequest
from s1desk.chat.message import AssistantMessage


@dataclass
class AnswerVersion:
    """One reply to a question and what it was asked with (``None`` once restored)."""

    reply: AssistantMessage
    request: GenerationRequest | None = None


@dataclass
class Exchange:
    """A user message and every reply to it, in the order they were made.

    Regenerate and Think longer add a version and choose it; the chosen one is
    what the window shows, what Copy takes and what later questions send to
    the model as this exchange's answer. Switching never drops a version.
    """

    user: str
    versions: list[AnswerVersion] = field(default_factory=list)
    chosen: int = 0  # index into ``versions``

    @property
    def reply(self) -> AssistantMessage | None:
        """The chosen reply (``None`` until one is started)."""
        return self.versions[self.chosen].reply if self.versions else None

    @property
    def request(self) -> GenerationRequest | None:
        """What the chosen reply was asked with (``None`` for a restored one)."""
        return self.versions[self.chosen].request if self.versions else None

    def add_version(self, reply: AssistantMessage, request: GenerationRequest | None) -> int:
        """Append a reply and choose it; its index."""
        self.versions.append(AnswerVersion(reply, request))
        self.chosen = len(self.versions) - 1
        return self.chosen
