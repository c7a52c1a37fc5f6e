"""LaTeX math in answers (``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``, ``\\boxed{}``) as MathML."""

from __future__ import annotations

import functools
import html
import logging
from typing import Any

from latex2mathml.converter import convert
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin

from s1desk.render.environments import use_fast_amsmath
from s1desk.render.mathml import sanitize
from s1desk.render.scan import brace_pairs, find_from

log = logging.getLogger(__name__)

#: Longest formula converted; a longer one is shown as its source (converting is not free).
MAX_LATEX = 4000


@functools.lru_cache(maxsize=1024)
def to_mathml(latex: str, display: bool) -> str:
    """``latex`` as sanitized MathML; its escaped source when it cannot be converted."""
    source = latex.strip()
    mathml: str | None = None
    if source and len(source) <= MAX_LATEX:
        try:
            mathml = sanitize(convert(source, display="block" if display else "inline"))
        except Exception as exc:
            log.debug("LaTeX not converted (%s): %.80s", exc, source)
    if mathml is None:
        return f'<code class="math-source">{html.escape(source)}</code>'
    return mathml


def _render(content: str, options: dict[str, Any]) -> str:
    return to_mathml(content, bool(options.get("display_mode")))


def _closing(src: str, start: int, close: str) -> int:
    """Index of ``close`` after ``start``, or -1 (a table lookup: see scan.py)."""
    return find_from(src, close, start)


def _brackets(state: StateInline, silent: bool) -> bool:
    r"""``\(…\)`` inline and ``\[…\]`` displayed inside a paragraph."""
    src, pos = state.src, state.pos
    if not src.startswith("\\", pos) or pos + 1 >= state.posMax:
        return False
    opener = src[pos + 1]
    if opener not in "([":
        return False
    close = "\\)" if opener == "(" else "\\]"
    end = _closing(src, pos + 2, close)
    if end < 0 or end + 2 > state.posMax:
        return False
    if not silent:
        token = state.push("math_inline" if opener == "(" else "math_inline_double", "math", 0)
        token.content = src[pos + 2 : end]
        token.markup = "\\" + opener
    state.pos = end + 2
    return True


def _boxed(state: StateInline, silent: bool) -> bool:
    r"""A ``\boxed{…}`` written outside any math delimiters (s1 often ends so)."""
    src, pos = state.src, state.pos
    if not src.startswith("\\boxed{", pos):
        return False
    end = brace_pairs(src).get(pos + len("\\boxed"), -1)
    if end < 0 or end >= state.posMax:
        return False
    if not silent:
        token = state.push("math_inline", "math", 0)
        token.content = src[pos : end + 1]
        token.markup = "\\boxed"
    state.pos = end + 1
    return True


def math_plugin(md: MarkdownIt) -> None:
    """Teach ``md`` every math notation s1 writes, rendered as MathML.

    ``$…$`` needs no space inside its dollars (so "$5 and $10" stays text);
    ``$$…$$`` may sit inside a paragraph or on lines of its own, with no
    blank line inside (as in LaTeX), so an unclosed ``$$`` stops at one.
    """
    dollarmath_plugin(
        md,
        allow_labels=False,
        allow_space=False,
        allow_digits=True,
        allow_blank_lines=False,
        double_inline=True,
        renderer=_render,
    )
    # Displayed math inside a paragraph: a block-level span, as a <div> may not sit in a <p>.
    md.add_render_rule(
        "math_inline_double",
        lambda self, tokens, idx, options, env: (
            f'<span class="math display">{to_mathml(tokens[idx].content, True)}</span>'
        ),
    )
    amsmath_plugin(md, renderer=lambda content: to_mathml(content, True))
    use_fast_amsmath(md)
    md.inline.ruler.before("escape", "math_brackets", _brackets)
    md.inline.ruler.before("escape", "math_boxed", _boxed)
