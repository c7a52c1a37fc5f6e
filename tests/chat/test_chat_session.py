"""The conversation model: history, edits, retries, and how events fold into a message."""

from __future__ import annotations

import pytest

from s1desk.backends.scripted import synthetic_reply
from s1desk.chat.message import AssistantMessage, PieceKind
from s1desk.chat.session import ChatSession, ChatStateError
from s1desk.chat.summary import finish_note, stats_line, thinking_summary
from s1desk.events import AnswerText, BudgetAdjusted, Done, ErrorEvent, ThinkingEnd, ThinkingText
from s1desk.sampling import SamplerSettings
from s1desk.thinking.format import Turn
from s1desk.thinking.machine import CloseReason, FinishReason, Phase
from s1desk.thinking.policy import BudgetPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def answered(session: ChatSession, text: str, answer: str) -> None:
    index = session.ask(text)
    session.start_reply(index, BudgetPolicy(), SamplerSettings())
    reply = session.exchanges[index].reply
    assert reply is not None
    for event in synthetic_reply(3, answer=answer):
        reply.apply(event)


def test_requests_carry_previous_answers_not_thinking() -> None:
    s = ChatSession()
    answered(s, "q1", "a1")
    index = s.ask("q2")
    request = s.start_reply(index, BudgetPolicy(max_thinking=9), SamplerSettings(), "sys")
    assert request.question == "q2"
    assert list(request.history) == [Turn("user", "q1"), Turn("assistant", "a1")]
    assert request.policy.max_thinking == 9
    assert request.system_prompt == "sys"


def test_edit_drops_what_followed_and_empty_messages_are_refused() -> None:
    s = ChatSession()
    answered(s, "q1", "a1")
    answered(s, "q2", "a2")
    assert s.edit(0, "q1 again") == 0
    assert len(s) == 1
    assert s.exchanges[0].reply is None
    with pytest.raises(ChatStateError):
        s.ask("   ")
    with pytest.raises(ChatStateError):
        s.edit(5, "x")
    with pytest.raises(ChatStateError):
        ChatSession().retry_index()


def test_live_summary_then_final_summary() -> None:
    clock = Clock()
    m = AssistantMessage(policy=BudgetPolicy(max_thinking=4000), clock=clock)
    assert thinking_summary(m) == "Reading the prompt…"
    events = synthetic_reply(1530, wait_at=(500, 900))
    for event in events[:812]:
        m.apply(event)
    assert m.phase is Phase.THINKING
    assert thinking_summary(m) == "Thinking… 812 / 4,000 tokens"
    for event in events[812:]:
        m.apply(event)
    assert m.finished
    # The scripted stats say 1,530 tokens at 500 tokens/s: 3.06 s of thinking.
    assert thinking_summary(m) == "Thought for 3.1 s · 1,530 tokens · 2 × Wait"
    assert [p.index for p in m.pieces if p.kind is PieceKind.WAIT] == [1, 2]
    assert m.pieces[-1].kind is PieceKind.END
    assert "500.0 tokens/s" in stats_line(m)
    assert "first token 0.05 s" in stats_line(m)
    assert m.reasoning.count("Wait") == 2


def test_cut_stop_error_and_adjusted_budget() -> None:
    cut = AssistantMessage(policy=BudgetPolicy(max_thinking=50))
    for event in synthetic_reply(50, cap=True):
        cut.apply(event)
    assert thinking_summary(cut).endswith("cut at budget")
    assert cut.pieces[-1].kind is PieceKind.CUT

    stopped = AssistantMessage(policy=BudgetPolicy())
    stopped.apply(ThinkingText("x"))
    stopped.apply(Done(FinishReason.CANCELLED))
    assert thinking_summary(stopped).endswith("stopped")
    assert finish_note(stopped) == "Stopped."

    failed = AssistantMessage(policy=BudgetPolicy())
    failed.apply(BudgetAdjusted(max_thinking=100, min_thinking=0, message="lowered to fit"))
    failed.apply(ErrorEvent(message="boom", kind="internal"))
    assert failed.policy.max_thinking == 100
    assert failed.notice == "lowered to fit"
    assert failed.phase is Phase.FINISHED
    assert failed.error == "boom"
    assert finish_note(failed) == "Error: boom"


def test_an_empty_answer_is_said_plainly() -> None:
    empty = AssistantMessage(policy=BudgetPolicy())
    empty.apply(ThinkingText("thinking"))
    empty.apply(ThinkingEnd(reason=CloseReason.NATURAL, thinking_tokens=1))
    empty.apply(Done(FinishReason.STOP))
    assert "without an answer" in finish_note(empty)

    answered = AssistantMessage(policy=BudgetPolicy())
    answered.apply(ThinkingEnd(reason=CloseReason.NONE, thinking_tokens=0))
    answered.apply(AnswerText("4"))
    answered.apply(Done(FinishReason.STOP))
    assert finish_note(answered) == ""


def test_no_answer_far_below_the_cap_points_at_the_minimum_not_the_budget() -> None:
    natural = AssistantMessage(policy=BudgetPolicy(max_thinking=4000))
    natural.apply(ThinkingText("thinking"))
    natural.apply(ThinkingEnd(reason=CloseReason.NATURAL, thinking_tokens=19))
    natural.apply(Done(FinishReason.STOP))
    note = finish_note(natural)
    assert "19 of 4,000" in note
    assert "minimum" in note
    assert "Think longer" not in note

    cut = AssistantMessage(policy=BudgetPolicy(max_thinking=50))
    cut.apply(ThinkingText("thinking"))
    cut.apply(ThinkingEnd(reason=CloseReason.CAP, thinking_tokens=50))
    cut.apply(Done(FinishReason.STOP))
    assert "Think longer may help" in finish_note(cut)


def test_waits_used_up_before_the_minimum_are_said_on_the_reply() -> None:
    from s1desk.events import WaitInjected

    m = AssistantMessage(policy=BudgetPolicy(max_thinking=4000, min_thinking=200, max_waits=6))
    for i in range(6):
        m.apply(ThinkingText("x"))
        m.apply(WaitInjected(text="Wait", at=i + 1, index=i + 1))
    m.apply(ThinkingEnd(reason=CloseReason.NATURAL, thinking_tokens=19))
    m.apply(AnswerText("4"))
    m.apply(Done(FinishReason.STOP))
    assert "minimum not reached: all 6 Waits used" in thinking_summary(m)
    enough = AssistantMessage(policy=BudgetPolicy(max_thinking=4000, min_thinking=10))
    enough.apply(ThinkingText("x"))
    enough.apply(ThinkingEnd(reason=CloseReason.NATURAL, thinking_tokens=30))
    enough.apply(Done(FinishReason.STOP))
    assert "minimum not reached" not in thinking_summary(enough)


def test_a_new_reply_is_a_new_version_chosen_and_the_earlier_ones_stay() -> None:
    s = ChatSession()
    answered(s, "q1", "first")
    first = s.exchanges[0].reply
    s.start_reply(0, BudgetPolicy(max_thinking=99), SamplerSettings())
    exchange = s.exchanges[0]
    assert len(exchange.versions) == 2
    assert exchange.chosen == 1
    assert exchange.reply is exchange.versions[1].reply
    assert exchange.reply is not first
    assert exchange.versions[0].reply is first  # kept, with what it was asked with
    assert exchange.versions[0].request is not None
    assert exchange.request is not None
    assert exchange.request.policy.max_thinking == 99


def test_the_model_hears_the_chosen_version_of_each_earlier_answer() -> None:
    s = ChatSession()
    answered(s, "q1", "first")
    s.start_reply(0, BudgetPolicy(), SamplerSettings())
    reply = s.exchanges[0].reply
    assert reply is not None
    for event in synthetic_reply(3, answer="second"):
        reply.apply(event)
    answered(s, "q2", "a2")
    assert s.history(2)[1] == Turn("assistant", "second")

    chosen = s.choose_version(0, 0)
    assert chosen.answer == "first"
    assert s.exchanges[0].reply is chosen
    assert [v.reply.answer for v in s.exchanges[0].versions] == ["first", "second"]
    assert len(s) == 2  # later exchanges stay
    request = s.start_reply(s.ask("q3"), BudgetPolicy(), SamplerSettings())
    assert list(request.history) == [
        Turn("user", "q1"),
        Turn("assistant", "first"),
        Turn("user", "q2"),
        Turn("assistant", "a2"),
    ]


def test_choosing_a_version_that_is_not_there_is_refused_clearly() -> None:
    s = ChatSession()
    answered(s, "q1", "first")
    with pytest.raises(
        ChatStateError, match="Message 1 has 1 answer version; there is no version 2"
    ):
        s.choose_version(0, 1)
    with pytest.raises(ChatStateError, match="no message 3"):
        s.choose_version(2, 0)
    with pytest.raises(ChatStateError, match="there is no version 0"):
        s.choose_version(0, -1)
    assert s.exchanges[0].chosen == 0


def test_editing_a_question_drops_its_versions_with_what_followed() -> None:
    s = ChatSession()
    answered(s, "q1", "a1")
    s.start_reply(0, BudgetPolicy(), SamplerSettings())
    answered(s, "q2", "a2")
    assert s.edit(0, "q1 again") == 0
    assert s.exchanges[0].versions == []
    assert s.exchanges[0].reply is None
    assert len(s) == 1
