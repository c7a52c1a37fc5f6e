"""Every transition of the budget-forcing state machine."""

from __future__ import annotations

import pytest

from s1desk.errors import PolicyError
from s1desk.thinking.format import ANSWER_OPEN
from s1desk.thinking.machine import (
    Answer,
    BudgetForcer,
    CloseReason,
    CloseThinking,
    Finish,
    FinishReason,
    InjectWait,
    Phase,
    ProtocolError,
    Think,
)
from s1desk.thinking.policy import BudgetPolicy, CapLanding


def forcer(**policy: int) -> BudgetForcer:
    return BudgetForcer(BudgetPolicy(**policy))  # type: ignore[arg-type]


def test_start_thinks_with_the_whole_budget() -> None:
    m = forcer(max_thinking=100)
    assert m.start() == Think(room=100)
    assert m.phase is Phase.THINKING


def test_zero_budget_answers_at_once() -> None:
    m = forcer(max_thinking=0)
    decision = m.start()
    assert decision == CloseThinking(reason=CloseReason.NONE)
    assert decision.text == ANSWER_OPEN
    assert m.phase is Phase.ANSWERING
    assert m.close_reason is CloseReason.NONE


def test_tokens_shrink_the_room() -> None:
    m = forcer(max_thinking=10)
    m.start()
    assert m.thought(3) == Think(room=7)
    assert m.thought(1) == Think(room=6)
    assert m.thinking_tokens == 4


def test_reaching_the_cap_closes_with_the_suffix() -> None:
    m = forcer(max_thinking=5)
    m.start()
    decision = m.thought(5)
    assert isinstance(decision, CloseThinking)
    assert decision.reason is CloseReason.CAP
    assert decision.suffix == "Final Answer:"
    assert decision.text == ANSWER_OPEN + "Final Answer:"
    assert m.phase is Phase.ANSWERING
    assert m.thinking_tokens == 5


def test_more_tokens_than_the_room_is_a_protocol_error() -> None:
    m = forcer(max_thinking=5)
    m.start()
    with pytest.raises(ProtocolError):
        m.thought(6)


def test_natural_end_above_minimum() -> None:
    m = forcer(max_thinking=50, min_thinking=10)
    m.start()
    m.thought(12)
    assert m.end_requested() == CloseThinking(reason=CloseReason.NATURAL)
    assert m.waits == 0


def test_natural_end_exactly_at_minimum_is_allowed() -> None:
    m = forcer(max_thinking=50, min_thinking=10)
    m.start()
    m.thought(10)
    assert m.end_requested() == CloseThinking(reason=CloseReason.NATURAL)


def test_early_end_injects_wait() -> None:
    m = forcer(max_thinking=50, min_thinking=10)
    m.start()
    m.thought(4)
    assert m.end_requested() == InjectWait(text="Wait", room=46)
    assert m.waits == 1
    assert m.wait_positions == [4]
    assert m.phase is Phase.THINKING
    assert m.injected(1) == Think(room=45)
    assert m.thinking_tokens == 5


def test_custom_wait_text() -> None:
    m = BudgetForcer(BudgetPolicy(max_thinking=50, min_thinking=10, wait_text="Hmm"))
    m.start()
    decision = m.end_requested()
    assert isinstance(decision, InjectWait)
    assert decision.text == "Hmm"


def test_waits_run_out_then_thinking_ends_below_minimum() -> None:
    m = forcer(max_thinking=100, min_thinking=50, max_waits=2)
    m.start()
    for expected in (1, 2):
        m.thought(3)
        assert isinstance(m.end_requested(), InjectWait)
        m.injected(1)
        assert m.waits == expected
    m.thought(3)
    assert m.end_requested() == CloseThinking(reason=CloseReason.NATURAL)
    assert m.thinking_tokens == 11
    assert m.wait_positions == [3, 7]


def test_zero_waits_allowed_means_no_extension() -> None:
    m = forcer(max_thinking=100, min_thinking=50, max_waits=0)
    m.start()
    m.thought(2)
    assert m.end_requested() == CloseThinking(reason=CloseReason.NATURAL)


def test_end_signal_when_the_budget_is_exactly_met() -> None:
    # A segment-level backend can report the end together with the last
    # allowed token: the model stopped by itself inside the bounds.
    m = forcer(max_thinking=10)
    m.start()
    m.thought(9)
    assert m.end_requested() == CloseThinking(reason=CloseReason.NATURAL)
    assert m.thinking_tokens == 9


def test_end_signal_one_token_before_cap_with_min_equal_max() -> None:
    m = forcer(max_thinking=10, min_thinking=10)
    m.start()
    m.thought(9)
    decision = m.end_requested()
    assert decision == InjectWait(text="Wait", room=1)
    # The wait fills the budget exactly: the cap closes thinking at max.
    closing = m.injected(1)
    assert isinstance(closing, CloseThinking)
    assert closing.reason is CloseReason.CAP
    assert m.thinking_tokens == 10


def test_injection_may_reach_the_cap() -> None:
    m = forcer(max_thinking=6, min_thinking=6)
    m.start()
    m.thought(4)
    decision = m.end_requested()
    assert isinstance(decision, InjectWait)
    assert decision.room == 2
    closing = m.injected(2)
    assert isinstance(closing, CloseThinking)
    assert closing.reason is CloseReason.CAP


def test_answer_counts_until_its_maximum() -> None:
    m = forcer(max_thinking=2, max_answer=3)
    m.start()
    m.thought(2)
    assert m.answered(1) == Answer(room=2)
    assert m.answered(1) == Answer(room=1)
    assert m.answered(1) == Finish(reason=FinishReason.LENGTH)
    assert m.phase is Phase.FINISHED
    assert m.answer_tokens == 3


def test_answer_ends_naturally() -> None:
    m = forcer(max_thinking=0)
    m.start()
    m.answered(4)
    assert m.answer_ended() == Finish(reason=FinishReason.STOP)
    assert m.phase is Phase.FINISHED


def test_abort_from_any_phase() -> None:
    m = forcer(max_thinking=10)
    m.start()
    assert m.abort(FinishReason.CANCELLED) == Finish(reason=FinishReason.CANCELLED)
    assert m.phase is Phase.FINISHED
    with pytest.raises(ProtocolError):
        m.thought(1)


def test_out_of_order_calls_are_protocol_errors() -> None:
    m = forcer(max_thinking=10)
    with pytest.raises(ProtocolError):
        m.thought(1)
    m.start()
    with pytest.raises(ProtocolError):
        m.start()
    with pytest.raises(ProtocolError):
        m.answered(1)
    with pytest.raises(ProtocolError):
        m.answer_ended()


def test_room_per_phase() -> None:
    m = forcer(max_thinking=4, max_answer=7)
    m.start()
    assert m.room == 4
    m.thought(4)
    assert m.room == 7
    m.answer_ended()
    assert m.room == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_thinking": -1}, "maximum thinking"),
        ({"min_thinking": -1}, "minimum thinking"),
        ({"max_thinking": 5, "min_thinking": 6}, "above the maximum"),
        ({"max_waits": -1}, "Wait extensions"),
        ({"max_answer": 0}, "answer"),
    ],
)
def test_policy_rejects_bad_bounds(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        BudgetPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_lowering_the_cap_keeps_min_below() -> None:
    p = BudgetPolicy(max_thinking=100, min_thinking=80).with_max_thinking(50)
    assert (p.max_thinking, p.min_thinking) == (50, 50)


def test_finish_sentence_thinks_past_the_cap_until_a_sentence_ends() -> None:
    m = BudgetForcer(
        BudgetPolicy(max_thinking=10, landing=CapLanding.FINISH_SENTENCE, grace_tokens=4)
    )
    m.start()
    assert m.thought(10) == Think(room=4)  # at the cap mid-sentence: grace
    assert m.in_grace
    assert m.thought(1) == Think(room=3)
    closed = m.thought(1, sentence_end=True)
    assert isinstance(closed, CloseThinking)
    assert closed.reason is CloseReason.CAP
    assert (m.thinking_tokens, m.overshoot) == (12, 2)


def test_finish_sentence_closes_at_the_end_of_its_grace() -> None:
    m = BudgetForcer(
        BudgetPolicy(max_thinking=5, landing=CapLanding.FINISH_SENTENCE, grace_tokens=2)
    )
    m.start()
    m.thought(5)
    assert isinstance(m.thought(2), CloseThinking)
    assert m.overshoot == 2


def test_finish_sentence_at_a_sentence_end_closes_on_the_cap() -> None:
    m = BudgetForcer(BudgetPolicy(max_thinking=5, landing=CapLanding.FINISH_SENTENCE))
    m.start()
    assert isinstance(m.thought(5, sentence_end=True), CloseThinking)
    assert m.overshoot == 0


def test_wrap_up_leads_the_delimiter_and_counts_as_overshoot() -> None:
    m = BudgetForcer(BudgetPolicy(max_thinking=3, landing=CapLanding.WRAP_UP), delimiter="</think>")
    m.start()
    closed = m.thought(3)
    assert isinstance(closed, CloseThinking)
    assert closed.lead == BudgetPolicy().wrap_up_text
    assert closed.text == closed.lead + "</think>" + "Final Answer:"
    m.wrapped_up(9)
    assert (m.thinking_tokens, m.overshoot) == (12, 9)


def test_a_natural_end_has_no_wrap_up() -> None:
    m = BudgetForcer(BudgetPolicy(max_thinking=30, landing=CapLanding.WRAP_UP))
    m.start()
    m.thought(3)
    closed = m.end_requested()
    assert isinstance(closed, CloseThinking)
    assert closed.lead == ""


def test_an_empty_segment_counts_nothing() -> None:
    # A remote backend can stream a segment with no tokens in it.
    m = forcer(max_thinking=10, max_answer=5)
    m.start()
    assert m.thought(0) == Think(room=10)
    assert m.injected(0) == Think(room=10)
    m.thought(10)
    assert m.answered(0) == Answer(room=5)
    assert (m.thinking_tokens, m.answer_tokens) == (10, 0)


@pytest.mark.parametrize("count", [-1, 6])
def test_an_answer_count_outside_the_room_is_a_protocol_error(count: int) -> None:
    m = forcer(max_thinking=0, max_answer=5)
    m.start()
    with pytest.raises(ProtocolError, match=rf"^{count} answer tokens do not fit in a room of 5$"):
        m.answered(count)
    assert m.answer_tokens == 0


def test_a_negative_thinking_count_is_a_protocol_error() -> None:
    m = forcer(max_thinking=5)
    m.start()
    with pytest.raises(ProtocolError, match=r"^-1 thinking tokens do not fit in a room of 5$"):
        m.thought(-1)
    assert m.thinking_tokens == 0


def test_protocol_errors_say_what_went_wrong() -> None:
    m = forcer(max_thinking=10)
    with pytest.raises(ProtocolError, match=r"^start\(\) was not called$"):
        m.end_requested()
    m.start()
    with pytest.raises(ProtocolError, match=r"^start\(\) called twice$"):
        m.start()
    with pytest.raises(ProtocolError, match=r"^expected phase answering, the machine is thinking$"):
        m.answer_ended()


def test_a_natural_close_appends_only_the_delimiter() -> None:
    m = forcer(max_thinking=50)
    m.start()
    m.thought(3)
    decision = m.end_requested()
    assert isinstance(decision, CloseThinking)
    assert (decision.suffix, decision.text) == ("", ANSWER_OPEN)
