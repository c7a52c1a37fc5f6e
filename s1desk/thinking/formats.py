"""Thinking formats as data: how each model family opens, ends and closes its thinking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from s1desk.errors import PolicyError
from s1desk.thinking.format import (
    ANSWER_OPEN,
    ENDOFTEXT,
    IM_END,
    IM_START,
    THINK_OPEN,
    PromptPart,
    Turn,
    render_prompt_parts,
)


class FormatName(StrEnum):
    """The formats s1desk knows; ``auto`` picks one from the model."""

    AUTO = "auto"
    S1 = "s1"
    THINK_TAGS = "think-tags"
    GPT_OSS = "gpt-oss"


@dataclass(frozen=True, slots=True)
class ThinkingFormat:
    """One family's thinking markup.

    - ``think_open`` follows the assistant header and opens thinking.
    - ``end_markers`` are what the model writes to end thinking by itself
      (besides its end-of-turn tokens): each becomes a token id where the
      vocabulary has it as one token, and is found as text across token
      boundaries where it spans several.
    - ``think_close`` is forced to close thinking (a natural end, a cap);
      after a cap the policy's suffix (``Final Answer:``) follows it.
    - ``no_think_open`` follows the assistant header when the budget is zero.
    - ``answer_end_markers`` end the answer besides the end-of-turn tokens.
    """

    name: FormatName
    label: str
    think_open: str
    think_close: str
    end_markers: tuple[str, ...]
    no_think_open: str
    answer_end_markers: tuple[str, ...] = ()
    #: The role-header markup of the format's own renderer (used without a chat template).
    chatml: bool = True
    #: The special tokens of the format's markup: they end a block, and plain text never
    #: yields them.
    control_tokens: tuple[str, ...] = (IM_START, IM_END, ENDOFTEXT)
    #: Openings plain text is cut or broken at so that it cannot form a marker.
    plain_openings: tuple[str, ...] = ("<|",)

    def render_builtin(
        self, history: Sequence[Turn], question: str, system_prompt: str
    ) -> list[PromptPart]:
        """The prompt up to the assistant header, without a chat template."""
        if self.chatml:
            parts = render_prompt_parts(history, question, system_prompt)
            if self.name is not FormatName.S1:
                # Earlier answers carry no s1 answer delimiter in other ChatML formats.
                parts = [p for p in parts if not (p.control and p.text == ANSWER_OPEN)]
            return parts
        return _render_harmony(history, question, system_prompt)


S1 = ThinkingFormat(
    name=FormatName.S1,
    label="s1 (<|im_start|>think … <|im_start|>answer)",
    think_open=THINK_OPEN,
    think_close=ANSWER_OPEN,
    end_markers=(IM_START,),
    no_think_open=ANSWER_OPEN,
    answer_end_markers=(IM_START,),
)

THINK_TAGS = ThinkingFormat(
    name=FormatName.THINK_TAGS,
    label="think tags (<think> … </think>: DeepSeek-R1, Qwen3, QwQ, Phi-4-reasoning)",
    think_open="<think>\n",
    think_close="\n</think>\n\n",
    end_markers=("</think>",),
    # Qwen3's own "thinking off" form: an empty thinking block.
    no_think_open="<think>\n\n</think>\n\n",
    answer_end_markers=(IM_START,),
    plain_openings=("<|", "<think>", "</think>"),
)

#: gpt-oss's "harmony" markup: thinking is the analysis channel, the answer the final one.
HARMONY_START = "<|start|>"
HARMONY_MESSAGE = "<|message|>"
HARMONY_END = "<|end|>"
GPT_OSS = ThinkingFormat(
    name=FormatName.GPT_OSS,
    label="gpt-oss (analysis / final channels)",
    think_open=f"<|channel|>analysis{HARMONY_MESSAGE}",
    think_close=f"{HARMONY_END}{HARMONY_START}assistant<|channel|>final{HARMONY_MESSAGE}",
    end_markers=(HARMONY_END, "<|channel|>"),
    no_think_open=f"<|channel|>final{HARMONY_MESSAGE}",
    answer_end_markers=("<|return|>", HARMONY_END, HARMONY_START),
    chatml=False,
    control_tokens=(
        HARMONY_START,
        HARMONY_END,
        HARMONY_MESSAGE,
        "<|channel|>",
        "<|return|>",
        "<|call|>",
        ENDOFTEXT,
    ),
)

FORMATS: dict[FormatName, ThinkingFormat] = {f.name: f for f in (S1, THINK_TAGS, GPT_OSS)}
#: What ``--format`` accepts.
FORMAT_CHOICES = tuple(n.value for n in FormatName)


def format_name(value: str) -> FormatName:
    """The format called ``value`` (or ``auto``); :class:`PolicyError` names the choices."""
    try:
        return FormatName(value.strip().lower())
    except ValueError:
        choices = ", ".join(FORMAT_CHOICES)
        raise PolicyError(f"unknown thinking format {value!r}; choose one of {choices}") from None


def thinking_format(name: FormatName | str) -> ThinkingFormat:
    """The format called ``name``; ``auto`` must be resolved first."""
    resolved = format_name(name) if isinstance(name, str) else name
    if resolved is FormatName.AUTO:
        raise PolicyError("the thinking format 'auto' must be resolved from the model first")
    return FORMATS[resolved]


def _harmony_block(role: str, content: str, channel: str = "") -> list[PromptPart]:
    header = f"{HARMONY_START}{role}" + (f"<|channel|>{channel}" if channel else "")
    return [
        PromptPart(header + HARMONY_MESSAGE, control=True),
        PromptPart(content, control=False),
        PromptPart(HARMONY_END, control=True),
    ]


def _render_harmony(history: Sequence[Turn], question: str, system_prompt: str) -> list[PromptPart]:
    """gpt-oss's prompt without its template: developer instructions, turns, final answers."""
    parts: list[PromptPart] = []
    if system_prompt:
        parts += _harmony_block("developer", f"# Instructions\n\n{system_prompt}")
    for turn in history:
        if turn.role == "user":
            parts += _harmony_block("user", turn.text)
        else:
            parts += _harmony_block("assistant", turn.text, channel="final")
    parts += _harmony_block("user", question)
    parts.append(PromptPart(f"{HARMONY_START}assistant", control=True))
    return [p for p in parts if p.text]
