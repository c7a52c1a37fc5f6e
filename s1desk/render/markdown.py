"""Markdown to HTML for answers, with raw HTML disabled: model output never becomes markup."""

from __future__ import annotations

import functools

from markdown_it import MarkdownIt

from s1desk.render.highlight import highlight
from s1desk.render.links import link_policy_plugin
from s1desk.render.math import math_plugin


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


def render_markdown(text: str) -> str:
    """Render ``text`` (markdown) as an HTML fragment safe to insert in the transcript.

    Code blocks come out as ``<pre><code class="language-NAME">``, highlighted
    with ``hl-`` classes (styles in :func:`s1desk.render.css.render_css`);
    LaTeX math comes out as MathML. Unfinished input (a stream cut mid-block)
    is fine.
    """
    html: str = parser().render(text)
    return html


def code_blocks(text: str) -> list[str]:
    """The source of each code block in ``text``, in the order they are shown."""
    return [
        token.content for token in parser().parse(text) if token.type in ("fence", "code_block")
    ]
