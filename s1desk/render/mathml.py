"""MathML from a converter, cut down to a known-safe set of elements and attributes."""

from __future__ import annotations

import html
import logging
import xml.etree.ElementTree as ET

log = logging.getLogger(__name__)

_NS = "{http://www.w3.org/1998/Math/MathML}"

#: Presentation MathML elements (MathML Core and a few that browsers draw).
ELEMENTS = frozenset(
    [
        "math",
        "mrow",
        "mi",
        "mn",
        "mo",
        "ms",
        "mtext",
        "mspace",
        "msub",
        "msup",
        "msubsup",
        "mfrac",
        "msqrt",
        "mroot",
        "mover",
        "munder",
        "munderover",
        "mtable",
        "mtr",
        "mtd",
        "mstyle",
        "mpadded",
        "mphantom",
        "menclose",
        "semantics",
        "annotation",
        "merror",
        "mmultiscripts",
        "mprescripts",
        "none",
    ]
)
#: Attributes that only shape layout; nothing that links, loads, styles or runs.
ATTRIBUTES = frozenset(
    [
        "display",
        "mathvariant",
        "stretchy",
        "fence",
        "separator",
        "lspace",
        "rspace",
        "linethickness",
        "displaystyle",
        "scriptlevel",
        "columnalign",
        "rowalign",
        "columnspacing",
        "rowspacing",
        "columnlines",
        "rowlines",
        "frame",
        "framespacing",
        "notation",
        "accent",
        "accentunder",
        "width",
        "height",
        "depth",
        "encoding",
        "minsize",
        "maxsize",
        "symmetric",
        "movablelimits",
        "largeop",
        "form",
        "mathsize",
        "mathcolor",
        "mathbackground",
        "voffset",
        "columnspan",
        "rowspan",
        "align",
    ]
)
_COLOUR_OK = frozenset("#abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _safe_value(name: str, value: str) -> bool:
    if name in ("mathcolor", "mathbackground"):
        return bool(value) and set(value) <= _COLOUR_OK
    return ":" not in value and "(" not in value  # no URLs, no CSS functions


def _element(node: ET.Element, out: list[str]) -> None:
    tag = node.tag.removeprefix(_NS)
    if tag not in ELEMENTS:
        # An element the converter let through from its input (``\text{<b>}``): keep its text.
        out.append(html.escape("".join(node.itertext()), quote=False))
        return
    if tag == "menclose" and node.get("notation") == "box":
        # Browsers do not draw menclose; a bordered mrow (see css.py) does the same.
        tag, attributes = "mrow", [("class", "boxed")]
    else:
        attributes = [
            (name, value)
            for name, value in node.attrib.items()
            if name in ATTRIBUTES and _safe_value(name, value)
        ]
    if tag == "math":
        attributes.insert(0, ("xmlns", "http://www.w3.org/1998/Math/MathML"))
    attrs = "".join(f' {name}="{html.escape(value)}"' for name, value in attributes)
    out.append(f"<{tag}{attrs}>")
    if node.text:
        out.append(html.escape(node.text, quote=False))
    for child in node:
        _element(child, out)
        if child.tail:
            out.append(html.escape(child.tail, quote=False))
    out.append(f"</{tag}>")


def sanitize(mathml: str) -> str | None:
    """``mathml`` rebuilt from allowed elements and attributes, or ``None`` if unreadable."""
    try:
        root = ET.fromstring(mathml)
    except ET.ParseError:
        log.debug("unreadable MathML dropped: %.80s", mathml)
        return None
    if root.tag.removeprefix(_NS) != "math":
        return None
    out: list[str] = []
    _element(root, out)
    return "".join(out)
