"""Markdown to HTML for answers, with raw HTML disabled: model output never becomes markup."""

from __future__ import annotations

import functools
import html
import re

from markdown_it import MarkdownIt

from s1desk.render.highlight import highlight
from s1desk.render.links import link_policy_plugin
from s1desk.render.math import math_plugin

_NEWLINES = re.compile(r"\r\n?")
#: An answer is rendered as markdown up to about this many characters, the rest as plain
#: text: rendering is linear, but a long table or a wall of math still costs ~10 µs a
#: character on the GUI thread (0.3 s for 32,000), and s1's answers are rarely a sixth of this.
MAX_MARKDOWN = 32_000
#: Plain text past the limit comes in spans of this many characters (finished ones stay put).
PLAIN_CHUNK = 4096


@functools.cache
def parser() -> MarkdownIt:
    """The one configured parser (shared; do not change its rules)."""
    # "commonmark" with html=False escapes every tag the model writes; links
    # with javascript:, vbscript:, file: and data: (other than images) are
    # refused by markdown-it's validateLink.
    md = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": False, "typographer": False, "highlight": highlight},
    )
    md.enable(["table", "strikethrough"])
    # LaTeX as MathML; only http(s)/mailto links keep a target (see links.py).
    md.use(math_plugin).use(link_policy_plugin)
    return md


def normalize(text: str) -> str:
    """``text`` with the newlines and NULs markdown-it would rewrite, rewritten."""
    return _NEWLINES.sub("\n", text).replace("\0", "\ufffd")


def markdown_cut(text: str) -> int:
    """Where the markdown of ``text`` ends and plain text begins.

    All of it when it is short enough; else the start of the line that holds
    character ``MAX_MARKDOWN`` (the limit itself if no line starts before it).
    The cut never moves once the text is longer than the limit.
    """
    if len(text) <= MAX_MARKDOWN:
        return len(text)
    return text.rfind("\n", 0, MAX_MARKDOWN) + 1 or MAX_MARKDOWN


def plain_html(text: str, start: int, end: int) -> str:
    """``text[start:end]`` as escaped plain text, in spans cut every ``PLAIN_CHUNK`` from ``start``.

    ``end`` may fall inside a chunk (the open end of a stream); the spans of
    finished chunks do not depend on what follows them.
    """
    return "".join(
        f'<span class="plain">{html.escape(text[at : min(at + PLAIN_CHUNK, end)])}</span>'
        for at in range(start, end, PLAIN_CHUNK)
    )


def render_markdown(text: str) -> str:
    """Render ``text`` (markdown) as an HTML fragment safe to insert in the transcript.

    Code blocks come out as ``<pre><code class="language-NAME">``, highlighted
    with ``hl-`` classes (styles in :func:`s1desk.render.css.render_css`);
    LaTeX math comes out as MathML. Unfinished input (a stream cut mid-block)
    is fine. Time grows linearly with the text; past ``MAX_MARKDOWN``
    characters the rest is shown as plain (escaped) text.
    """
    text = normalize(text)
    cut = markdown_cut(text)
    rendered: str = parser().render(text[:cut])
    return rendered + plain_html(text, cut, len(text))


def code_blocks(text: str) -> list[str]:
    """The source of each code block in ``text``, in the order they are shown."""
    return [
        token.content
        for token in parser().parse(text[: markdown_cut(text)])
        if token.type in ("fence", "code_block")
    ]
