"""The budget-forcing state machine that both backends drive.

The machine knows nothing of tokens or text streams: a backend tells it how
many tokens went into the thinking block and when the model asked to stop
thinking, and the machine answers with what to do next. The local backend
calls it per token, the remote one per streamed segment, so both behave the
same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum

from s1desk.thinking.format import ANSWER_OPEN
from s1desk.thinking.policy import BudgetPolicy, CapLanding


class Phase(Enum):
    """Where a generation stands."""

    THINKING = "thinking"
    ANSWERING = "answering"
    FINISHED = "finished"


class CloseReason(StrEnum):
    """Why the thinking block ended."""

    NATURAL = "natural"
    CAP = "cap"
    NONE = "none"


class FinishReason(StrEnum):
    """Why the whole generation ended."""

    STOP = "stop"
    LENGTH = "length"
    CONTEXT_FULL = "context_full"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Think:
    """Keep thinking; at most ``room`` more tokens fit under the cap."""

    room: int


@dataclass(frozen=True, slots=True)
class InjectWait:
    """Drop the end-of-thinking signal and append ``text`` instead.

    At most ``room`` of its tokens fit under the cap; the caller truncates.
    """

    text: str
    room: int


@dataclass(frozen=True, slots=True)
class CloseThinking:
    """Append the answer delimiter (after a cap also ``suffix``) and answer.

    The suffix belongs to the answer: it is shown and stored with it. ``lead``
    (a wrap-up message after a cap) goes before the delimiter and belongs to
    the reasoning; report its tokens with :meth:`BudgetForcer.wrapped_up`.
    """

    reason: CloseReason
    suffix: str = ""
    delimiter: str = ANSWER_OPEN
    lead: str = ""

    @property
    def text(self) -> str:
        """Everything to append, in order."""
        return self.lead + self.delimiter + self.suffix


@dataclass(frozen=True, slots=True)
class Answer:
    """Keep answering; at most ``room`` more tokens are allowed."""

    room: int


@dataclass(frozen=True, slots=True)
class Finish:
    """The generation is over."""

    reason: FinishReason


Decision = Think | InjectWait | CloseThinking | Answer | Finish


class ProtocolError(RuntimeError):
    """A backend drove the machine out of order (a bug, not a user error)."""


@dataclass(slots=True)
class BudgetForcer:
    """Budget forcing for one generation, as defined by the s1 paper, for any format.

    The thinking block never ends outside ``[min_thinking, max_thinking]``
    unless the allowed number of extensions runs out first, or a graceful
    landing (``wrap-up``, ``finish-sentence``) goes past the cap: those tokens
    are counted in :attr:`overshoot`. ``delimiter`` is the format's text that
    closes thinking.
    """

    policy: BudgetPolicy
    #: The format's text that closes thinking and opens the answer.
    delimiter: str = ANSWER_OPEN
    phase: Phase = Phase.THINKING
    thinking_tokens: int = 0
    answer_tokens: int = 0
    waits: int = 0
    #: Thinking-token offsets at which each extension was injected.
    wait_positions: list[int] = field(default_factory=list)
    close_reason: CloseReason | None = None
    #: Thinking tokens past the cap (a graceful landing), included in ``thinking_tokens``.
    overshoot: int = 0
    #: Past the cap, finishing a sentence.
    in_grace: bool = False
    _started: bool = False

    def start(self) -> Think | CloseThinking:
        """Begin: think, or with a zero budget answer at once."""
        if self._started:
            raise ProtocolError("start() called twice")
        self._started = True
        if self.policy.max_thinking == 0:
            return self._close(CloseReason.NONE)
        return Think(room=self.policy.max_thinking)

    @property
    def room(self) -> int:
        """Tokens still allowed in the current block."""
        if self.phase is Phase.THINKING:
            grace = self.policy.grace_tokens if self.in_grace else 0
            return self.policy.max_thinking + grace - self.thinking_tokens
        if self.phase is Phase.ANSWERING:
            return self.policy.max_answer - self.answer_tokens
        return 0

    def thought(self, count: int, *, sentence_end: bool = False) -> Think | CloseThinking:
        """``count`` model tokens were added to the thinking block.

        ``sentence_end`` says that their text ends a sentence; it matters only
        past the cap with the ``finish-sentence`` landing.
        """
        self._expect(Phase.THINKING)
        if count < 0 or count > self.room:
            raise ProtocolError(f"{count} thinking tokens do not fit in a room of {self.room}")
        self.thinking_tokens += count
        self.overshoot = max(0, self.thinking_tokens - self.policy.max_thinking)
        if self.in_grace and sentence_end:
            return self._close(CloseReason.CAP)
        if self.room == 0:
            if (
                not self.in_grace
                and not sentence_end
                and self.policy.landing is CapLanding.FINISH_SENTENCE
                and self.policy.grace_tokens > 0
            ):
                self.in_grace = True
                return Think(room=self.room)
            return self._close(CloseReason.CAP)
        return Think(room=self.room)

    def end_requested(self) -> InjectWait | CloseThinking:
        """The model emitted an end-of-thinking signal (delimiter, end of turn or EOS).

        Below the minimum, and while extensions are left, the signal is
        suppressed and the extension text is injected. Otherwise thinking ends
        naturally, also when the budget is exactly met at that moment.
        """
        self._expect(Phase.THINKING)
        if self.in_grace:
            return self._close(CloseReason.CAP)
        # Below the minimum there is always room: min_thinking <= max_thinking, and a
        # block that fills its room closes at once (thought()).
        below_minimum = self.thinking_tokens < self.policy.min_thinking
        if below_minimum and self.waits < self.policy.max_waits:
            self.waits += 1
            self.wait_positions.append(self.thinking_tokens)
            return InjectWait(text=self.policy.wait_text, room=self.room)
        return self._close(CloseReason.NATURAL)

    def wrapped_up(self, count: int) -> None:
        """``count`` tokens of a wrap-up message were forced past the cap (overshoot)."""
        self._expect(Phase.ANSWERING)
        self.thinking_tokens += count
        self.overshoot += count

    def injected(self, count: int) -> Think | CloseThinking:
        """``count`` tokens of an extension were added (they count as thinking)."""
        return self.thought(count)

    def answered(self, count: int) -> Answer | Finish:
        """``count`` model tokens were added to the answer."""
        self._expect(Phase.ANSWERING)
        if count < 0 or count > self.room:
            raise ProtocolError(f"{count} answer tokens do not fit in a room of {self.room}")
        self.answer_tokens += count
        if self.room == 0:
            return self._finish(FinishReason.LENGTH)
        return Answer(room=self.room)

    def answer_ended(self) -> Finish:
        """The model ended its answer (end of turn or EOS)."""
        self._expect(Phase.ANSWERING)
        return self._finish(FinishReason.STOP)

    def abort(self, reason: FinishReason) -> Finish:
        """End from outside: cancelled by the user or out of context."""
        return self._finish(reason)

    def _close(self, reason: CloseReason) -> CloseThinking:
        self.phase = Phase.ANSWERING
        self.close_reason = reason
        self.in_grace = False
        cap = reason is CloseReason.CAP
        suffix = self.policy.cap_suffix if cap else ""
        lead = self.policy.wrap_up_text if cap and self.policy.landing is CapLanding.WRAP_UP else ""
        return CloseThinking(reason=reason, suffix=suffix, delimiter=self.delimiter, lead=lead)

    def _finish(self, reason: FinishReason) -> Finish:
        self.phase = Phase.FINISHED
        return Finish(reason=reason)

    def _expect(self, phase: Phase) -> None:
        if not self._started:
            raise ProtocolError("start() was not called")
        if self.phase is not phase:
            raise ProtocolError(f"expected phase {phase.value}, the machine is {self.phase.value}")
