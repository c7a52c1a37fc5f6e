"""Argument types for the command line: bounded integers, finite numbers, text that is UTF-8.

Each turns a bad value into argparse's usage message (``argument --ctx: ...``,
exit status 2) instead of a traceback later, when llama.cpp or SQLite meets a
number too big for C or a string that cannot be encoded.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
from collections.abc import Callable
from urllib.parse import urlsplit

from s1desk.errors import S1DeskError

#: Bounds for token counts, layers and the like: what a C ``int`` holds.
INT32_MAX = 2**31 - 1
#: The largest context llama.cpp is asked for (s1 is trained at 32,768 tokens).
MAX_CONTEXT = 1 << 20
#: llama.cpp takes a 32-bit seed.
MAX_SEED = 2**32 - 1


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a whole number, got {_shown(text)}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{_shown(text)} is out of range: use {low:,} to {high:,}"
            )
        return value

    parse.__name__ = "whole number"
    return parse


def finite(
    low: float | None = None, high: float | None = None, *, above: bool = False
) -> Callable[[str], float]:
    """An argparse type: a finite number (no ``nan``, no ``inf``), within bounds if given.

    ``above`` makes ``low`` exclusive (a timeout must be more than 0).
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {_shown(text)}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {_shown(text)}")
        too_low = low is not None and (value <= low if above else value < low)
        if too_low or (high is not None and value > high):
            lower = f"more than {low:g}" if above else f"at least {low:g}"
            bounds = [lower] if low is not None else []
            if high is not None:
                bounds.append(f"at most {high:g}")
            raise argparse.ArgumentTypeError(f"{_shown(text)}: use {' and '.join(bounds)}")
        return value

    parse.__name__ = "number"
    return parse


def text(value: str) -> str:
    """An argparse type: text that is valid UTF-8.

    Python hands undecodable bytes in ``argv`` over as lone surrogates; they
    would fail later, when the text is encoded for the model or the database.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(
            "not valid UTF-8 text (the terminal or the script passed other bytes)"
        ) from None
    return value


text.__name__ = "text"


def server_url(value: str) -> str:
    """An argparse type: an ``http://`` or ``https://`` address with a host and a valid port."""
    text(value)
    try:
        parts = urlsplit(value)
        port = parts.port  # raises for a port that is not a number from 0 to 65535
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a valid address {_shown(value)} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"expected an address like http://host:8000, got {_shown(value)}"
        )
    del port
    return value


server_url.__name__ = "address"


def read_stdin_text() -> str:
    """All of standard input as UTF-8 text, or :class:`S1DeskError` saying where it is not."""
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise S1DeskError(
            f"The question on standard input is not UTF-8 text (byte 0x{data[exc.start]:02x} "
            f"at position {exc.start:,}). Convert it first, e.g. with iconv."
        ) from None


def safe_output() -> None:
    """Never fail on writing text the terminal's encoding cannot hold: escape it instead."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
