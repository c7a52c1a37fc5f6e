"""Rendering an answer while it streams: finished blocks once, only the open tail again."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from markdown_it.token import Token
from mdit_py_plugins.amsmath import RE_OPEN

from s1desk.render.markdown import PLAIN_CHUNK, markdown_cut, normalize, parser, plain_html

#: Where a block may start on a line: after indentation and any quote or list markers.
_CONTAINERS = r"^(?:[ \t]*(?:>|(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$)))*[ \t]*"
#: A line that may open a ``$$`` block whose end is still to come.
_DOLLARS = re.compile(_CONTAINERS + r"\$\$")
#: A line that opens an amsmath environment (closed any number of lines later).
_ENVIRONMENT = re.compile(_CONTAINERS + RE_OPEN)
#: A line that closes one (what it ends with, trailing white space aside).
_END = re.compile(r"\\end\{[A-Za-z]+\*?\}$")
_MATH_BLOCKS = frozenset(["math_block", "math_block_label", "amsmath", "fence", "code_block"])
#: An open tail up to this long is rendered again on every update.
TAIL_CHARS = 4000
#: A longer one only once it has grown by this factor since it was last rendered (so a
#: tail that never closes costs linear time in all); what came since shows as plain text.
TAIL_GROWTH = 1.25

__all__ = ["RenderUpdate", "StreamingMarkdown", "normalize"]


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
      one is rendered whole (as one open tail) from then on.

    Work stays linear in the answer however it is written: a tail longer than
    ``TAIL_CHARS`` is rendered again only once it has grown by
    ``TAIL_GROWTH``, and until then what arrived since shows after it as
    plain text; past ``MAX_MARKDOWN`` characters the answer continues as
    plain text (see :func:`s1desk.render.markdown.render_markdown`).

    ``html`` equals ``render_markdown`` of the text seen last whenever no
    plain-text stand-in is shown: always after an update with ``final``,
    and on every update while the open tail is short.
    """

    def __init__(self) -> None:
        self._src = ""
        self._base = 0  # where the markdown tail starts in ``_src``
        self._frozen: list[str] = []
        self._tail = ""
        self._whole = False
        self._started = False
        self._cut: int | None = None  # where plain text begins, once the answer is that long
        self._plain = 0  # plain text up to here is in ``_frozen``
        self._tail_source = ""  # the tail's markdown when it was last rendered ...
        self._tail_html = ""  # ... and its HTML
        self._standing_in = False  # whether the tail shows text not rendered yet

    @property
    def source(self) -> str:
        """The text last rendered (newlines normalized)."""
        return self._src

    @property
    def html(self) -> str:
        """The HTML of the whole text last rendered."""
        return "".join(self._frozen) + self._tail

    @property
    def exact(self) -> bool:
        """Whether ``html`` is the full render of ``source`` (no plain-text stand-in)."""
        return not self._standing_in

    def update(self, text: str, final: bool = False) -> RenderUpdate | None:
        """Render ``text``, the answer so far; ``None`` when nothing changed.

        ``final`` (the answer is complete) renders any stand-in properly.
        """
        src = normalize(text)
        if self._started and src == self._src and not (final and self._standing_in):
            return None
        settled = self._plain if self._cut is not None else self._base
        reset = not self._started or not src.startswith(self._src[:settled])
        if reset:
            self._base = 0
            self._frozen = []
            self._whole = False
            self._cut = None
            self._plain = 0
            self._tail_source = self._tail_html = ""
        self._started = True
        self._src = src
        appended: list[str] = []
        chars = 0
        if self._cut is None:
            cut = markdown_cut(src)
            overflow = cut < len(src)  # the markdown part is complete: freeze all of it
            chars, restarted = self._render_markdown(
                src[:cut], final or overflow, overflow, appended
            )
            reset = reset or restarted
            if overflow:
                self._cut = self._plain = cut
        if self._cut is not None:
            # Plain text: whole chunks are final, the last one is the tail.
            end = self._cut + (len(src) - self._cut) // PLAIN_CHUNK * PLAIN_CHUNK
            if end > self._plain:
                appended.append(plain_html(src, self._plain, end))
                self._plain = end
            self._tail = plain_html(src, end, len(src))
            self._standing_in = False
        append = "".join(appended)
        if append:
            self._frozen.append(append)
        return RenderUpdate(reset, append, self._tail, chars)

    def _render_markdown(
        self, src: str, now: bool, complete: bool, appended: list[str]
    ) -> tuple[int, bool]:
        """Render the markdown ``src`` from the tail on, into ``appended`` and the tail.

        ``now`` renders a long tail even if it has not grown enough;
        ``complete`` (``src`` will never grow) freezes all of it. Returns how
        many characters were parsed and rendered, and whether what was
        frozen before had to go (the page starts again).
        """
        md = parser()
        tail_src = src[self._base :]
        if (
            not now
            and len(tail_src) > TAIL_CHARS
            and len(tail_src) < TAIL_GROWTH * len(self._tail_source)
            and tail_src.startswith(self._tail_source)
        ):
            # A long open tail: show what arrived since as text until it has grown enough.
            pending = tail_src[len(self._tail_source) :]
            self._tail = self._tail_html + _stand_in(pending)
            self._standing_in = bool(pending)
            return 0, False
        env: dict[str, Any] = {}
        tokens = md.parse(tail_src, env)
        chars = len(tail_src)
        restarted = False
        if env.get("references") and self._base:
            # A reference changes links before the tail too: from now on, render it all.
            restarted = True
            self._frozen = []
            self._base = 0
            tail_src = src
            tokens = md.parse(tail_src, env)
            chars += len(tail_src)
        self._whole = self._whole or bool(env.get("references"))
        if complete:
            keep_tokens, keep_lines = len(tokens), 0
        elif self._whole:
            keep_tokens, keep_lines = 0, 0
        else:
            keep_tokens, keep_lines = _final_blocks(tokens, tail_src)
        if keep_tokens:
            appended.append(md.renderer.render(tokens[:keep_tokens], md.options, env))
        self._tail = md.renderer.render(tokens[keep_tokens:], md.options, env)
        self._standing_in = False
        if complete:
            self._base = len(src)
            self._tail_source = self._tail_html = ""
        else:
            kept = _line_offset(tail_src, keep_lines)
            self._base += kept
            self._tail_source = tail_src[kept:]
            self._tail_html = self._tail
        return chars, restarted


def _stand_in(text: str) -> str:
    """Text not rendered yet, shown as it was written."""
    return f'<span class="plain pending">{html.escape(text)}</span>' if text else ""


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
    ahead = _LinesAhead(lines)
    for k in range(tail):
        if _may_grow(blocks[k], blocks[k + 1].line, lines, ahead):
            tail = k
            break
    return blocks[tail].token, blocks[tail].line


class _LinesAhead:
    """What the finished lines (all but the last) hold from a line on, each found in O(1)."""

    def __init__(self, lines: list[str]) -> None:
        finished = len(lines) - 1
        #: For each line, the first blank finished line at or after it (``finished`` if none).
        self.blank_from = [finished] * (finished + 1)
        #: For each closing tag, the last finished line that ends with it.
        self.last_closing: dict[str, int] = {}
        for k in range(finished - 1, -1, -1):
            line = lines[k]
            self.blank_from[k] = k if not line.strip() else self.blank_from[k + 1]
            closing = _END.search(line.rstrip())
            if closing is not None:
                self.last_closing.setdefault(closing.group(), k)


def _may_grow(block: _Block, next_line: int, lines: list[str], ahead: _LinesAhead) -> bool:
    """Whether ``block`` (its lines up to ``next_line``) may yet open math that takes in more.

    A ``$$`` block ends at its closing line or at a blank line; an amsmath
    environment only at its ``\\end``, and it may start inside a paragraph.
    Either may start in a quote or list item and run past its end.
    """
    if block.kind in _MATH_BLOCKS:
        return False
    finished = len(lines) - 1
    for k in range(block.line, next_line):
        line = lines[k]
        if _DOLLARS.match(line) and ahead.blank_from[min(k + 1, finished)] == finished:
            return True
        opened = _ENVIRONMENT.match(line)
        if opened:
            closing = f"\\end{{{opened.group(1)}{opened.group(2)}}}"
            if ahead.last_closing.get(closing, -1) < k:
                return True
    return False


def _line_offset(src: str, line: int) -> int:
    """Where line ``line`` (from 0) starts in ``src``."""
    offset = 0
    for _ in range(line):
        offset = src.index("\n", offset) + 1
    return offset
