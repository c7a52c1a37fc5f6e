"""Event sequences to stream into a store, and a helper that records one exchange."""

from __future__ import annotations

from collections.abc import Sequence

from s1desk.chat.recording import start_recording
from s1desk.events import (
    AnswerText,
    Done,
    Stats,
    StreamEvent,
    ThinkingEnd,
    ThinkingText,
    WaitInjected,
)
from s1desk.sampling import SamplerSettings
from s1desk.store import Conversation, HistoryStore
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.thinking.policy import BudgetPolicy

POLICY = BudgetPolicy(max_thinking=200, min_thinking=50, max_waits=2)
SAMPLER = SamplerSettings(temperature=0.0, seed=7)


def generation(
    reasoning: Sequence[str] = ("Let me think about ", "prime numbers."),
    answer: Sequence[str] = ("The answer ", "is 42."),
    *,
    wait_after: int = 1,
    finish: FinishReason = FinishReason.STOP,
) -> list[StreamEvent]:
    """A plausible event sequence: thinking with one Wait, the end of thinking, an answer."""
    events: list[StreamEvent] = []
    tokens = 0
    for i, text in enumerate(reasoning):
        events.append(ThinkingText(text))
        tokens += 3
        if i + 1 == wait_after:
            events.append(WaitInjected("Wait", tokens, 1))
            tokens += 1
    events.append(ThinkingEnd(CloseReason.NATURAL, tokens))
    events += [AnswerText(text) for text in answer]
    events.append(Stats(12, 0, tokens, 2 * len(answer), 1, 0.05, 0.4, 0.6, 38.5))
    events.append(Done(finish))
    return events


def record(
    store: HistoryStore,
    question: str,
    events: Sequence[StreamEvent] | None = None,
    conversation: Conversation | None = None,
) -> Conversation:
    """Ask ``question`` and stream ``events`` (default: :func:`generation`) as its answer."""
    if conversation is None:
        conversation = store.create_conversation()
    store.add_question(conversation.id, question)
    with start_recording(
        store, conversation.id, backend="local", model="test.gguf", policy=POLICY, sampler=SAMPLER
    ) as recorder:
        for event in generation() if events is None else events:
            recorder.feed(event)
    return store.conversation(conversation.id)
