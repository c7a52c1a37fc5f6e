"""Markdown rendering for the transcript: formatting kept, raw HTML and scripts never."""

from __future__ import annotations

from s1desk.render.markdown import render_markdown


def test_markdown_and_code_blocks() -> None:
    html = render_markdown("**56**\n\n```python\nprint(1)\n```\n\n| a |\n|---|\n| 1 |")
    assert "<strong>56</strong>" in html
    # The code block keeps its language class; its text is highlighted inside.
    assert '<pre><code class="language-python"><span class="hl-nb">print</span>' in html
    assert "<table>" in html


def test_raw_html_is_escaped_and_script_links_refused() -> None:
    html = render_markdown(
        '<script>alert(1)</script> <img src=x onerror="y()"> [a](javascript:alert(1))'
    )
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    assert "href" not in html


def test_unfinished_stream_renders() -> None:
    assert "<code" in render_markdown("```py\nx = 1")
