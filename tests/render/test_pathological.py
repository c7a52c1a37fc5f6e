"""Answers shaped to be slow render in bounded time, and come out escaped and well formed.

Each shape below took seconds before rendering was made linear (5,000
unclosed ``\\boxed{`` 11.4 s, 50,000 ``\\(`` 5.1 s, 3,000 unclosed
``\\begin{align}`` lines 4.7 s). The bounds are CPU time of this process
(so other work on a shared machine does not count) and several times what
the render takes here: they fail on quadratic behaviour, not on noise.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from render.htmlcheck import parse

from s1desk.render.markdown import MAX_MARKDOWN, PLAIN_CHUNK, render_markdown
from s1desk.render.stream import TAIL_CHARS, StreamingMarkdown

#: Seconds of CPU a render of any shape below may take (they take 0.004–0.39 s here).
BOUND = 1.0


def repeat(unit: str, chars: int) -> str:
    return unit * (chars // len(unit))


#: Shapes that defeat a renderer scanning ahead from every opener, just under the limit.
SHAPES: dict[str, Callable[[int], str]] = {
    "unclosed boxed": lambda n: repeat("\\boxed{x ", n),
    "unclosed inline parens": lambda n: repeat("\\( ", n),
    "unclosed display brackets": lambda n: repeat("\\[ ", n),
    "unclosed align lines": lambda n: repeat("\\begin{align}\n", n),
    "align lines in a paragraph": lambda n: repeat("text\n\\begin{align}\n", n),
    "unclosed dollars lines": lambda n: repeat("$$\n", n),
    "nested braces in boxed": lambda n: "\\boxed{" + "{" * (n // 2 - 8) + "}" * (n // 2 - 8),
    "open links": lambda n: repeat("[a](", n),
    "open brackets": lambda n: repeat("[", n),
    "emphasis runs": lambda n: repeat("*a _b ", n),
    "backticks": lambda n: repeat("` ", n),
    "a long table": lambda n: "a|b\n-|-\n" + repeat("1|2\n", n - 8),
    "deep lists": lambda n: repeat("".join("  " * i + "- x\n" for i in range(40)), n),
    "hostile html": lambda n: repeat('<img src=x onerror="alert(1)"><script>x</script>', n),
}
#: The sizes the shapes were reported at (past the markdown limit now).
REPORTED = {
    "5,000 unclosed boxed": "\\boxed{x " * 5000,
    "50,000 inline parens": "\\(" * 50_000,
    "3,000 unclosed align lines": "\\begin{align}\n" * 3000,
}


def cpu_seconds(work: Callable[[], object]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def assert_safe(html: str, source: str) -> None:
    """Well-formed markup, nothing active, and no text of the source lost."""
    root = ET.fromstring(f"<div>{html}</div>")  # raises on broken or unescaped markup
    for element in root.iter():
        tag = element.tag.split("}")[-1]
        assert tag not in ("script", "img", "iframe", "style", "object"), tag
        for name in element.attrib:
            assert not name.startswith("on"), name
            assert name not in ("style", "src"), name
    # Every non-space character written is shown (markup characters aside).
    shown = "".join(root.itertext())
    for char in set(source) - set(" \n\t{}\\$*_`[]()|-#^"):
        assert char in shown, repr(char)


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
def test_a_pathological_answer_under_the_limit_renders_in_bounded_time(shape: str) -> None:
    text = SHAPES[shape](MAX_MARKDOWN - 100)
    assert 0.9 * MAX_MARKDOWN < len(text) <= MAX_MARKDOWN
    html = ""

    def render() -> None:
        nonlocal html
        html = render_markdown(text)

    assert cpu_seconds(render) < BOUND
    assert_safe(html, text)
    assert "plain" not in html  # all of it rendered as markdown


@pytest.mark.parametrize("name", list(REPORTED))
def test_the_reported_answers_render_in_bounded_time(name: str) -> None:
    text = REPORTED[name]
    html = ""

    def render() -> None:
        nonlocal html
        html = render_markdown(text)

    assert cpu_seconds(render) < BOUND
    assert_safe(html, text)


def test_past_the_limit_the_rest_is_escaped_plain_text() -> None:
    head = "# Title\n\nSome $x^2$ math.\n\n" + repeat("word word word word\n", MAX_MARKDOWN)
    rest = "\n<script>alert(1)</script> **not bold** $y$ & more\n" * 2000
    text = head[:MAX_MARKDOWN] + rest
    html = render_markdown(text)
    assert_safe(html, text)
    document = parse(html)
    assert [e.tag for e in document.elements[:2]] == ["h1", "p"]
    plain = [e for e in document.tags("span") if e.attrs["class"] == "plain"]
    cut = len(text) - sum(len(e.text) for e in plain)
    assert MAX_MARKDOWN - 30 < cut <= MAX_MARKDOWN  # at the start of the line at the limit
    assert "".join(e.text for e in plain) == text[cut:]
    assert all(len(e.text) <= PLAIN_CHUNK for e in plain)
    assert "<strong>" not in html.split('<span class="plain">', 1)[1]
    assert "&lt;script&gt;" in html


def stream(text: str, step: int) -> tuple[StreamingMarkdown, list[int]]:
    renderer = StreamingMarkdown()
    rendered = []
    for end in range(step, len(text) + step, step):
        update = renderer.update(text[: min(end, len(text))], final=end >= len(text))
        assert update is not None
        rendered.append(update.source_chars)
    return renderer, rendered


@pytest.mark.parametrize(
    "shape", ["unclosed align lines", "unclosed inline parens", "a long table", "open links"]
)
def test_streaming_a_pathological_answer_renders_each_character_a_bounded_number_of_times(
    shape: str,
) -> None:
    text = SHAPES[shape](3 * MAX_MARKDOWN)
    step = 200
    result: list[tuple[StreamingMarkdown, list[int]]] = []
    assert cpu_seconds(lambda: result.append(stream(text, step))) < 8 * BOUND  # 0.5–2.5 s here
    renderer, rendered = result[0]
    # Without a bound, an open tail is rendered again on every update: ~n²/(2·step).
    markdown = min(len(text), MAX_MARKDOWN)
    short_tails = TAIL_CHARS * TAIL_CHARS // step  # tails under TAIL_CHARS, every update
    assert sum(rendered) <= short_tails + 6 * markdown, sum(rendered)
    assert max(rendered) <= MAX_MARKDOWN
    assert renderer.exact
    assert renderer.html == render_markdown(text)
    assert_safe(renderer.html, text)


def test_a_long_open_tail_shows_new_text_escaped_until_it_is_rendered_again() -> None:
    opened = "Intro.\n\n\\begin{align}\n" + repeat("x &= y \\\\\n", 2 * TAIL_CHARS)
    renderer = StreamingMarkdown()
    first = renderer.update(opened)
    assert first is not None
    assert first.source_chars > TAIL_CHARS
    more = "<b>bold?</b> & <script>x</script>\n"
    update = renderer.update(opened + more)
    assert update is not None
    assert update.source_chars == 0  # nothing parsed: the new text stands in as text
    assert not renderer.exact
    assert update.tail == first.tail + (
        '<span class="plain pending">&lt;b&gt;bold?&lt;/b&gt; &amp; '
        "&lt;script&gt;x&lt;/script&gt;\n</span>"
    )
    assert_safe(renderer.html, opened + more)
    # Grown by a quarter: rendered properly again; the last update is always exact.
    grown = opened + more * (len(opened) // len(more) // 3)
    update = renderer.update(grown)
    assert update is not None
    assert update.source_chars > 0
    assert renderer.exact
    assert renderer.html == render_markdown(grown)
    closed = grown + "z\n"
    renderer.update(closed)
    renderer.update(closed, final=True)
    assert renderer.exact
    assert renderer.html == render_markdown(closed)
