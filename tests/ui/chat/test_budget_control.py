"""The thinking-budget control: log-like scale, exact values, every part of the policy."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from s1desk.thinking.budget_scale import STEPS, position_to_tokens, tokens_to_position
from s1desk.thinking.policy import BudgetPolicy
from s1desk.ui.chat.budget_control import BudgetControl


def test_scale_makes_small_and_large_budgets_reachable() -> None:
    limit = 32_768
    assert position_to_tokens(0, limit) == 0
    assert position_to_tokens(STEPS, limit) == limit
    values = [position_to_tokens(p, limit) for p in range(STEPS + 1)]
    assert values == sorted(values)
    assert sum(1 for v in values if 0 < v <= 100) > 300  # small budgets: a wide stretch
    assert sum(1 for v in values if 4_000 <= v <= limit) > 150  # large ones too
    for tokens in (10, 256, 4000, 20_000):
        back = position_to_tokens(tokens_to_position(tokens, limit), limit)
        assert abs(back - tokens) / tokens < 0.06


def test_exact_values_and_waits(qtbot: QtBot) -> None:
    control = BudgetControl(BudgetPolicy(), limit=32_768)
    qtbot.addWidget(control)
    seen: list[BudgetPolicy] = []
    control.policy_changed.connect(seen.append)
    control.max_box.setValue(1234)
    assert control.policy.max_thinking == 1234
    control.min_box.setValue(500)
    control.waits_box.setValue(3)
    assert control.policy == BudgetPolicy(max_thinking=1234, min_thinking=500, max_waits=3)
    assert len(seen) == 3
    control.min_box.setValue(2000)  # above the cap: the cap follows
    assert control.policy.max_thinking == 2000
    control.max_box.setValue(0)  # answer at once; the minimum drops with it
    assert control.policy.max_thinking == 0
    assert control.policy.min_thinking == 0
    assert control.max_box.text() == "0 (off)"


def test_slider_handles_set_minimum_and_maximum(qtbot: QtBot) -> None:
    control = BudgetControl(BudgetPolicy(), limit=32_768)
    qtbot.addWidget(control)
    control.slider.setValue((tokens_to_position(300, 32_768), STEPS))
    assert control.policy.max_thinking == 32_768
    assert 280 <= control.policy.min_thinking <= 320
    assert control.max_box.value() == 32_768
    control.set_limit(2048)
    assert control.policy.max_thinking == 2048
    assert control.max_box.maximum() == 2048
