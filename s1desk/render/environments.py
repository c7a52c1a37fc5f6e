"""amsmath environments (``\\begin{align}…\\end{align}``) found without rescanning the text.

mdit-py-plugins' rule looks for the closing line from every line that opens an
environment, and runs again from every line of a paragraph (it may interrupt
one), so an answer of unclosed ``\\begin{align}`` lines took quadratic time.
This rule accepts exactly the same blocks but finds the closing line in a
table of the lines that end with ``\\end{…}``, built once per parse.
"""

from __future__ import annotations

import bisect
import re
import weakref

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from mdit_py_plugins.amsmath import RE_OPEN
from mdit_py_plugins.utils import is_code_block

_OPEN = re.compile(RE_OPEN)
#: A line that ends (trailing white space aside) with ``\end{NAME}`` or ``\end{NAME*}``.
_CLOSE = re.compile(r"\\end\{([A-Za-z]+\*?)\}[^\S\n]*$", re.MULTILINE)

#: Per parse state: closing tag -> the lines (sorted) whose text ends with it.
_closings: weakref.WeakKeyDictionary[StateBlock, dict[str, list[int]]] = weakref.WeakKeyDictionary()


def _closing_lines(state: StateBlock) -> dict[str, list[int]]:
    table = _closings.get(state)
    if table is None:
        table = {}
        ends = state.eMarks
        for match in _CLOSE.finditer(state.src):
            line = bisect.bisect_left(ends, match.end())
            table.setdefault(f"\\end{{{match.group(1)}}}", []).append(line)
        _closings[state] = table
    return table


def amsmath_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A top-level amsmath environment from ``start_line`` to the line that closes it."""
    if is_code_block(state, start_line):
        return False
    first_start = state.bMarks[start_line] + state.tShift[start_line]
    first_end = state.eMarks[start_line]
    opened = _OPEN.match(state.src, first_start, first_end)
    if opened is None:
        return False
    if state.sCount[start_line] < state.blkIndent:
        return False
    environment, numbered = opened.group(1), opened.group(2)
    closing = f"\\end{{{environment}{numbered}}}"
    candidates = _closing_lines(state).get(closing, [])
    last = None
    for k in range(bisect.bisect_left(candidates, start_line), len(candidates)):
        line = candidates[k]
        if line >= end_line:
            break
        begin = state.bMarks[line] + state.tShift[line]
        if state.src[begin : state.eMarks[line]].rstrip().endswith(closing):
            last = line
            break
    if last is None:
        return False
    state.line = last + 1
    if not silent:
        token = state.push("amsmath", "math", 0)
        token.block = True
        token.content = state.getLines(start_line, state.line, state.sCount[start_line], False)
        token.meta = {"environment": environment, "numbered": numbered}
        token.map = [start_line, last]
    return True


def use_fast_amsmath(md: MarkdownIt) -> None:
    """Put :func:`amsmath_block` in place of the plugin's rule (same name, same options)."""
    md.block.ruler.at(
        "amsmath",
        amsmath_block,
        {"alt": ["paragraph", "reference", "blockquote", "list", "footnote_def"]},
    )
