"""The link allow-list: only http, https and mailto links from model output keep a target."""

from __future__ import annotations

import pytest
from render.htmlcheck import parse

from s1desk.render.links import LINK_SCHEMES
from s1desk.render.markdown import render_markdown

KEPT = [
    ("[a](http://example.org/x)", "http://example.org/x"),
    ("[a](https://example.org/x?y=1)", "https://example.org/x?y=1"),
    ("[a](HTTPS://example.org/)", "HTTPS://example.org/"),
    ("[a](mailto:someone@example.org)", "mailto:someone@example.org"),
    ("<https://example.org/auto>", "https://example.org/auto"),
    ("<someone@example.org>", "mailto:someone@example.org"),
    ("[a][r]\n\n[r]: https://example.org/ref", "https://example.org/ref"),
]

DROPPED = {
    # The app's own action scheme, however the model spells or wraps it.
    "action link": "[Copy](s1desk:copy-answer/0)",
    "action link with slashes": "[Copy](s1desk://copy-answer/0)",
    "action link upper case": "[Copy](S1DESK:regenerate/0)",
    "action link with a key": "[Copy](s1desk:copy-code/0?block=0&key=0123abcd)",
    "action autolink": "<s1desk:think-longer/0>",
    "action in angle brackets": "[Copy](<s1desk:edit/0>)",
    "action as an entity": "[Copy](&#115;1desk:copy-answer/0)",
    "action by reference": "[Copy][r]\n\n[r]: s1desk:copy-answer/0",
    "action with a space first": "[Copy](< s1desk:copy-answer/0>)",
    # Relative links resolve against the page (an s1desk: URL): none may stay.
    "relative": "[a](copy-answer/0)",
    "dot relative": "[a](./copy-answer/0)",
    "parent relative": "[a](../x)",
    "absolute path": "[a](/etc/passwd)",
    "fragment": "[a](#ex-0)",
    "query": "[a](?block=0)",
    "scheme relative": "[a](//example.org/x)",
    # Other schemes.
    "ftp": "[a](ftp://example.org/file)",
    "ftp autolink": "<ftp://example.org/file>",
    "javascript": "[a](javascript:alert(1))",
    "vbscript": "[a](vbscript:msgbox(1))",
    "data": "[a](data:text/html,<b>x</b>)",
    "file": "[a](file:///etc/passwd)",
    "tel": "[a](tel:+15550100)",
    "about": "[a](about:blank)",
    "blob": "[a](blob:https://example.org/1)",
    "chrome": "[a](chrome://settings)",
    "qrc": "[a](qrc:/x)",
    "smb": "[a](smb://host/share)",
    "an image that is a link": "[![i](data:image/png;base64,AAAA)](s1desk:regenerate/0)",
}


def hrefs(html: str) -> list[str | None]:
    return [a.attrs.get("href") for a in parse(html).tags("a")]


def test_the_allow_list_is_web_and_mail_only() -> None:
    assert LINK_SCHEMES == ("http:", "https:", "mailto:")


@pytest.mark.parametrize(("answer", "href"), KEPT)
def test_web_and_mail_links_keep_their_target(answer: str, href: str) -> None:
    assert hrefs(render_markdown(answer)) == [href]


@pytest.mark.parametrize("answer", list(DROPPED.values()), ids=list(DROPPED))
def test_every_other_link_loses_its_target(answer: str) -> None:
    html = render_markdown(answer)
    # Either an inert link (its text shows) or, where markdown-it refuses the target
    # itself (javascript:, vbscript:, file:, data:), the text as written.
    found = hrefs(html)
    assert found == [None] * len(found), html
    for element in parse(html).elements:
        for name, value in element.attrs.items():
            assert "s1desk" not in (value or "").lower() or name == "alt", html


def test_links_in_math_and_code_never_get_a_target() -> None:
    html = render_markdown(
        "$\\href{s1desk:copy-answer/0}{x}$ and `[a](s1desk:edit/0)`\n\n"
        "```md\n[a](s1desk:regenerate/0)\n```"
    )
    assert hrefs(html) == []
    assert "href" not in html
