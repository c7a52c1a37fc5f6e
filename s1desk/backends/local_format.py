"""The thinking format and prompt of a loaded GGUF: detected from its metadata, or as asked."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from s1desk.thinking.detect import Detection, detect_format
from s1desk.thinking.format import PromptPart, Turn
from s1desk.thinking.formats import (
    FormatName,
    ThinkingFormat,
    format_name,
    thinking_format,
)
from s1desk.thinking.template import ChatTemplate

log = logging.getLogger(__name__)

CHAT_TEMPLATE_KEY = "tokenizer.chat_template"


class Vocabulary(Protocol):
    """What detection needs of a tokenizer: whether a text is one token."""

    def single_token(self, text: str) -> int | None: ...


@dataclass(frozen=True, slots=True)
class ModelPrompting:
    """How to talk to one model: its format, why, and its chat template if it is used."""

    format: ThinkingFormat
    detection: Detection
    template: ChatTemplate | None

    def render(
        self, history: Sequence[Turn], question: str, system_prompt: str
    ) -> list[PromptPart]:
        """The prompt up to the assistant's turn (thinking not opened yet)."""
        if self.template is not None:
            return self.template.render(
                history, question, system_prompt, thinking_open=self.format.think_open
            )
        return self.format.render_builtin(history, question, system_prompt)


def model_prompting(
    requested: str,
    metadata: dict[str, object],
    file_name: str,
    vocabulary: Vocabulary | None = None,
    bos_token: str = "",
    eos_token: str = "",
) -> ModelPrompting:
    """The format ``requested`` (``auto``: detected), and the template to render it with.

    s1 keeps its own ChatML rendering: s1's models ship Qwen2.5's template,
    which knows nothing of the think/answer blocks they were trained on. Other
    formats render with the model's own template where it has one that loads.
    """
    source = metadata.get(CHAT_TEMPLATE_KEY)
    template_text = source if isinstance(source, str) else None
    name = " ".join(str(v) for v in (metadata.get("general.name"), file_name) if v)
    tokens = [t for t in ("</think>", "<|channel|>") if vocabulary and vocabulary.single_token(t)]
    wanted = format_name(requested)
    if wanted is FormatName.AUTO:
        detection = detect_format(template_text, name, tokens)
    else:
        detection = Detection(wanted, "chosen")
    fmt = thinking_format(detection.format)
    template: ChatTemplate | None = None
    if template_text and fmt.name is not FormatName.S1:
        try:
            template = ChatTemplate(template_text, bos_token, eos_token)
            template.render([], "?", "")
        except Exception as exc:  # a template that fails here fails every time: fall back
            log.warning("the chat template of %s is not used: %s", file_name, exc)
            template = None
    log.info("thinking format %s (%s)", fmt.name.value, detection.reason)
    return ModelPrompting(fmt, detection, template)
