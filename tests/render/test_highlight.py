"""Code blocks are highlighted with Pygments; colours exist for light and dark."""

from __future__ import annotations

from render.htmlcheck import parse

from s1desk.render.css import render_css
from s1desk.render.highlight import code_css, highlight
from s1desk.render.markdown import render_markdown


def test_python_is_highlighted_and_escaped() -> None:
    html = render_markdown('```python\ndef f(x):\n    return "<b>" if x else None\n```\n')
    document = parse(html)
    (code,) = document.tags("code")
    assert code.attrs["class"] == "language-python"
    classes = {e.attrs.get("class") for e in document.tags("span")}
    assert {"hl-k", "hl-nf", "hl-s2", "hl-kc"} <= classes  # keyword, function, string, None
    assert "<b>" not in html.replace("&lt;b&gt;", "")
    assert document.tags("b") == []
    assert document.text.rstrip() == 'def f(x):\n    return "<b>" if x else None'


def test_unknown_language_is_plain_escaped_text() -> None:
    html = render_markdown("```nosuchlang\n<i>x</i>\n```\n")
    assert '<code class="language-nosuchlang">&lt;i&gt;x&lt;/i&gt;\n</code>' in html
    assert highlight("x", "") == ""


def test_css_has_light_and_dark_colours_for_the_same_classes() -> None:
    css = code_css(":root.dark")
    assert ".hl-k {" in css
    assert ":root.dark .hl-k {" in css
    light = css.split(":root.dark", 1)[0]
    assert "color:" in light.replace(" ", "")
    assert "mrow.boxed" in render_css()
