"""The budget policy: its defaults, every bound it refuses (with its message), and lowering it."""

from __future__ import annotations

import re

import pytest

from s1desk.errors import PolicyError
from s1desk.thinking.policy import DEFAULT_MAX_WAITS, BudgetPolicy


def test_defaults_are_the_papers() -> None:
    assert DEFAULT_MAX_WAITS == 6
    assert BudgetPolicy() == BudgetPolicy(
        max_thinking=4000,
        min_thinking=0,
        max_waits=6,
        wait_text="Wait",
        cap_suffix="Final Answer:",
        max_answer=4096,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_thinking": -1}, "maximum thinking must be 0 or more, not -1"),
        ({"min_thinking": -1}, "minimum thinking must be 0 or more, not -1"),
        (
            {"max_thinking": 5, "min_thinking": 6},
            "minimum thinking (6) is above the maximum (5)",
        ),
        ({"max_waits": -1}, "the number of Wait extensions must be 0 or more, not -1"),
        ({"max_answer": 0}, "the answer needs at least 1 token, not 0"),
        ({"min_thinking": 1, "max_waits": 1, "wait_text": ""}, "the extension text is empty"),
    ],
)
def test_each_bad_bound_gets_its_own_message(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=f"^{re.escape(message)}$"):
        BudgetPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_thinking": 0, "min_thinking": 0},
        {"max_thinking": 7, "min_thinking": 7},
        {"max_waits": 0},
        {"max_answer": 1},
        # An empty extension text is fine where it can never be used.
        {"min_thinking": 0, "max_waits": 3, "wait_text": ""},
        {"min_thinking": 5, "max_waits": 0, "wait_text": ""},
    ],
)
def test_the_edges_of_each_bound_are_allowed(kwargs: dict[str, object]) -> None:
    policy = BudgetPolicy(**kwargs)  # type: ignore[arg-type]
    for name, value in kwargs.items():
        assert getattr(policy, name) == value


def test_lowering_the_cap_keeps_everything_else() -> None:
    policy = BudgetPolicy(
        max_thinking=100, min_thinking=30, max_waits=2, wait_text="Hmm", max_answer=9
    )
    assert policy.with_max_thinking(50) == BudgetPolicy(
        max_thinking=50, min_thinking=30, max_waits=2, wait_text="Hmm", max_answer=9
    )
    assert policy.with_max_thinking(20).min_thinking == 20
    assert policy.with_max_thinking(30).min_thinking == 30
    assert policy.with_max_thinking(0).min_thinking == 0
