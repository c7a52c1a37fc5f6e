"""The problem bus: messages from Qt and core signals reach one subscriber, in order."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from s1desk.chat.signal import Signal as CoreSignal
from s1desk.ui.kit.problems import ProblemBus


class Feature(QObject):
    problem = Signal(str)


def test_every_source_reaches_the_bus(qapp: object) -> None:
    bus = ProblemBus()
    feature = Feature()
    core: CoreSignal[[str]] = CoreSignal()
    bus.collect(feature.problem, core)
    seen: list[str] = []
    bus.problem.connect(seen.append)
    feature.problem.emit("Could not load the model.")
    core.emit("No model is loaded.")
    bus.report("Settings could not be saved.")
    assert seen == [
        "Could not load the model.",
        "No model is loaded.",
        "Settings could not be saved.",
    ]
