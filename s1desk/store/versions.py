"""Answer versions: the answers to one question, and the one its conversation goes on from.

A regenerated answer is stored after the earlier ones, before the next
question. One of them is *chosen* (the ``chosen`` column): the one shown and
sent to the model as that exchange's answer. A group with none marked (a
database or an export from before versions could be chosen) goes on from
its last answer; one with several marked (a file changed by hand) from the
last of those.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from s1desk.store.records import Message


@dataclass(frozen=True, slots=True)
class AnswerGroup:
    """The answers to one question, as indexes into a conversation's messages."""

    question: int | None  # ``None``: answers with no question before them
    answers: tuple[int, ...]
    chosen: int  # an index into ``answers``

    @property
    def chosen_message(self) -> int:
        """The index (into the messages) of the chosen answer."""
        return self.answers[self.chosen]


def answer_groups(messages: Sequence[Message]) -> list[AnswerGroup]:
    """Each question's answers (a question without one has an empty group), in order."""
    groups: list[AnswerGroup] = []
    question: int | None = None
    answers: list[int] = []

    def close() -> None:
        if question is None and not answers:
            return
        marked = [k for k, i in enumerate(answers) if messages[i].chosen]
        chosen = marked[-1] if marked else max(len(answers) - 1, 0)
        groups.append(AnswerGroup(question, tuple(answers), chosen))

    for i, message in enumerate(messages):
        if message.role == "user":
            close()
            question, answers = i, []
        else:
            answers.append(i)
    close()
    return groups


def with_choice(messages: Sequence[Message]) -> list[Message]:
    """``messages`` with exactly one answer per question marked ``chosen``."""
    out = list(messages)
    for group in answer_groups(messages):
        for k, i in enumerate(group.answers):
            if out[i].chosen != (k == group.chosen):
                out[i] = dataclasses.replace(out[i], chosen=k == group.chosen)
    return out
