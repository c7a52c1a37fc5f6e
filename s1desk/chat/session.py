"""A conversation: user messages and the assistant replies, and the requests to send."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from s1desk.backends.base import GenerationRequest
from s1desk.chat.message import AssistantMessage
from s1desk.errors import S1DeskError
from s1desk.sampling import SamplerSettings
from s1desk.thinking.format import DEFAULT_SYSTEM_PROMPT, Turn
from s1desk.thinking.policy import BudgetPolicy


class ChatStateError(S1DeskError):
    """An action that does not fit the conversation (e.g. regenerate with nothing sent)."""


@dataclass
class Exchange:
    """A user message and the reply to it (``None`` until one is started)."""

    user: str
    reply: AssistantMessage | None = None
    request: GenerationRequest | None = None  # what the reply was asked with


class ChatSession:
    """The turns of one conversation. Plain data, no Qt, no I/O.

    Each reply is generated from the turns before it: previous users'
    messages and previous answers (not their thinking, as s1 was trained).
    A conversation store saves and restores ``exchanges``.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.exchanges: list[Exchange] = []
        self._clock = clock

    def __len__(self) -> int:
        return len(self.exchanges)

    @property
    def last_reply(self) -> AssistantMessage | None:
        return self.exchanges[-1].reply if self.exchanges else None

    def history(self, index: int) -> list[Turn]:
        """The turns that come before exchange ``index``."""
        turns: list[Turn] = []
        for exchange in self.exchanges[:index]:
            turns.append(Turn("user", exchange.user))
            if exchange.reply is not None and exchange.reply.answer:
                turns.append(Turn("assistant", exchange.reply.answer))
        return turns

    def ask(self, text: str) -> int:
        """Add a user message; return its index."""
        if not text.strip():
            raise ChatStateError("The message is empty.")
        self.exchanges.append(Exchange(text))
        return len(self.exchanges) - 1

    def edit(self, index: int, text: str) -> int:
        """Replace user message ``index`` and drop everything after it."""
        if not 0 <= index < len(self.exchanges):
            raise ChatStateError(f"There is no message {index + 1} to edit.")
        if not text.strip():
            raise ChatStateError("The message is empty.")
        del self.exchanges[index:]
        return self.ask(text)

    def retry_index(self) -> int:
        """The exchange that regenerate and think-longer re-run: the last one."""
        if not self.exchanges:
            raise ChatStateError("Nothing to regenerate yet.")
        return len(self.exchanges) - 1

    def start_reply(
        self,
        index: int,
        policy: BudgetPolicy,
        sampler: SamplerSettings,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        source: str = "",
    ) -> GenerationRequest:
        """Begin a (new) reply to exchange ``index`` from backend ``source``; later exchanges
        are dropped."""
        if not 0 <= index < len(self.exchanges):
            raise ChatStateError(f"There is no message {index + 1}.")
        del self.exchanges[index + 1 :]
        exchange = self.exchanges[index]
        exchange.reply = AssistantMessage(policy=policy, clock=self._clock, source=source)
        exchange.request = GenerationRequest(
            question=exchange.user,
            history=tuple(self.history(index)),
            system_prompt=system_prompt,
            policy=policy,
            sampler=sampler,
        )
        return exchange.request

    def clear(self) -> None:
        self.exchanges.clear()
