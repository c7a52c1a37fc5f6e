"""Links and images in model output: only web and mail links stay clickable."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

#: Schemes a link may use; anything else (javascript:, data:, file:, …) loses its href.
LINK_SCHEMES = ("http:", "https:", "mailto:")
#: Images may only be inline pictures (the page loads nothing from the network).
_IMAGE_DATA = re.compile(r"^data:image/(?:png|gif|jpeg|webp)[;,]", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _scheme_ok(url: str) -> bool:
    plain = _CONTROL.sub("", url).lower()
    return plain.startswith(LINK_SCHEMES)


def _police(tokens: list[Token]) -> None:
    for token in tokens:
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            if not _scheme_ok(href):
                token.attrs.pop("href", None)
        elif token.type == "image":
            src = str(token.attrGet("src") or "")
            if not _IMAGE_DATA.match(_CONTROL.sub("", src)):
                token.attrs.pop("src", None)
        if token.children:
            _police(token.children)


def link_policy_plugin(md: MarkdownIt) -> None:
    """Strip the target of every link that is not http(s) or mailto, and of non-inline images."""

    def rule(state: StateCore) -> None:
        _police(state.tokens)

    md.core.ruler.push("s1desk_link_policy", rule)
