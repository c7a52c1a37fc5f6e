"""A model's own chat template, rendered in a sandbox, the person's text kept out of its markup.

The template (Jinja, from the GGUF's ``tokenizer.chat_template``) is rendered
in jinja2's immutable sandbox, as llama.cpp and transformers do, with a
placeholder in place of every message's text. The output is split on the
placeholders: what the template wrote is markup (``control``, tokenized with
special tokens), and each person's text goes in between as plain text. So a
``<|im_end|>`` or ``</think>`` typed in a question is never read as a token of
the format, whatever the template does.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NoReturn

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from s1desk.errors import S1DeskError
from s1desk.thinking.format import PromptPart, Turn

#: Private-use characters around a number: no template writes them, no tokenizer merges across.
_MARK = "\ue000s1desk{}\ue001"
_MARK_RE = re.compile("\ue000s1desk(\\d+)\ue001")
#: A template longer than this is refused (real ones are under 20 kB).
MAX_TEMPLATE_CHARS = 200_000


class ChatTemplateError(S1DeskError):
    """The model's chat template cannot be used; the message says why."""


def _raise(message: object) -> NoReturn:
    raise ChatTemplateError(f"The model's chat template refused the conversation: {message}")


def _strftime_now(fmt: str) -> str:
    return datetime.datetime.now().strftime(fmt)


@lru_cache(maxsize=8)
def _compile(source: str) -> jinja2.Template:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise ChatTemplateError(
            f"The model's chat template is {len(source):,} characters long; it was not used."
        )
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = _strftime_now
    try:
        return env.from_string(source)
    except jinja2.TemplateError as exc:
        raise ChatTemplateError(f"The model's chat template does not parse: {exc}") from exc


class ChatTemplate:
    """A chat template ready to render conversations into prompt parts."""

    def __init__(self, source: str, bos_token: str = "", eos_token: str = "") -> None:
        self.source = source
        self.bos_token = bos_token
        self.eos_token = eos_token
        self._template = _compile(source)

    def render(
        self,
        history: Sequence[Turn],
        question: str,
        system_prompt: str,
        *,
        thinking_open: str = "",
    ) -> list[PromptPart]:
        """The conversation up to the assistant's turn, as the template writes it.

        Where the template's generation prompt already opens thinking
        (``thinking_open``, e.g. ``<think>``), that opening is taken off: the
        caller opens thinking, or not, with its own budget. A leading BOS the
        template writes is taken off too (the tokenizer adds it).
        """
        texts: list[str] = []
        messages: list[dict[str, Any]] = []

        def add(role: str, text: str) -> None:
            messages.append({"role": role, "content": _MARK.format(len(texts))})
            texts.append(text)

        if system_prompt:
            add("system", system_prompt)
        for turn in history:
            add(turn.role, turn.text)
        add("user", question)
        try:
            rendered = self._template.render(
                messages=messages,
                add_generation_prompt=True,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
                enable_thinking=True,
                tools=None,
                documents=None,
            )
        except ChatTemplateError:
            raise
        except (jinja2.TemplateError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise ChatTemplateError(f"The model's chat template failed: {exc}") from exc
        if self.bos_token and rendered.startswith(self.bos_token):
            rendered = rendered[len(self.bos_token) :]
        parts: list[PromptPart] = []
        at = 0
        for match in _MARK_RE.finditer(rendered):
            parts.append(PromptPart(rendered[at : match.start()], control=True))
            index = int(match.group(1))
            if index >= len(texts):
                raise ChatTemplateError("The model's chat template wrote an unknown placeholder.")
            parts.append(PromptPart(texts[index], control=False))
            at = match.end()
        tail = rendered[at:]
        opening = thinking_open.strip()
        if opening and tail.rstrip().endswith(opening):
            tail = tail.rstrip()[: -len(opening)]
        parts.append(PromptPart(tail, control=True))
        return [p for p in parts if p.text]
