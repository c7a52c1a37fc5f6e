"""Which thinking format a model speaks, from its chat template, special tokens and name."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from s1desk.thinking.formats import FormatName

#: Names of families that think between <think> and </think>.
_THINK_TAG_NAMES = re.compile(
    r"qwen-?3|qwq|deepseek-?r1|r1-distill|phi-?4[-_ ]?(mini[-_ ]?)?reasoning|"
    r"magistral|exaone-?deep|skywork-?or1|openthinker|acereason|light-?r1",
    re.IGNORECASE,
)
#: s1's models (simplescaling/s1-32B, s1.1-*); matched on the name's own words.
_S1_NAMES = re.compile(r"(^|[^a-z0-9])s1(\.1)?([-_ .]|$)", re.IGNORECASE)
_GPT_OSS_NAMES = re.compile(r"gpt-?oss", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Detection:
    """The format found, and what said so (for logs and the UI)."""

    format: FormatName
    reason: str


def detect_format(
    chat_template: str | None,
    name: str = "",
    special_tokens: Collection[str] = (),
) -> Detection:
    """The thinking format of a model.

    The chat template decides where it is telling: s1's ``<|im_start|>think``,
    gpt-oss's analysis channel, or ``<think>``/``</think>``. Otherwise the
    vocabulary's special tokens and the model's name (``Qwen3``, ``QwQ``,
    ``DeepSeek-R1``, ``gpt-oss``…) decide; a model with none of these signs
    gets s1's format, the one this app is built around.
    """
    template = chat_template or ""
    if "<|im_start|>think" in template or "im_start|>answer" in template:
        return Detection(FormatName.S1, "the chat template opens s1's think block")
    if "<|channel|>" in template and "analysis" in template:
        return Detection(FormatName.GPT_OSS, "the chat template has gpt-oss's analysis channel")
    if "<think>" in template or "</think>" in template:
        return Detection(FormatName.THINK_TAGS, "the chat template uses <think> tags")
    if _S1_NAMES.search(name):
        return Detection(FormatName.S1, f"the model's name ({name}) is an s1 model")
    if _GPT_OSS_NAMES.search(name) or "<|channel|>" in special_tokens:
        return Detection(FormatName.GPT_OSS, "the model is a gpt-oss model")
    if _THINK_TAG_NAMES.search(name):
        return Detection(FormatName.THINK_TAGS, f"the model's name ({name}) is a <think> family")
    if "</think>" in special_tokens:
        return Detection(FormatName.THINK_TAGS, "the vocabulary has a </think> token")
    return Detection(FormatName.S1, "no sign of another format: s1's is the default")
