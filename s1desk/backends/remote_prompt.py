"""The prompt sent to a remote server, built so that only the format's markup is control tokens.

Servers tokenize a text prompt with special-token parsing on, so a
``<|im_end|>`` typed in a question would close the turn and let the question
forge a ``system`` turn. Only the parts :func:`render_prompt_parts` marks as
control may become special tokens:

- vLLM takes the prompt as token ids. Control parts are tokenized whole;
  plain text is tokenized in pieces cut between every ``<`` and a following
  ``|``, so no piece holds the text of a ChatML special token, and the ids
  are checked for control tokens besides. What the model generated is sent
  back as the ids it generated.
- llama_cpp.server accepts only text and always parses special tokens in it,
  so plain text is sent with a zero-width space between ``<`` and ``|``: the
  model reads the characters, never a delimiter.
"""

from __future__ import annotations

from collections.abc import Collection

from s1desk.backends.remote_errors import RemoteError
from s1desk.backends.remote_server import Tokenizer
from s1desk.thinking.format import PromptPart

#: Every special token of s1's (Qwen2.5's) vocabulary starts with this.
SPECIAL_OPENING = "<|"
#: Put between ``<`` and ``|`` in plain text a server will parse (invisible, one character).
BREAK = "\u200b"


class ControlTokenInTextError(RemoteError):
    """The server's tokenizer turned plain text into a control token; it was not sent."""


def plain_pieces(text: str) -> list[str]:
    """``text`` cut between every ``<`` and a following ``|`` (no piece can hold ``<|``)."""
    pieces: list[str] = []
    start = 0
    while (at := text.find(SPECIAL_OPENING, start)) >= 0:
        pieces.append(text[start : at + 1])
        start = at + 1
    pieces.append(text[start:])
    return [p for p in pieces if p]


def escape_plain(text: str) -> str:
    """``text`` with every ``<|`` broken, for servers that parse special tokens in text."""
    return text.replace(SPECIAL_OPENING, f"<{BREAK}|")


async def plain_ids(tokenizer: Tokenizer, text: str, control_ids: Collection[int]) -> list[int]:
    """Token ids of ``text`` as plain text: none of them is a control token."""
    ids: list[int] = []
    for piece in plain_pieces(text):
        ids += await tokenizer.tokenize(piece)
    if forged := sorted(set(ids) & set(control_ids)):
        raise ControlTokenInTextError(
            f"The server's tokenizer read control tokens {forged} in plain text; the prompt "
            "was not sent."
        )
    return ids


class RemotePrompt:
    """A prompt grown part by part; :attr:`payload` is what ``/v1/completions`` gets.

    ``as_ids`` picks token ids (vLLM) over escaped text. ``control_ids`` are
    the ids plain text may never yield (``<|im_start|>``, ``<|im_end|>``,
    ``<|endoftext|>``).
    """

    def __init__(self, tokenizer: Tokenizer, as_ids: bool, control_ids: Collection[int]) -> None:
        self.tokenizer = tokenizer
        self.as_ids = as_ids
        self.control_ids = frozenset(control_ids)
        self._ids: list[int] = []
        self._text: list[str] = []

    def copy(self) -> RemotePrompt:
        other = RemotePrompt(self.tokenizer, self.as_ids, self.control_ids)
        other._ids = list(self._ids)
        other._text = list(self._text)
        return other

    async def add(self, part: PromptPart) -> None:
        """Append one part: control parts as markup, the rest as text."""
        if part.control:
            if self.as_ids:
                self._ids += await self.tokenizer.tokenize(part.text)
            self._text.append(part.text)
        else:
            await self.add_text(part.text)

    async def add_text(self, text: str, ids: list[int] | None = None) -> None:
        """Append plain text; ``ids`` are its tokens when known (what the model generated)."""
        if not text and not ids:
            return
        if self.as_ids:
            if ids is None:
                ids = await plain_ids(self.tokenizer, text, self.control_ids)
            self._ids += ids
        self._text.append(escape_plain(text))

    @property
    def text(self) -> str:
        """The prompt as text, plain parts escaped (what a text-only server receives)."""
        return "".join(self._text)

    @property
    def payload(self) -> str | list[int]:
        return list(self._ids) if self.as_ids else self.text

    async def token_ids(self) -> list[int]:
        """The ids the server evaluates for this prompt."""
        if self.as_ids:
            return list(self._ids)
        return await self.tokenizer.tokenize(self.text)
