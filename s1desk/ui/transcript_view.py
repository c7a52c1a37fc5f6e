"""The transcript: a locked-down web view updated by small JavaScript calls, per message."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QApplication, QWidget

from s1desk.chat.message import AssistantMessage
from s1desk.chat.summary import finish_note, stats_line, thinking_summary
from s1desk.render.markdown import render_markdown
from s1desk.ui.environment import ACTION_SCHEME
from s1desk.ui.transcript_page import transcript_html

log = logging.getLogger(__name__)

ACTIONS = ("edit", "reasoning", "copy-answer", "copy-reasoning", "regenerate", "think-longer")


@dataclass(frozen=True, slots=True)
class TranscriptAction:
    """A link clicked in the transcript: ``name`` (one of ``ACTIONS``) on message ``index``."""

    name: str
    index: int


class _Page(QWebEnginePage):
    action_requested = Signal(TranscriptAction)

    def acceptNavigationRequest(  # noqa: N802 (Qt override)
        self, url: QUrl | str, kind: QWebEnginePage.NavigationType, is_main_frame: bool
    ) -> bool:
        url = QUrl(url)
        scheme = url.scheme()
        if kind is QWebEnginePage.NavigationType.NavigationTypeLinkClicked:
            if scheme == ACTION_SCHEME.decode():
                name, _, index = url.path().partition("/")
                if name in ACTIONS and index.isdigit():
                    self.action_requested.emit(TranscriptAction(name, int(index)))
            elif scheme in ("http", "https"):
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
    """Shows the conversation; emits ``action`` when a link in it is clicked."""

    action = Signal(TranscriptAction)
    ready = Signal()

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
        self.setPage(page)
        self._page = page
        self._loaded = False
        self._pending: list[str] = []
        self._answer_len: dict[int, int] = {}
        page.loadFinished.connect(self._on_load_finished)
        self.setHtml(transcript_html(dark), QUrl(f"{ACTION_SCHEME.decode()}:transcript"))

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
        self._answer_len.pop(index, None)
        self.call("startReply", index)

    def update_reply(self, index: int, message: AssistantMessage, source: str = "") -> None:
        """Refresh message ``index`` only; the answer is re-rendered when it grew.

        ``source`` names the backend that wrote it; it leads the statistics line."""
        answer = message.answer
        changed = self._answer_len.get(index) != len(answer)
        self._answer_len[index] = len(answer)
        note = finish_note(message)
        data = {
            "summary": thinking_summary(message),
            "live": not message.finished and message.phase.value in ("waiting", "thinking"),
            "answer": render_markdown(answer) if changed else None,
            "notice": message.notice or "",
            "note": "" if message.error else note,
            "error": note if message.error else "",
            "stats": " · ".join(p for p in (source, stats_line(message)) if p),
            "done": message.finished,
        }
        self.call("reply", index, data)

    def truncate(self, index: int) -> None:
        self._forget_from(index)
        self.call("truncate", index)

    def select(self, index: int) -> None:
        self.call("select", index)

    def clear(self) -> None:
        self._answer_len.clear()
        self.call("clear")

    def set_dark(self, dark: bool) -> None:
        self.call("setTheme", dark)

    def _forget_from(self, index: int) -> None:
        for i in [i for i in self._answer_len if i >= index]:
            del self._answer_len[i]
