"""Streaming render: only the open tail is rendered again; the result is always a full render."""

from __future__ import annotations

import random

import pytest
from render.htmlcheck import parse

from s1desk.render.markdown import code_blocks, render_markdown
from s1desk.render.stream import RenderUpdate, StreamingMarkdown

#: Texts whose last line, as it grows, changes what the lines before it are.
TRICKY = [
    "para\n***x\n\nmore",  # a rule for a moment, then text in the paragraph
    "para\n___\n\nafter",
    "p\nh|h\n--|--x\n\nz",  # a table for a moment
    "p\nh | h\n--|--\n1 | 2\n\nz",
    "title\n---\n\ntext\n=",  # setext headings
    "- a\n\n1. b\n\n1\nc\nd",
    "1. a\n2. b\n\n   cont\n\n3. c\n\npara\n===\n",
    "$$\n\\sum_i i\n- item\nfoo\nbar\n$$\n\nend",  # $$ closes after a list began
    "$$\nx\n\ny\n$$\n\nz",  # a blank line ends an unclosed $$
    "a\n\n\\begin{align}\nx\n\n# H\n\ntext\n\\end{align}\n\nafter",  # amsmath closes late
    "para\n\\begin{equation}\nx = 1\n\n- y\n\\end{equation}\nz",
    "# T\n\n```python\ndef f():\n    return 1\n```\n\ntext $x$ and\n\n$$\\sum_{i=1}^n i$$\n\n"
    "\\boxed{42}\n",
    "```\nopen fence\n\nwith blank lines\n\n# not a heading\n",
    "~~~md\n```\n~~~\n\n```x\nstill code\n``` \nafter",
    "[a][r]\n\npara\n\n[r]: http://x.org\n",  # a reference defined after its use
    "> q\nlazy\n\n> q2\n\n    code\n\n    more\ntext\n---\n\nend *em*",
    "text \\[ x \\] and \\(y\\)\n\n\\[\nz\n\\]\n\nend",
    "a\r\nb\r\n\r\n```\r\ncode\r\n```\r\n",
]

#: Lines to shuffle into random documents.
PIECES = [
    "para", "***", "---", "===", "- a", "1. b", "2. c", "  cont", "    code", "```py", "```",
    "~~~", "$$", "\\sum", "$$x$$", "\\begin{align}", "\\end{align}", "> q", "h|h", "--|--",
    "# H", "text $x$", "\\boxed{4}", "", "", "", "[r]: http://x", "*", "_", "|a|b|", "\\[",
    "\\]", "x\\", "<div>", "  - n", "$", "> $$", "- \\begin{align}", "[x][r]",
]  # fmt: skip


def stream(text: str, steps: list[int]) -> list[tuple[str, StreamingMarkdown]]:
    """Feed ``text`` in pieces of the given sizes; the prefix and renderer after each."""
    renderer = StreamingMarkdown()
    seen = []
    end = 0
    for step in steps:
        end = min(end + step, len(text))
        renderer.update(text[:end])
        seen.append((text[:end], renderer))
        if end == len(text):
            break
    return seen


@pytest.mark.parametrize("text", TRICKY)
def test_every_prefix_renders_as_a_full_render(text: str) -> None:
    renderer = StreamingMarkdown()
    for end in range(1, len(text) + 1):
        renderer.update(text[:end])
        assert renderer.html == render_markdown(text[:end]), repr(text[:end])


def test_random_documents_in_random_pieces_render_as_full_renders() -> None:
    rng = random.Random(6)
    for _ in range(150):
        text = "\n".join(rng.choice(PIECES) for _ in range(rng.randint(3, 14)))
        renderer = StreamingMarkdown()
        end = 0
        while end < len(text):
            end += rng.choice([1, 1, 2, 3, 8])
            renderer.update(text[:end])
            assert renderer.html == render_markdown(text[:end]), repr(text[:end])


def apply(shown: tuple[str, str], update: RenderUpdate) -> tuple[str, str]:
    """What the page holds after ``update``: (kept, tail), as the page's script does it."""
    kept = "" if update.reset else shown[0]
    return kept + update.append, update.tail


def long_answer(sections: int) -> str:
    parts = []
    for k in range(sections):
        parts.append(
            f"## Step {k}\n\nWe add the terms $a_{k} + b_{k}$ and check the sum again; "
            f"the {k}th partial result is $$S_{k} = \\sum_{{i=1}}^{{{k}}} i$$ as before.\n\n"
            f"```python\ndef step_{k}(x):\n    return x + {k}\n```\n\n"
            f"- first point {k}\n- second point, \\boxed{{{k}}}\n"
        )
    return "\n".join(parts)


def test_a_long_answer_renders_a_bounded_tail_per_update() -> None:
    text = long_answer(100)
    assert len(text) > 20_000
    renderer = StreamingMarkdown()
    shown = ("", "")
    chars = []
    for end in range(0, len(text), 37):
        update = renderer.update(text[: end + 37])
        assert update is not None
        shown = apply(shown, update)
        chars.append(update.source_chars)
    assert "".join(shown) == render_markdown(text)
    assert len(chars) > 500
    # Each update parses the last block or two, never the whole answer.
    assert max(chars) < 600, max(chars)
    assert sum(chars) < 0.05 * len(text) * len(chars)


def test_the_page_keeps_finished_blocks_and_replaces_the_tail() -> None:
    renderer = StreamingMarkdown()
    first = renderer.update("One.\n\nTw")
    assert first is not None
    assert first.reset
    assert (first.append, first.tail) == ("", "<p>One.</p>\n<p>Tw</p>\n")
    second = renderer.update("One.\n\nTwo.\n\nThree.\n\nFo")
    assert second is not None
    assert not second.reset
    assert second.append == "<p>One.</p>\n<p>Two.</p>\n"
    assert second.tail == "<p>Three.</p>\n<p>Fo</p>\n"
    assert renderer.update("One.\n\nTwo.\n\nThree.\n\nFo") is None  # nothing new


def test_a_text_that_does_not_extend_the_last_starts_over() -> None:
    renderer = StreamingMarkdown()
    renderer.update("Alpha.\n\nBeta.\n\nGamma.\n\nDel")
    update = renderer.update("Other.\n\nText")
    assert update is not None
    assert update.reset
    assert update.append + update.tail == render_markdown("Other.\n\nText")


def test_a_reference_definition_renders_the_whole_answer() -> None:
    renderer = StreamingMarkdown()
    renderer.update("See [the docs][d].\n\nMore.\n\nAnd more.\n\nEnd")
    update = renderer.update("See [the docs][d].\n\nMore.\n\nAnd more.\n\n[d]: https://x.org\n")
    assert update is not None
    assert update.reset
    assert '<a href="https://x.org">the docs</a>' in update.tail


def test_code_blocks_are_listed_in_page_order_as_written() -> None:
    text = (
        "```python\nprint('<b>')\n```\n\n- item\n\n  ```sh\n  ls -l\n  ```\n\n"
        "$$x$$\n\n    indented\n"
    )
    assert code_blocks(text) == ["print('<b>')\n", "ls -l\n", "indented\n"]
    assert len(parse(render_markdown(text)).tags("pre")) == 3
