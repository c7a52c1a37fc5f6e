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


def _block(role: str, content: str) -> str:
    return f"{IM_START}{role}\n{content}{IM_END}\n"


def render_prompt(
    history: Sequence[Turn],
    question: str,
    system_prompt: str = DEFAULT_SYSTEM_PROMPT,
) -> str:
    """Render a conversation and a new question up to the assistant header.

    The returned text ends with ``<|im_start|>assistant\\n``; the caller opens
    the thinking block (or the answer, when thinking is off) after it.
    """
    parts = [_block("system", system_prompt)] if system_prompt else []
    for turn in history:
        if turn.role == "user":
            parts.append(_block("user", turn.text))
        else:
            parts.append(_block("assistant", ANSWER_OPEN + turn.text))
    parts.append(_block("user", question))
    parts.append(f"{IM_START}assistant\n")
    return "".join(parts)
