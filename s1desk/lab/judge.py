"""Judging one reply against the gold answer, with the reason written down."""

from __future__ import annotations

import re
from dataclasses import dataclass

from s1desk.lab.equivalence import equivalent
from s1desk.lab.extract import Extraction, clean, extract
from s1desk.lab.questions import LETTERS, AnswerKind, Question

_INTEGER = re.compile(r"[+-]?\d+")
_LETTER = re.compile(r"^\(?([A-Za-z])\)?(?:[.):]|\s|$)")
_TEXT_WRAP = re.compile(r"^\\(?:text|textbf|mathrm|mathbf)\{(.*)\}$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A judged reply: what was extracted, whether it is right, and why.

    ``vote`` is the key the reply votes with in a majority (``None``: it
    abstains, having no answer). Correct replies vote for the gold answer, as
    in s1's ``maj@n``, so equivalent spellings count together.
    """

    extracted: str | None
    correct: bool
    why: str
    vote: str | None


GOLD_VOTE = "=gold"


def _unwrap(text: str) -> str:
    s = clean(text)
    while m := _TEXT_WRAP.match(s):
        s = clean(m.group(1))
    return s


def _integer(text: str) -> int | None:
    s = _unwrap(text).replace(",", "").replace("\\,", "").replace(" ", "")
    s = re.sub(r"\.0+$", "", s)
    return int(s) if _INTEGER.fullmatch(s) else None


def _letter(text: str, choices: tuple[str, ...]) -> str | None:
    s = _unwrap(text)
    for i, choice in enumerate(choices):
        if s.casefold() == choice.strip().casefold():
            return LETTERS[i]
    m = _LETTER.match(s)
    if m is None:
        return None
    letter = m.group(1).upper()
    return letter if letter in LETTERS[: max(len(choices), 1)] else None


def _judge_integer(question: Question, text: str) -> Verdict:
    gold = _integer(question.answer)
    got = _integer(text)
    if gold is not None and got is not None:
        if got == gold:
            return Verdict(text, True, f"{got} = {gold} (whole numbers)", GOLD_VOTE)
        return Verdict(text, False, f"{got} ≠ {gold} (whole numbers)", f"int:{got}")
    return _judge_math(question, text)


def _judge_math(question: Question, text: str) -> Verdict:
    gold = _unwrap(question.answer)
    got = _unwrap(text)
    if got == gold or got.replace(" ", "") == gold.replace(" ", ""):
        return Verdict(text, True, f"{got!r} is the gold answer as written", GOLD_VOTE)
    result = equivalent(gold, got)
    if result is None:
        return Verdict(
            text,
            False,
            f"{got!r} differs from {gold!r} as text, and math-verify could not read both",
            f"text:{got}",
        )
    if result.equal:
        return Verdict(
            text,
            True,
            f"math-verify: {result.answer_form} is equivalent to gold {result.gold_form}",
            GOLD_VOTE,
        )
    return Verdict(
        text,
        False,
        f"math-verify: {result.answer_form} is not equivalent to gold {result.gold_form}",
        f"math:{result.answer_form}",
    )


def _judge_choice(question: Question, text: str) -> Verdict:
    gold = question.answer.strip().upper()
    got = _letter(text, question.choices)
    if got is None:
        return Verdict(text, False, f"{text!r} names none of the choices", f"text:{_unwrap(text)}")
    if got == gold:
        return Verdict(text, True, f"choice {got} = gold {gold}", GOLD_VOTE)
    return Verdict(text, False, f"choice {got} ≠ gold {gold}", f"letter:{got}")


def judge_extraction(question: Question, extraction: Extraction) -> Verdict:
    """Judge an extracted answer against ``question``'s gold answer."""
    if extraction.text is None:
        return Verdict(None, False, extraction.describe(), None)
    if question.kind is AnswerKind.INTEGER:
        verdict = _judge_integer(question, extraction.text)
    elif question.kind is AnswerKind.CHOICE:
        verdict = _judge_choice(question, extraction.text)
    else:
        verdict = _judge_math(question, extraction.text)
    return Verdict(
        verdict.extracted, verdict.correct, f"{extraction.describe()}: {verdict.why}", verdict.vote
    )


def judge(question: Question, answer: str) -> Verdict:
    """Extract the final answer from ``answer`` (the text after thinking) and judge it."""
    return judge_extraction(question, extract(answer))
