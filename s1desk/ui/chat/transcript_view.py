"""The transcript: a locked-down web view updated by small JavaScript calls, per message."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QUrl, QUrlQuery, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QApplication, QWidget

from s1desk.chat.message import AssistantMessage
from s1desk.chat.summary import answer_progress, finish_note, stats_line, thinking_summary
from s1desk.render.markdown import code_blocks
from s1desk.render.stream import StreamingMarkdown
from s1desk.ui.chat.transcript_page import transcript_html
from s1desk.ui.kit.environment import ACTION_SCHEME

log = logging.getLogger(__name__)

ACTIONS = ("edit", "reasoning", "copy-answer", "copy-reasoning", "regenerate", "think-longer")
#: The copy link on a code block: ``s1desk:copy-code/MESSAGE?block=K&key=KEY``.
COPY_CODE = "copy-code"
#: A reply's answer-version switcher: ``s1desk:version/MESSAGE?n=K&key=KEY`` (K from 0).
VERSION = "version"
#: Schemes of answer links handed to the system (model output keeps no other target).
EXTERNAL_SCHEMES = ("http", "https", "mailto")


@dataclass(frozen=True, slots=True)
class TranscriptAction:
    """A link clicked in the transcript: ``name`` (one of ``ACTIONS``, or ``VERSION``) on
    message ``index``; for ``VERSION``, the answer ``version`` to show (from 0)."""

    name: str
    index: int
    version: int = 0


class _Page(QWebEnginePage):
    """The transcript's page: a clicked app link acts only if it carries the page's key."""

    action_requested = Signal(TranscriptAction)
    copy_code_requested = Signal(int, int)  # message, code block

    def __init__(self, profile: QWebEngineProfile, parent: QWidget) -> None:
        super().__init__(profile, parent)
        #: Known only to this page's own script, which puts it on the links it makes.
        self.key = secrets.token_hex(16)

    def _is_ours(self, url: QUrl) -> bool:
        key = QUrlQuery(url).queryItemValue("key")
        return secrets.compare_digest(key.encode(), self.key.encode())

    def acceptNavigationRequest(  # noqa: N802 (Qt override)
        self, url: QUrl | str, kind: QWebEnginePage.NavigationType, is_main_frame: bool
    ) -> bool:
        url = QUrl(url)
        scheme = url.scheme()
        if kind is QWebEnginePage.NavigationType.NavigationTypeLinkClicked:
            if scheme == ACTION_SCHEME.decode():
                if not self._is_ours(url):
                    log.warning("an action link without the page's key was ignored")
                    return False
                name, _, index = url.path().partition("/")
                if name in ACTIONS and index.isdigit():
                    self.action_requested.emit(TranscriptAction(name, int(index)))
                elif name == VERSION and index.isdigit():
                    version = QUrlQuery(url).queryItemValue("n")
                    if version.isdigit():
                        self.action_requested.emit(TranscriptAction(name, int(index), int(version)))
                elif name == COPY_CODE and index.isdigit():
                    block = QUrlQuery(url).queryItemValue("block")
                    if block.isdigit():
                        self.copy_code_requested.emit(int(index), int(block))
            elif scheme in EXTERNAL_SCHEMES:
                QDesktopServices.openUrl(url)  # a link in an answer: the browser, never here
            return False
        # Only the page itself (set with setHtml) may load.
        return scheme == "data" and kind is QWebEnginePage.NavigationType.NavigationTypeTyped

    def javaScriptConsoleMessage(  # noqa: N802 (Qt override)
        self,
        level: QWebEnginePage.JavaScriptConsoleMessageLevel,
        message: str,
        line: int,
        source: str,
    ) -> None:
        log.debug("transcript console (%s) %s:%d: %s", level.name, source, line, message)


_profile: QWebEngineProfile | None = None


def _shared_profile() -> QWebEngineProfile:
    """One off-the-record profile (nothing written to disk) for every transcript.

    It belongs to the application, so it outlives every page that uses it.
    """
    global _profile
    if _profile is None:
        _profile = QWebEngineProfile(QApplication.instance())
    return _profile


class TranscriptView(QWebEngineView):
    """Shows the conversation; emits ``action`` when a link in it is clicked.

    While an answer streams, its finished markdown blocks stay in the page
    as they are and only the open tail is rendered again and replaced
    (``answer_rendered`` tells how many characters that took). The copy link
    on a code block puts that block's source on the clipboard.
    """

    action = Signal(TranscriptAction)
    ready = Signal()
    #: A message's answer was rendered: its index and the markdown characters rendered.
    answer_rendered = Signal(int, int)

    def __init__(self, dark: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        page = _Page(_shared_profile(), self)
        s = page.settings()
        attr = QWebEngineSettings.WebAttribute
        for off in (
            attr.JavascriptCanOpenWindows,
            attr.JavascriptCanAccessClipboard,
            attr.LocalContentCanAccessRemoteUrls,
            attr.LocalContentCanAccessFileUrls,
            attr.PluginsEnabled,
            attr.AutoLoadIconsForPage,
            attr.NavigateOnDropEnabled,
        ):
            s.setAttribute(off, False)
        page.action_requested.connect(self.action)
        page.copy_code_requested.connect(self.copy_code)
        self.setPage(page)
        self._page = page
        self._loaded = False
        self._pending: list[str] = []
        self._answers: dict[int, StreamingMarkdown] = {}
        page.loadFinished.connect(self._on_load_finished)
        self.setHtml(transcript_html(dark, page.key), QUrl(f"{ACTION_SCHEME.decode()}:transcript"))

    @property
    def is_ready(self) -> bool:
        return self._loaded

    def _on_load_finished(self, ok: bool) -> None:
        if self._loaded:
            return
        if not ok:
            log.error("the transcript page failed to load")
            return
        self._loaded = True
        if self._pending:
            self._page.runJavaScript("\n".join(self._pending))
            self._pending.clear()
        self.ready.emit()

    def call(self, function: str, *args: Any) -> None:
        """Run ``S1.function(*args)`` in the page (queued until it has loaded)."""
        script = f"S1.{function}({', '.join(json.dumps(a) for a in args)});"
        if self._loaded:
            self._page.runJavaScript(script)
        else:
            self._pending.append(script)

    async def evaluate(self, script: str) -> Any:
        """The value of ``script`` in the page (for checks and tests)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def done(value: Any) -> None:
            if not future.done():
                future.set_result(value)

        self._page.runJavaScript(script, 0, done)
        return await future

    def add_exchange(self, index: int, user_text: str) -> None:
        self._forget_from(index)
        self.call("add", index, user_text)

    def start_reply(self, index: int) -> None:
        self._answers.pop(index, None)
        self.call("startReply", index)

    def update_reply(
        self,
        index: int,
        message: AssistantMessage,
        source: str = "",
        version: int = 0,
        versions: int = 1,
    ) -> None:
        """Refresh message ``index`` only; of its answer, only what changed is rendered.

        ``source`` names the backend that wrote it; it leads the statistics line.
        ``message`` is answer ``version`` (from 0) of the ``versions`` of its exchange;
        with more than one, the reply shows a "‹ 1/2 ›" switcher once it has finished."""
        rendered = self._answers.setdefault(index, StreamingMarkdown())
        update = rendered.update(message.answer, final=message.finished)
        answer = None
        if update is not None:
            answer = {"reset": update.reset, "append": update.append, "tail": update.tail}
        note = finish_note(message)
        data = {
            "summary": thinking_summary(message),
            "live": not message.finished and message.phase.value in ("waiting", "thinking"),
            "answer": answer,
            "notice": message.notice or "",
            "note": "" if message.error else note,
            "error": note if message.error else "",
            "stats": " · ".join(
                p for p in (source, stats_line(message) or answer_progress(message)) if p
            ),
            "done": message.finished,
            "version": version + 1,
            "versions": versions,
        }
        self.call("reply", index, data)
        if update is not None:
            self.answer_rendered.emit(index, update.source_chars)

    def copy_code(self, index: int, block: int) -> None:
        """Put code block ``block`` of answer ``index`` on the clipboard, as written."""
        rendered = self._answers.get(index)
        blocks = code_blocks(rendered.source) if rendered is not None else []
        if 0 <= block < len(blocks):
            QGuiApplication.clipboard().setText(blocks[block])
        else:
            log.warning("no code block %d in answer %d to copy", block, index)

    def show_other_version(self, index: int) -> None:
        """Another answer version of message ``index`` comes next: render it from scratch."""
        self._answers.pop(index, None)

    def set_busy(self, busy: bool) -> None:
        """While a reply is written no answer version can be switched: hide the switchers."""
        self.call("setBusy", busy)

    def truncate(self, index: int) -> None:
        self._forget_from(index)
        self.call("truncate", index)

    def select(self, index: int) -> None:
        self.call("select", index)

    def clear(self) -> None:
        self._answers.clear()
        self.call("clear")

    def set_dark(self, dark: bool) -> None:
        self.call("setTheme", dark)

    def _forget_from(self, index: int) -> None:
        for i in [i for i in self._answers if i >= index]:
            del self._answers[i]
