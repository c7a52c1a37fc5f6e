"""The link policy as a markdown-it plugin: images, and a renderer built with it from scratch."""

from __future__ import annotations

from markdown_it import MarkdownIt
from render.htmlcheck import parse

from s1desk.render.links import link_policy_plugin
from s1desk.render.markdown import render_markdown

PICTURE = "data:image/png;base64,iVBORw0KGgo="


def test_inline_pictures_keep_their_source_and_others_lose_it() -> None:
    html = render_markdown(
        f"![a]({PICTURE}) ![b](https://example.org/x.png) ![c](s1desk:regenerate/0)"
    )
    images = parse(html).tags("img")
    assert [(i.attrs.get("alt"), i.attrs.get("src")) for i in images] == [
        ("a", PICTURE),
        ("b", None),
        ("c", None),
    ]


def test_the_plugin_polices_any_renderer_it_is_added_to() -> None:
    md = MarkdownIt("commonmark").use(link_policy_plugin)
    assert md.core.ruler.get_all_rules()[-1] == "s1desk_link_policy"
    html = md.render("[a](ftp://example.org/) [b](https://example.org/) ![c](https://x/y.png)")
    doc = parse(html)
    assert [a.attrs.get("href") for a in doc.tags("a")] == [None, "https://example.org/"]
    assert [i.attrs.get("src") for i in doc.tags("img")] == [None]
