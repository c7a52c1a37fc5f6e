"""Scoring real output shapes: nested boxes, several boxes, Answer lines, 023, letters."""

from __future__ import annotations

import pytest

from s1desk.lab.extract import Found, boxed_contents, extract
from s1desk.lab.judge import GOLD_VOTE, judge
from s1desk.lab.questions import AnswerKind, Question

AIME = Question("1", "Find N.", "023", AnswerKind.INTEGER)
MATH = Question("2", "Compute it.", "\\frac{1}{2}", AnswerKind.MATH)
CHOICE = Question("3", "Which?", "B", AnswerKind.CHOICE, ("red", "green", "blue", "white"))


def test_nested_braces_are_kept_whole() -> None:
    text = "So the probability is $\\boxed{\\frac{1}{2}}$."
    assert boxed_contents(text) == ["\\frac{1}{2}"]
    assert extract(text).text == "\\frac{1}{2}"
    deeper = "\\boxed{\\left\\{ \\frac{a}{b^{2}} \\right\\}}"
    assert boxed_contents(deeper) == ["\\left\\{ \\frac{a}{b^{2}} \\right\\}"]


def test_the_last_of_several_boxes_counts() -> None:
    text = "First guess \\boxed{12}, but recounting gives \\boxed{23}."
    found = extract(text)
    assert (found.text, found.found) == ("23", Found.BOXED)
    verdict = judge(AIME, text)
    assert verdict.correct
    assert verdict.extracted == "23"


def test_an_unclosed_box_is_skipped_for_the_last_complete_one() -> None:
    # A reply cut at the answer limit: the last box never closed.
    assert extract("\\boxed{7} and then \\boxed{\\frac{1}{").text == "7"


def test_a_box_wins_over_a_later_answer_line() -> None:
    assert extract("\\boxed{5}\nAnswer: 6").text == "5"


def test_the_last_answer_line_when_there_is_no_box() -> None:
    text = "Answer: 10\nHmm, no.\nAnswer: **023**."
    found = extract(text)
    assert (found.text, found.found) == ("023", Found.ANSWER_LINE)


def test_final_answer_on_the_next_line_after_a_cap() -> None:
    # After a budget cut the answer starts with the forced "Final Answer:".
    found = extract("Final Answer:\n\n$42$\n")
    assert found.text == "42"


@pytest.mark.parametrize("written", ["23", "023", "0023", "23.0", "$23$", "\\text{23}"])
def test_integers_are_normalised(written: str) -> None:
    verdict = judge(AIME, f"Answer: {written}")
    assert verdict.correct, verdict.why
    assert verdict.vote == GOLD_VOTE
    assert "23 = 23" in verdict.why


def test_a_wrong_integer_says_both_numbers() -> None:
    verdict = judge(AIME, "\\boxed{24}")
    assert not verdict.correct
    assert "24 ≠ 23" in verdict.why
    assert verdict.vote == "int:24"


@pytest.mark.parametrize("written", ["\\frac{1}{2}", "0.5", "1/2", "\\dfrac12", "\\tfrac{1}{2}"])
def test_math_answers_are_compared_for_equivalence(written: str) -> None:
    verdict = judge(MATH, f"The answer is $\\boxed{{{written}}}$")
    assert verdict.correct, verdict.why
    assert verdict.extracted == written


def test_a_wrong_math_answer_is_explained() -> None:
    verdict = judge(MATH, "\\boxed{\\frac{1}{3}}")
    assert not verdict.correct
    assert "math-verify" in verdict.why
    assert "not equivalent" in verdict.why


@pytest.mark.parametrize("written", ["B", "(B)", "B)", "b", "\\text{B}", "**B**", "green"])
def test_multiple_choice_by_letter(written: str) -> None:
    verdict = judge(CHOICE, f"Answer: {written}")
    assert verdict.correct, verdict.why
    assert "choice B = gold B" in verdict.why


def test_a_wrong_letter_and_a_letter_out_of_range() -> None:
    assert judge(CHOICE, "\\boxed{C}").vote == "letter:C"
    out_of_range = judge(CHOICE, "Answer: F")
    assert not out_of_range.correct
    assert "names none of the choices" in out_of_range.why


def test_no_answer_at_all_abstains() -> None:
    verdict = judge(AIME, "I think it is twenty-three")
    assert (verdict.extracted, verdict.correct, verdict.vote) == (None, False, None)
    assert "no complete \\boxed{}" in verdict.why


def test_hostile_input_is_judged_not_crashed() -> None:
    long = "\\boxed{" + "x^" * 5000 + "2}"
    verdict = judge(MATH, long)
    assert not verdict.correct
    assert "could not read" in verdict.why
    assert not judge(MATH, "\\boxed{\\frac{").correct
