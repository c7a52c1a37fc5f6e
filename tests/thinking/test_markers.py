"""A multi-token end-of-thinking marker found in streamed text, never half shown."""

from __future__ import annotations

from s1desk.thinking.markers import MarkerScanner, Scan


def feed_all(scanner: MarkerScanner, pieces: list[str]) -> tuple[str, Scan | None]:
    shown = ""
    for piece in pieces:
        scan = scanner.feed(piece)
        shown += scan.shown
        if scan.found:
            return shown, scan
    return shown, None


def test_a_marker_split_over_tokens_is_found_and_not_shown() -> None:
    shown, scan = feed_all(MarkerScanner(["</think>"]), ["So 4.", "\n", "</", "th", "ink", ">\n"])
    assert shown == "So 4.\n"
    assert scan is not None
    assert scan.rewind == 4  # "</", "th", "ink" and the token that completed it
    assert scan.keep == ""


def test_text_before_the_marker_in_the_same_token_is_shown_and_kept() -> None:
    shown, scan = feed_all(MarkerScanner(["</think>"]), ["Done", " ok</", "think>"])
    assert shown == "Done ok"
    assert scan is not None
    assert scan.rewind == 2
    assert scan.keep == " ok"  # the held token's text before the marker, to put back


def test_a_false_start_is_released_as_text() -> None:
    scanner = MarkerScanner(["</think>"])
    shown, scan = feed_all(scanner, ["a </", "b> and </th", "e end"])
    assert scan is None
    assert shown == "a </b> and </the end"
    assert scanner.holding == 0


def test_dropping_at_a_cap_takes_back_the_held_tokens() -> None:
    scanner = MarkerScanner(["</think>"])
    assert scanner.feed("x</").shown == "x"
    assert scanner.feed("thi").shown == ""
    dropped = scanner.drop()
    assert (dropped.rewind, dropped.keep) == (2, "x")
    assert scanner.holding == 0


def test_without_markers_every_text_is_shown_at_once() -> None:
    scanner = MarkerScanner([])
    assert scanner.feed("</thi").shown == "</thi"
    assert scanner.flush() == ""


def test_flush_gives_up_held_text() -> None:
    scanner = MarkerScanner(["</think>"])
    assert scanner.feed("end </th").shown == "end "
    assert scanner.flush() == "</th"
