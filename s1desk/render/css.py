"""Styles the rendered HTML needs: highlighted code (light and dark) and math."""

from __future__ import annotations

from s1desk.render.highlight import DARK_SCOPE, code_css

_MATH_CSS = """
.math.block, .math.display { display: block; overflow-x: auto; margin: 0.5em 0; }
math[display="block"] { display: block math; margin: 0.3em 0; }
mrow.boxed { border: 1.5px solid currentColor; padding: 0.15em 0.3em; }
code.math-source { white-space: pre-wrap; }
span.plain { white-space: pre-wrap; }
"""


def render_css(dark_scope: str = DARK_SCOPE) -> str:
    """CSS to put in the page that shows rendered answers (dark colours under ``dark_scope``)."""
    return _MATH_CSS.lstrip() + code_css(dark_scope)
