"""Syntax highlighting of code blocks with Pygments, and its colours for light and dark."""

from __future__ import annotations

import functools

from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

#: Token classes carry this prefix (``hl-k`` for a keyword) so they never meet the page's own.
CLASS_PREFIX = "hl-"
LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"
#: The selector under which the page is in its dark theme.
DARK_SCOPE = ":root.dark"


@functools.cache
def _formatter() -> HtmlFormatter[str]:
    return HtmlFormatter(nowrap=True, classprefix=CLASS_PREFIX)


@functools.lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def highlight(code: str, language: str, attrs: object = None) -> str:
    """``code`` as highlighted HTML (spans with classes, text escaped).

    Returns ``""`` for an unknown or missing language, which tells
    markdown-it to escape the block as plain text. The signature is
    markdown-it's ``highlight`` option.
    """
    name = language.strip().split(maxsplit=1)[0].lower() if language.strip() else ""
    lexer = _lexer(name) if name else None
    if lexer is None:
        return ""
    html: str = pygments_highlight(code, lexer, _formatter())
    return html


def code_css(dark_scope: str = DARK_SCOPE) -> str:
    """CSS for highlighted code: light by default, dark under ``dark_scope``."""
    light = HtmlFormatter(style=LIGHT_STYLE, classprefix=CLASS_PREFIX)
    dark = HtmlFormatter(style=DARK_STYLE, classprefix=CLASS_PREFIX)
    rules = light.get_token_style_defs("")  # type: ignore[no-untyped-call]
    rules += dark.get_token_style_defs(dark_scope)  # type: ignore[no-untyped-call]
    return "\n".join(rule.strip() for rule in rules) + "\n"
