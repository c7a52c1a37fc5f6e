"""The core's signal: subscribers called in order; one that raises does not stop the others."""

from __future__ import annotations

import logging

import pytest

from s1desk.chat.signal import Signal


def test_subscribers_are_called_in_order_and_a_failing_one_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    changed: Signal[[int]] = Signal()
    seen: list[str] = []

    def broken(_index: int) -> None:
        raise ValueError("a view broke")

    changed.connect(lambda i: seen.append(f"first {i}"))
    changed.connect(broken)
    changed.connect(lambda i: seen.append(f"last {i}"))
    with caplog.at_level(logging.ERROR):
        changed.emit(3)
    assert seen == ["first 3", "last 3"]
    assert "a view broke" in caplog.text
    changed.disconnect(broken)
    changed.disconnect(broken)  # not connected any more: nothing happens
    changed.emit(4)
    assert seen[-2:] == ["first 4", "last 4"]
