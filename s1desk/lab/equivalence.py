"""Mathematical equivalence of two answers through ``math-verify``, offline.

s1 asks a paid LLM judge; we use Hugging Face's ``math-verify`` (sympy under
a LaTeX parser). Its timeouts use ``signal.alarm``, which works only on the
main thread; elsewhere it runs without one, so very long inputs are refused
before they reach sympy.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

log = logging.getLogger(__name__)

#: Longer answers are compared as text only: sympy can take minutes on them.
MAX_SYMBOLIC_CHARS = 400
_TIMEOUT_S = 5
_CONFIG = [LatexExtractionConfig(), ExprExtractionConfig()]


@dataclass(frozen=True, slots=True)
class Equivalence:
    """Whether two answers are the same quantity, and the forms compared."""

    equal: bool
    gold_form: str
    answer_form: str


def _timeout() -> int | None:
    return _TIMEOUT_S if threading.current_thread() is threading.main_thread() else None


def _parse(text: str) -> list[object]:
    parsed: list[object] = parse(f"${text}$", extraction_config=_CONFIG, parsing_timeout=_timeout())
    return parsed


def _form(parsed: list[object], fallback: str) -> str:
    return str(parsed[0]) if parsed else fallback


def equivalent(gold: str, answer: str) -> Equivalence | None:
    """Compare ``answer`` with ``gold`` symbolically; ``None`` when either cannot be read."""
    if len(gold) > MAX_SYMBOLIC_CHARS or len(answer) > MAX_SYMBOLIC_CHARS:
        return None
    try:
        gold_parsed = _parse(gold)
        answer_parsed = _parse(answer)
        if not gold_parsed or not answer_parsed:
            return None
        equal = bool(verify(gold_parsed, answer_parsed, timeout_seconds=_timeout()))
    except Exception:  # math-verify reports its own failures as exceptions of any kind
        log.debug("math-verify failed on %r vs %r", gold, answer, exc_info=True)
        return None
    return Equivalence(equal, _form(gold_parsed, gold), _form(answer_parsed, answer))
