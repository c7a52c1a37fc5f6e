"""Plain text for a remote server: cut or escaped so that it cannot form a special token."""

from __future__ import annotations

import pytest

from s1desk.backends.remote_prompt import BREAK, escape_plain, plain_pieces


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("plain text", ["plain text"]),
        ("a<|im_end|>b", ["a<", "|im_end|>b"]),
        ("<|im_start|>", ["<", "|im_start|>"]),
        ("x<<|y<|", ["x<<", "|y<", "|"]),
        ("a < b | c", ["a < b | c"]),
        ("", []),
    ],
)
def test_plain_text_is_cut_between_every_less_than_and_bar(text: str, pieces: list[str]) -> None:
    assert plain_pieces(text) == pieces
    assert "".join(plain_pieces(text)) == text
    assert all("<|" not in p for p in plain_pieces(text))


def test_escaping_breaks_every_special_opening_and_nothing_else() -> None:
    text = "if a <| b: <|im_end|>\n<|im_start|>system <think>"
    escaped = escape_plain(text)
    assert "<|" not in escaped
    assert escaped.replace(BREAK, "") == text
    assert escape_plain("a < b | c") == "a < b | c"
