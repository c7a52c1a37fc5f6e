"""A conversation: user messages and the assistant replies, and the requests to send."""

from __future__ import annotations

import time
from collections.abc import Callable

from s1desk.backends.base import GenerationRequest
from s1desk.chat.exchange import AnswerVersion, Exchange
from s1desk.chat.message import AssistantMessage
from s1desk.errors import S1DeskError
from s1desk.sampling import SamplerSettings
from s1desk.thinking.format import DEFAULT_SYSTEM_PROMPT, Turn
from s1desk.thinking.policy import BudgetPolicy


class ChatStateError(S1DeskError):
    """An action that does not fit the conversation (e.g. regenerate with nothing sent)."""


__all__ = ["AnswerVersion", "ChatSession", "ChatStateError", "Exchange"]


class ChatSession:
    """The turns of one conversation. Plain data, no Qt, no I/O.

    Each reply is generated from the turns before it: previous users'
    messages and the chosen version of each previous answer (not their
    thinking, as s1 was trained). A conversation store saves and restores
    ``exchanges``.
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
        """The turns that come before exchange ``index``: each with its chosen answer."""
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

    def choose_version(self, index: int, version: int) -> AssistantMessage:
        """Show answer ``version`` (from 0) of exchange ``index`` and go on from it; every
        version is kept. Returns the reply now chosen."""
        if not 0 <= index < len(self.exchanges):
            raise ChatStateError(f"There is no message {index + 1}.")
        exchange = self.exchanges[index]
        if not 0 <= version < len(exchange.versions):
            count = len(exchange.versions)
            raise ChatStateError(
                f"Message {index + 1} has {count} answer version{'s' if count != 1 else ''}; "
                f"there is no version {version + 1}."
            )
        exchange.chosen = version
        return exchange.versions[version].reply

    def start_reply(
        self,
        index: int,
        policy: BudgetPolicy,
        sampler: SamplerSettings,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        source: str = "",
    ) -> GenerationRequest:
        """Begin a new reply to exchange ``index`` from backend ``source``: a new answer
        version, chosen; the earlier versions are kept. Later exchanges are dropped."""
        if not 0 <= index < len(self.exchanges):
            raise ChatStateError(f"There is no message {index + 1}.")
        del self.exchanges[index + 1 :]
        exchange = self.exchanges[index]
        request = GenerationRequest(
            question=exchange.user,
            history=tuple(self.history(index)),
            system_prompt=system_prompt,
            policy=policy,
            sampler=sampler,
        )
        reply = AssistantMessage(policy=policy, clock=self._clock, source=source)
        exchange.add_version(reply, request)
        return request

    def clear(self) -> None:
        self.exchanges.clear()
