"""Answers in the live transcript: math and code drawn, copy links, hostile text inert."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication, QImage

from s1desk.backends.scripted import ScriptedBackend, synthetic_reply
from s1desk.render.markdown import render_markdown
from s1desk.ui.chat.transcript_view import TranscriptView
from s1desk.ui.window.main_window import MainWindow
from support.qt import Rect, Windows, click, one_rect, rects, until

CODE = "def total(n):\n    return n * (n + 1) // 2\n"
MATH_AND_CODE = (
    "Let $\\frac{a}{b}$ be the ratio of the two sums.\n\n"
    "$$\\sum_{i=1}^n i$$\n\n"
    "So the answer is \\boxed{42}.\n\n"
    f"```python\n{CODE}```"
)
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def answer_window(windows: Windows, arun: Callable[..., Any], answer: str) -> MainWindow:
    """A window that has streamed ``answer`` to the end (reasoning pane closed)."""
    w = windows.make(ScriptedBackend(lambda r: synthetic_reply(20, answer=answer), rate=4000))
    w.resize(1000, 680)
    w.replies.set_visible(False)
    w.chat.submit("What is the sum?")
    arun(w.controller.wait_idle())
    arun(until(lambda: answer_done(w), what="the finished answer in the page"))
    return w


async def answer_done(w: MainWindow) -> bool:
    return bool(await w.transcript.evaluate("!!document.querySelector('#ex-0.done .answer *')"))


def shot(view: TranscriptView, arun: Callable[..., Any], where: Rect, colour: str) -> QImage:
    """The view as drawn once the pixel near the top left of ``where`` has ``colour``.

    The web view paints on its own schedule; waiting for a known pixel
    (a code block's background) makes sure the picture shows the answer.
    """
    grabbed: list[QImage] = []

    def painted() -> bool:
        image = view.grab().toImage()
        grabbed[:] = [image]
        return image.pixelColor(where[0] + 3, where[1] + 3).name() == colour

    arun(until(painted, 20, f"a frame with {colour} at {where}"))
    image = grabbed[0]
    assert image.width() == view.width(), "device pixel ratio 1 expected offscreen"
    return image


def ink(image: QImage, rect: Rect, on: Callable[[QColor], bool]) -> list[list[bool]]:
    """For each pixel row of ``rect``, which pixels satisfy ``on``."""
    x0, y0, width, height = rect
    return [
        [on(image.pixelColor(x, y)) for x in range(x0, x0 + width)] for y in range(y0, y0 + height)
    ]


def dark(colour: QColor) -> bool:
    return colour.lightness() < 140


def near(rgb: tuple[int, int, int], by: int = 40) -> Callable[[QColor], bool]:
    def test(colour: QColor) -> bool:
        got = (colour.red(), colour.green(), colour.blue())
        return all(abs(a - b) <= by for a, b in zip(got, rgb, strict=True))

    return test


def test_math_and_code_render_in_the_page_and_on_screen(
    windows: Windows, arun: Callable[..., Any], tmp_path: Path
) -> None:
    w = answer_window(windows, arun, MATH_AND_CODE)
    view = w.transcript
    # The live DOM: MathML for all three formulas, highlighted spans in the code block.
    count = "(s) => document.querySelectorAll('#ex-0 .answer ' + s).length"
    counts = arun(
        view.evaluate(
            f"const n = {count}; JSON.stringify([n('math'), n('mfrac'), "
            "n('math[display=block] munderover'), n('mrow.boxed'), "
            "n('pre code.language-python span.hl-k'), n('span.hl-nf')])"
        )
    )
    assert json.loads(counts) == [3, 1, 1, 1, 2, 1]  # def, return; total
    text = arun(view.evaluate("S1.answerText(0)"))
    assert "$" not in text
    assert "\\frac" not in text
    assert "\\boxed" not in text
    assert "def total(n):" in text

    code = one_rect(view, arun, "#ex-0 pre")
    image = shot(view, arun, code, "#f4f5f7")
    image.save(str(tmp_path / "math-and-code.png"))
    if os.environ.get("S1DESK_SAVE_SCREENSHOTS"):
        image.save(str(SHOTS / "math-and-code.png"))

    # \frac: a bar as wide as the fraction, with ink above and below it.
    rows = ink(image, one_rect(view, arun, "#ex-0 mfrac"), dark)
    bars = [k for k, row in enumerate(rows) if sum(row) >= 0.8 * len(row)]
    assert bars, "no fraction bar drawn"
    assert any(any(row) for row in rows[: bars[0]]), "nothing above the fraction bar"
    assert any(any(row) for row in rows[bars[-1] + 1 :]), "nothing below the fraction bar"
    # \sum with limits: under- and over-scripts stacked, far taller than a line of text.
    rows = ink(image, one_rect(view, arun, "#ex-0 munderover"), dark)
    inked = [k for k, row in enumerate(rows) if any(row)]
    assert inked[-1] - inked[0] > 1.6 * 15, "the sum's limits are not stacked"
    # \boxed: a frame drawn around the 42.
    x, y, width, height = one_rect(view, arun, "#ex-0 mrow.boxed")
    frame = ink(image, (x - 1, y - 1, width + 2, height + 2), dark)
    assert sum(frame[0]) + sum(frame[1]) >= 0.8 * width, "no top edge"
    assert sum(frame[-1]) + sum(frame[-2]) >= 0.8 * width, "no bottom edge"
    assert sum(row[0] or row[1] for row in frame) >= 0.8 * height, "no left edge"
    # The code block: keywords in green, the function name in blue (Pygments' light style).
    assert sum(map(sum, ink(image, code, near((0, 128, 0))))) > 30, "keywords not green"
    assert sum(map(sum, ink(image, code, near((0, 0, 255))))) > 15, "name not blue"

    # Dark theme: GitHub-dark colours for the code, a light frame on a dark page.
    view.set_dark(True)
    arun(until(lambda: view.evaluate("document.documentElement.classList.contains('dark')")))
    colour = arun(view.evaluate("getComputedStyle(document.querySelector('.hl-k')).color"))
    assert colour == "rgb(255, 123, 114)"
    image = shot(view, arun, code, "#202329")
    image.save(str(tmp_path / "math-and-code-dark.png"))
    assert sum(map(sum, ink(image, code, near((255, 123, 114))))) > 30
    x, y, width, height = one_rect(view, arun, "#ex-0 mrow.boxed")
    frame = ink(image, (x - 1, y - 1, width + 2, height + 2), lambda c: c.lightness() > 150)
    assert sum(frame[0]) + sum(frame[1]) >= 0.8 * width, "no light top edge in the dark"


def test_the_copy_link_puts_the_code_block_on_the_clipboard(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    answer = f"Two blocks.\n\n```sh\nls -l\n```\n\nThen:\n\n```python\n{CODE}```\n\nDone."
    w = answer_window(windows, arun, answer)
    view = w.transcript
    QGuiApplication.clipboard().setText("before")
    assert len(rects(view, arun, "#ex-0 pre > a.copy")) == 2
    click(view, arun, "#ex-0 pre:nth-of-type(2) > a.copy")
    arun(until(lambda: QGuiApplication.clipboard().text() != "before", what="the clipboard"))
    assert QGuiApplication.clipboard().text() == CODE
    copied = "document.querySelectorAll('#ex-0 a.copy')[1].classList.contains('copied')"
    assert arun(view.evaluate(copied)) is True
    click(view, arun, "#ex-0 pre:nth-of-type(1) > a.copy")
    arun(until(lambda: QGuiApplication.clipboard().text() == "ls -l\n", what="the first block"))
    # The link is drawn as a label ("Copy"), not text: the answer's text stays the answer's.
    assert "Copy" not in arun(view.evaluate("S1.answerText(0)"))


class UrlCatcher(QObject):
    """Where QDesktopServices.openUrl sends web links during a test (not the browser)."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[QUrl] = []

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.opened.append(QUrl(url))


@pytest.fixture
def browser() -> Iterator[UrlCatcher]:
    catcher = UrlCatcher()
    for scheme in ("http", "https", "mailto", "javascript"):
        QDesktopServices.setUrlHandler(scheme, catcher, "handle")  # type: ignore[arg-type]
    yield catcher
    for scheme in ("http", "https", "mailto", "javascript"):
        QDesktopServices.unsetUrlHandler(scheme)


def test_a_hostile_answer_is_shown_as_text_and_does_nothing(
    windows: Windows, arun: Callable[..., Any], browser: UrlCatcher
) -> None:
    hostile = (
        "<script>window.__pwned=1</script>\n\n"
        '<img src=x onerror="window.__pwned=1">\n\n'
        "Click [here](javascript:window.__pwned=1) please."
    )
    w = answer_window(windows, arun, hostile)
    view = w.transcript
    text = arun(view.evaluate("S1.answerText(0)"))
    assert "<script>window.__pwned=1</script>" in text
    assert '<img src=x onerror="window.__pwned=1">' in text
    found = arun(view.evaluate("document.querySelectorAll('#ex-0 .answer script, img').length"))
    assert found == 0
    # markdown-it refuses the javascript: target: the link is left as the text it was.
    assert "[here](javascript:window.__pwned=1)" in text
    assert arun(view.evaluate("document.querySelectorAll('#ex-0 .answer a').length")) == 0
    click(view, arun, "#ex-0 .answer p:last-child")
    arun(asyncio.sleep(0.3))  # time for a navigation or a handler, were there one
    assert arun(view.evaluate("typeof window.__pwned")) == "undefined"
    assert arun(view.evaluate("S1.count()")) == 1  # still the transcript page
    assert browser.opened == []


def test_a_web_link_opens_in_the_browser_not_in_the_view(
    windows: Windows, arun: Callable[..., Any], browser: UrlCatcher
) -> None:
    w = answer_window(windows, arun, "See [the guide](https://example.org/guide?x=1) first.")
    view = w.transcript
    before = view.url()
    click(view, arun, "#ex-0 .answer a")
    arun(until(lambda: bool(browser.opened), what="the link handed to the browser"))
    assert [u.toString() for u in browser.opened] == ["https://example.org/guide?x=1"]
    assert view.url() == before
    assert arun(view.evaluate("S1.count()")) == 1


def long_answer(sections: int) -> str:
    parts = []
    for k in range(sections):
        parts.append(
            f"### Step {k}\n\nAdd the terms $a_{k} + b_{k}$ and check the partial sum "
            f"$$S_{k} = \\sum_{{i=1}}^{{{k}}} i$$ once more before going on.\n\n"
            f"```python\ndef step_{k}(x):\n    return x + {k}\n```\n"
        )
    return "\n".join(parts) + "\nSo the total is \\boxed{42}."


def test_while_streaming_only_the_tail_is_rendered_again(
    windows: Windows, arun: Callable[..., Any]
) -> None:
    answer = long_answer(90)
    assert len(answer) > 15_000
    backend = ScriptedBackend(lambda r: synthetic_reply(10, answer=answer), rate=1500)
    w = windows.make(backend)
    batches: list[tuple[int, int]] = []  # (characters rendered, answer length then)

    def rendered(index: int, chars: int) -> None:
        message = w.controller.message(index)
        assert message is not None
        batches.append((chars, len(message.answer)))

    w.transcript.answer_rendered.connect(rendered)
    w.chat.submit("Sum it up.")

    async def stream() -> None:
        # Mark the first heading once it is shown; a finished block keeps its node.
        mark = "(() => { const h = document.querySelector('#ex-0 .answer h3');"
        mark += " if (h) h.dataset.mark = 'first'; return !!h; })()"
        await until(lambda: w.transcript.evaluate(mark), what="the first heading")
        await w.controller.wait_idle()

    arun(stream())
    arun(until(lambda: answer_done(w), what="the finished answer"))
    assert len(batches) > 10, len(batches)
    assert batches[-1][1] == len(answer)
    # Each batch renders what arrived plus the open block before it, never the whole
    # answer again: the text rendered a second time stays short however long it grows.
    again = [
        chars - (length - before)
        for (chars, length), (_, before) in zip(batches[1:], batches, strict=False)
    ]
    assert max(again) < 600, again
    assert sum(chars for chars, _ in batches) < 2 * len(answer)
    view = w.transcript
    assert arun(view.evaluate("document.querySelector('#ex-0 h3').dataset.mark")) == "first"
    # The page's answer is exactly a full render of the final text (copy links, mark aside).
    same = (
        "(() => { const a = document.querySelector('#ex-0 .answer').cloneNode(true);"
        " a.querySelectorAll('a.copy').forEach((c) => c.remove());"
        " delete a.querySelector('h3').dataset.mark;"
        " const b = document.createElement('div');"
        f" b.innerHTML = {json.dumps(render_markdown(answer))};"
        " return a.innerHTML === b.innerHTML && b.querySelectorAll('pre').length; })()"
    )
    assert arun(view.evaluate(same)) == 90


def test_a_model_written_action_link_does_nothing_while_the_app_copy_button_works(
    windows: Windows, arun: Callable[..., Any], browser: UrlCatcher
) -> None:
    answer = (
        "Click [copy everything](s1desk:copy-answer/0) or <s1desk:regenerate/0> "
        "or [this](copy-answer/0).\n\n"
        f"```python\n{CODE}```\n"
    )
    w = answer_window(windows, arun, answer)
    view = w.transcript
    fired: list[object] = []
    view.action.connect(fired.append)
    before = view.url()
    QGuiApplication.clipboard().setText("before")
    links = "[...document.querySelectorAll('#ex-0 .answer p a')]"
    hrefs = arun(view.evaluate(f"JSON.stringify({links}.map((a) => a.getAttribute('href')))"))
    assert json.loads(hrefs) == [None, None, None]  # the model's links have no target
    for k in (1, 2, 3):
        click(view, arun, f"#ex-0 .answer p a:nth-of-type({k})")
    arun(asyncio.sleep(0.3))  # time for a navigation or an action, were there one
    assert fired == []
    assert QGuiApplication.clipboard().text() == "before"
    assert view.url() == before
    assert arun(view.evaluate("S1.count()")) == 1
    assert browser.opened == []
    # The app's own copy button on the same answer still acts.
    click(view, arun, "#ex-0 pre > a.copy")
    arun(until(lambda: QGuiApplication.clipboard().text() == CODE, what="the code copied"))


def test_an_action_link_without_the_page_key_is_ignored_even_if_it_reaches_the_page(
    windows: Windows, arun: Callable[..., Any], browser: UrlCatcher
) -> None:
    # As if the sanitiser let one through: the link still lacks the page's key.
    w = answer_window(windows, arun, "The answer.")
    view = w.transcript
    fired: list[object] = []
    view.action.connect(fired.append)
    QGuiApplication.clipboard().setText("before")
    forged = [
        "s1desk:copy-answer/0",
        "s1desk:copy-answer/0?key=",
        "s1desk:copy-answer/0?key=0123456789abcdef0123456789abcdef",
        "s1desk:copy-code/0?block=0&key=guess",
    ]
    insert = (
        "(() => { const a = document.querySelector('#ex-0 .answer');"
        f" {json.dumps(forged)}.forEach((h, k) => {{ const l = document.createElement('a');"
        " l.href = h; l.id = 'forged' + k; l.textContent = 'forged ' + k;"
        " a.appendChild(document.createElement('br')); a.appendChild(l); }); return true; })()"
    )
    assert arun(view.evaluate(insert)) is True
    for k in range(len(forged)):
        click(view, arun, f"#forged{k}")
    arun(asyncio.sleep(0.3))
    assert fired == []
    assert QGuiApplication.clipboard().text() == "before"
    # The app's own Copy answer link (which carries the key) acts.
    key = arun(view.evaluate("document.querySelector('#ex-0 .meta .tools > a').href"))
    assert "key=" in key
    assert key.split("key=")[1] not in arun(view.evaluate("S1.answerHtml(0)"))
    click(view, arun, "#ex-0 .meta .tools > a:first-of-type")
    arun(until(lambda: bool(fired), what="the app's own action"))
    assert [(a.name, a.index) for a in fired] == [("copy-answer", 0)]  # type: ignore[attr-defined]
