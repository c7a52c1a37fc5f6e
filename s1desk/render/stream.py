"""Rendering an answer while it streams: finished blocks once, only the open tail again."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markdown_it.token import Token
from mdit_py_plugins.amsmath import RE_OPEN

from s1desk.render.markdown import parser

_NEWLINES = re.compile(r"\r\n?")
#: Where a block may start on a line: after indentation and any quote or list markers.
_CONTAINERS = r"^(?:[ \t]*(?:>|(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$)))*[ \t]*"
#: A line that may open a ``$$`` block whose end is still to come.
_DOLLARS = re.compile(_CONTAINERS + r"\$\$")
#: A line that opens an amsmath environment (closed any number of lines later).
_ENVIRONMENT = re.compile(_CONTAINERS + RE_OPEN)
_MATH_BLOCKS = frozenset(["math_block", "math_block_label", "amsmath", "fence", "code_block"])


def normalize(text: str) -> str:
    """``text`` with the newlines and NULs markdown-it would rewrite, rewritten."""
    return _NEWLINES.sub("\n", text).replace("\0", "\ufffd")


@dataclass(frozen=True, slots=True)
class RenderUpdate:
    """What changed in the answer's HTML since the previous update.

    The shown HTML becomes: (nothing if ``reset``, else what was kept) +
    ``append`` + ``tail``, where the previous tail is dropped first.
    """

    reset: bool
    append: str
    tail: str
    #: Characters of markdown parsed and rendered for this update.
    source_chars: int


@dataclass(frozen=True, slots=True)
class _Block:
    token: int  # index of its first token
    line: int  # first line, relative to the parsed text
    kind: str


class StreamingMarkdown:
    """Renders a growing answer; each update re-renders only its open tail.

    Markdown's top-level blocks are final once a later block has begun and
    nothing still to come can change where they end. The tail that is parsed
    again on every update starts at the last block that could still change:

    * the last line is unfinished, and the line before it may yet turn into a
      table header, so a block starting on either line keeps the block before
      it open (``para\\n***`` is a rule now and text once an ``x`` follows);
    * a ``$$`` opener not yet followed by a blank line, or a ``\\begin{env}``,
      may still find its closing line and swallow the blocks after it;
    * a link reference definition changes links anywhere, so an answer with
      one is rendered whole from then on.

    ``html`` always equals ``render_markdown`` of the text seen last.
    """

    def __init__(self) -> None:
        self._src = ""
        self._base = 0  # where the tail starts in ``_src``
        self._frozen: list[str] = []
        self._tail = ""
        self._whole = False
        self._started = False

    @property
    def source(self) -> str:
        """The text last rendered (newlines normalized)."""
        return self._src

    @property
    def html(self) -> str:
        """The HTML of the whole text last rendered."""
        return "".join(self._frozen) + self._tail

    def update(self, text: str) -> RenderUpdate | None:
        """Render ``text``, the answer so far; ``None`` when it did not change."""
        src = normalize(text)
        if self._started and src == self._src:
            return None
        reset = not self._started or not src.startswith(self._src[: self._base])
        if reset:
            self._base = 0
            self._frozen = []
            self._whole = False
        self._started = True
        self._src = src
        md = parser()
        if self._whole:
            return self._render_whole(src)
        tail_src = src[self._base :]
        env: dict[str, Any] = {}
        tokens = md.parse(tail_src, env)
        if env.get("references"):
            self._whole = True
            update = self._render_whole(src)
            return RenderUpdate(True, "", update.tail, len(tail_src) + len(src))
        keep_tokens, keep_lines = _final_blocks(tokens, tail_src)
        append = md.renderer.render(tokens[:keep_tokens], md.options, env) if keep_tokens else ""
        self._tail = md.renderer.render(tokens[keep_tokens:], md.options, env)
        if append:
            self._frozen.append(append)
        self._base += _line_offset(tail_src, keep_lines)
        return RenderUpdate(reset, append, self._tail, len(tail_src))

    def _render_whole(self, src: str) -> RenderUpdate:
        self._base = 0
        self._frozen = []
        self._tail = parser().render(src)
        return RenderUpdate(True, "", self._tail, len(src))


def _final_blocks(tokens: list[Token], src: str) -> tuple[int, int]:
    """How many tokens, and lines of ``src``, hold blocks that can no longer change."""
    blocks = [
        _Block(i, token.map[0], token.type)
        for i, token in enumerate(tokens)
        if token.level == 0 and token.nesting >= 0 and token.map is not None
    ]
    if len(blocks) < 2:
        return 0, 0
    lines = src.split("\n")
    unsettled = len(lines) - 2  # the last finished line and the unfinished one
    open_at = next((k for k, b in enumerate(blocks) if b.line >= unsettled), len(blocks))
    tail = max(open_at - 1, 0) if open_at < len(blocks) else len(blocks) - 1
    for k in range(tail):
        if _may_grow(blocks[k], lines[blocks[k].line : blocks[k + 1].line], lines):
            tail = k
            break
    return blocks[tail].token, blocks[tail].line


def _may_grow(block: _Block, own: list[str], lines: list[str]) -> bool:
    """Whether ``block`` (its lines ``own``) may yet open math that takes in what follows.

    A ``$$`` block ends at its closing line or at a blank line; an amsmath
    environment only at its ``\\end``, and it may start inside a paragraph.
    Either may start in a quote or list item and run past its end.
    """
    if block.kind in _MATH_BLOCKS:
        return False
    finished = lines[block.line : len(lines) - 1]
    for k, line in enumerate(own):
        if _DOLLARS.match(line) and all(later.strip() for later in finished[k + 1 :]):
            return True
        opened = _ENVIRONMENT.match(line)
        if opened:
            closing = f"\\end{{{opened.group(1)}{opened.group(2)}}}"
            if not any(later.rstrip().endswith(closing) for later in finished[k:]):
                return True
    return False


def _line_offset(src: str, line: int) -> int:
    """Where line ``line`` (from 0) starts in ``src``."""
    offset = 0
    for _ in range(line):
        offset = src.index("\n", offset) + 1
    return offset
