"""A hostile answer renders as inert text: no script, no handler, no dangerous link."""

from __future__ import annotations

import pytest
from render.htmlcheck import parse

from s1desk.render.markdown import render_markdown

ACTIVE = {"script", "iframe", "object", "embed", "style", "link", "meta", "form", "base", "svg"}
HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "<javascript:alert(1)>",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](data:image/png;base64,iVBORw0KGgo=)",
    "[click](vbscript:msgbox(1))",
    "[click](file:///etc/passwd)",
    "![x](javascript:alert(1))",
    '![x](http://tracker.example/p.png "t")',
    "[ref]\n\n[ref]: javascript:alert(1)",
    "```html\n<script>alert(1)</script>\n```",
    '```"><script>alert(1)</script>\nx\n```',
    r"$\href{javascript:alert(1)}{click}$",
    r"$\text{<script>alert(1)</script>}$",
    r"\(\text{<img src=x onerror=alert(1)>}\)",
    r"$\style{background:url(javascript:alert(1))}{x}$",
    r"$$\class{evil}{x}\mathcolor{red}{y}$$",
    r"\[\text{</math><script>alert(1)</script>}\]",
    r"\boxed{<svg onload=alert(1)>}",
    '<div onclick="alert(1)">x</div>',
    "<style>body{display:none}</style>",
]


@pytest.mark.parametrize("answer", HOSTILE)
def test_hostile_answers_produce_no_active_content(answer: str) -> None:
    html = render_markdown(answer)
    document = parse(html)
    for element in document.elements:
        assert element.tag not in ACTIVE, html
        for name, value in element.attrs.items():
            assert not name.startswith("on"), html
            assert name not in ("style", "srcdoc", "formaction", "xlink:href"), html
            if name in ("href", "src"):
                assert value is not None
                assert value.lower().startswith(("http:", "https:", "mailto:", "data:image/")), html
                assert not (element.tag == "a" and value.lower().startswith("data:")), html
        if element.tag == "img":
            assert (element.attrs.get("src") or "data:image/").startswith("data:image/"), html


def test_script_text_is_shown_not_run() -> None:
    html = render_markdown("<script>alert(1)</script>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_web_links_stay_clickable() -> None:
    document = parse(render_markdown("[docs](https://example.org/a?b=1) <mailto:x@example.org>"))
    assert [a.attrs["href"] for a in document.tags("a")] == [
        "https://example.org/a?b=1",
        "mailto:x@example.org",
    ]


def test_math_keeps_only_layout_attributes() -> None:
    document = parse(render_markdown(r"$\href{https://example.org}{x} \style{color:red}{y}$"))
    for element in document.elements:
        assert "href" not in element.attrs
        assert "style" not in element.attrs
    assert [e.text for e in document.tags("mi")] == ["x", "y"]
