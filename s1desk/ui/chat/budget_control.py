"""The thinking-budget control: a log-scale range slider (at least … at most) with exact values."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QWidget
from superqt import QRangeSlider

from s1desk.thinking.budget_scale import STEPS, position_to_tokens, tokens_to_position
from s1desk.thinking.policy import BudgetPolicy


class BudgetControl(QWidget):
    """Picks ``max_thinking`` (0 = answer at once), ``min_thinking`` and the most Waits.

    The slider's right handle is the cap and its left handle the minimum, on
    a log-like scale; the spin boxes show and take exact token counts.
    """

    policy_changed = Signal(BudgetPolicy)

    def __init__(self, policy: BudgetPolicy, limit: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._policy = policy
        self._limit = limit
        self._syncing = False

        self.slider = QRangeSlider(Qt.Orientation.Horizontal)  # type: ignore[no-untyped-call]
        self.slider.setObjectName("budgetSlider")
        self.slider.setRange(0, STEPS)
        self.slider.setMinimumWidth(160)
        self.slider.setToolTip(
            "Thinking budget. Right handle: at most (far left = answer at once); "
            "left handle: at least, reached by appending “Wait”."
        )
        self.max_box = self._spin("maxThinking", "Most thinking tokens; 0 answers at once")
        self.max_box.setSpecialValueText("0 (off)")
        self.min_box = self._spin("minThinking", "Think at least this many tokens (appends “Wait”)")
        self.waits_box = QSpinBox()
        self.waits_box.setObjectName("maxWaits")
        self.waits_box.setRange(0, 64)
        self.waits_box.setToolTip("Most “Wait” extensions (the paper uses up to 6)")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Think"))
        layout.addWidget(self.slider, 1)
        layout.addWidget(QLabel("at least"))
        layout.addWidget(self.min_box)
        layout.addWidget(QLabel("at most"))
        layout.addWidget(self.max_box)
        layout.addWidget(QLabel("Waits ≤"))
        layout.addWidget(self.waits_box)

        self.slider.valueChanged.connect(self._slider_moved)
        self.max_box.valueChanged.connect(self._max_edited)
        self.min_box.valueChanged.connect(self._min_edited)
        self.waits_box.valueChanged.connect(self._waits_edited)
        self.set_limit(limit)
        self.set_policy(policy)

    def _spin(self, name: str, tip: str) -> QSpinBox:
        box = QSpinBox()
        box.setObjectName(name)
        box.setGroupSeparatorShown(True)
        box.setAccelerated(True)
        box.setKeyboardTracking(False)
        box.setToolTip(tip)
        box.setMinimumWidth(84)
        return box

    @property
    def policy(self) -> BudgetPolicy:
        return self._policy

    @property
    def limit(self) -> int:
        return self._limit

    def set_limit(self, limit: int) -> None:
        """The largest budget offered (the model's context window)."""
        self._limit = max(1, limit)
        self.max_box.setRange(0, self._limit)
        self.min_box.setRange(0, self._limit)
        if self._policy.max_thinking > self._limit:
            self._set(self._policy.with_max_thinking(self._limit))
        else:
            self._sync()

    def set_policy(self, policy: BudgetPolicy) -> None:
        """Show ``policy`` (emits ``policy_changed`` when it differs)."""
        self._set(policy)

    def _set(self, policy: BudgetPolicy) -> None:
        changed = policy != self._policy
        self._policy = policy
        self._sync()
        if changed:
            self.policy_changed.emit(policy)

    def _sync(self) -> None:
        self._syncing = True
        try:
            p = self._policy
            self.slider.setValue(
                (
                    tokens_to_position(p.min_thinking, self._limit),
                    tokens_to_position(p.max_thinking, self._limit),
                )
            )
            self.max_box.setValue(p.max_thinking)
            self.min_box.setValue(p.min_thinking)
            self.waits_box.setValue(p.max_waits)
        finally:
            self._syncing = False

    def _slider_moved(self, value: tuple[int, int]) -> None:
        if self._syncing:
            return
        low, high = value
        cap = position_to_tokens(high, self._limit)
        floor = min(position_to_tokens(low, self._limit), cap)
        self._set(replace(self._policy, max_thinking=cap, min_thinking=floor))

    def _max_edited(self, value: int) -> None:
        if not self._syncing:
            self._set(self._policy.with_max_thinking(value))

    def _min_edited(self, value: int) -> None:
        if self._syncing:
            return
        cap = max(self._policy.max_thinking, value)
        self._set(replace(self._policy, max_thinking=cap, min_thinking=value))

    def _waits_edited(self, value: int) -> None:
        if not self._syncing:
            self._set(replace(self._policy, max_waits=value))
