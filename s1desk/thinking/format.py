"""s1's ChatML prompt format with its think/answer delimiters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
ENDOFTEXT = "<|endoftext|>"

DEFAULT_SYSTEM_PROMPT = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

#: Opens the thinking block right after the assistant header.
THINK_OPEN = f"{IM_START}think\n"
#: Closes thinking and opens the answer (a natural end, or after a cap).
ANSWER_OPEN = f"{IM_START}answer\n"

Role = Literal["user", "assistant"]


@dataclass(frozen=True, slots=True)
class Turn:
    """One finished message of a conversation.

    Assistant turns carry only their answer: earlier thinking is not sent back
    to the model, as in the s1 evaluation and in other reasoning chat formats.
    """

    role: Role
    text: str


@dataclass(frozen=True, slots=True)
class PromptPart:
    """A piece of a rendered prompt.

    ``control`` parts are the format's own markup (delimiters, role headers):
    only they may be tokenized as special tokens. Everything else came from a
    person, a file or an earlier answer and is plain text, so a ``<|im_end|>``
    typed in a question stays five ordinary tokens and cannot forge a turn.
    """

    text: str
    control: bool


def _block(role: str, content: str) -> list[PromptPart]:
    return [
        PromptPart(f"{IM_START}{role}\n", control=True),
        PromptPart(content, control=False),
        PromptPart(f"{IM_END}\n", control=True),
    ]


def render_prompt_parts(
    history: Sequence[Turn],
    question: str,
    system_prompt: str = DEFAULT_SYSTEM_PROMPT,
) -> list[PromptPart]:
    """Render a conversation and a new question up to the assistant header.

    The parts end with ``<|im_start|>assistant\\n``; the caller opens the
    thinking block (or the answer, when thinking is off) after it. Empty text
    parts are left out.
    """
    parts = _block("system", system_prompt) if system_prompt else []
    for turn in history:
        if turn.role == "user":
            parts += _block("user", turn.text)
        else:
            parts += _block("assistant", "")[:1]
            parts.append(PromptPart(ANSWER_OPEN, control=True))
            parts += _block("assistant", turn.text)[1:]
    parts += _block("user", question)
    parts.append(PromptPart(f"{IM_START}assistant\n", control=True))
    return [p for p in parts if p.text]


def render_prompt(
    history: Sequence[Turn],
    question: str,
    system_prompt: str = DEFAULT_SYSTEM_PROMPT,
) -> str:
    """The prompt of :func:`render_prompt_parts` as one string (for display and logs).

    Never tokenize this string with special-token parsing on: use the parts.
    """
    return "".join(p.text for p in render_prompt_parts(history, question, system_prompt))
