"""Markdown to HTML for answers, with raw HTML disabled: model output never becomes markup."""

from __future__ import annotations

import functools

from markdown_it import MarkdownIt


@functools.cache
def _parser() -> MarkdownIt:
    # "commonmark" with html=False escapes every tag the model writes; links
    # with javascript:, vbscript:, file: and data: (other than images) are
    # refused by markdown-it's validateLink.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    return md


def render_markdown(text: str) -> str:
    """Render ``text`` (markdown) as an HTML fragment safe to insert in the transcript.

    Code blocks come out as ``<pre><code class="language-NAME">``, the hook
    for syntax highlighting. Unfinished input (a stream cut mid-block) is fine.
    """
    html: str = _parser().render(text)
    return html
