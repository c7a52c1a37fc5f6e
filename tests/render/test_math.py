"""LaTeX in answers comes out as MathML, in every notation s1 writes."""

from __future__ import annotations

import pytest
from render.htmlcheck import parse

from s1desk.render.markdown import render_markdown
from s1desk.render.math import to_mathml


@pytest.mark.parametrize(
    ("source", "display"),
    [
        (r"The area is $\frac{1}{3}$.", "inline"),
        (r"The area is \(\frac{1}{3}\).", "inline"),
        ("The area is\n\n$$\\frac{1}{3}$$\n", "block"),
        ("The area is \\[\\frac{1}{3}\\] here.", "block"),
        ("The area is $$\\frac{1}{3}$$ here.", "block"),
    ],
)
def test_every_delimiter_becomes_mathml(source: str, display: str) -> None:
    document = parse(render_markdown(source))
    (math,) = document.tags("math")
    assert math.attrs["display"] == display
    assert math.attrs["xmlns"] == "http://www.w3.org/1998/Math/MathML"
    assert len(document.tags("mfrac")) == 1
    assert [e.text for e in document.tags("mn")] == ["1", "3"]
    assert "\\frac" not in document.text  # rendered, not shown as source


def test_boxed_answers_are_boxed_inside_or_outside_math() -> None:
    for source in (r"So the answer is $\boxed{42}$.", r"So the answer is \boxed{42}."):
        document = parse(render_markdown(source))
        (box,) = [e for e in document.tags("mrow") if e.attrs.get("class") == "boxed"]
        assert [e.text for e in document.tags("mn")] == ["42"]
        assert "boxed" not in document.text
        assert box.tag == "mrow"
    nested = parse(render_markdown(r"\boxed{\frac{a}{b}}"))
    assert len(nested.tags("mfrac")) == 1


def test_amsmath_environments() -> None:
    document = parse(render_markdown("\\begin{align}\na &= b \\\\\nc &= d\n\\end{align}\n"))
    assert document.tags("math")
    assert document.tags("mtable")


def test_currency_is_not_math() -> None:
    html = render_markdown("It costs $5 and $10 in total.")
    assert "<math" not in html
    assert "$5 and $10" in html


def test_unconvertible_latex_shows_its_source_escaped() -> None:
    html = to_mathml(r"\frac{1}{", display=False)
    assert html.startswith('<code class="math-source">')
    assert "\\frac{1}{" in html


def test_unfinished_math_while_streaming_stays_text() -> None:
    html = render_markdown(r"Let \(x = \frac{1")
    assert "<math" not in html
    assert "x = " in html


def test_math_inside_code_is_left_alone() -> None:
    html = render_markdown("`$x$` and\n\n```\n$$y$$\n```\n")
    assert "<math" not in html
    assert "$x$" in html
    assert "$$y$$" in html
