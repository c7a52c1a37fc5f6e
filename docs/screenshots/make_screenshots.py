"""Screenshots of the real window (offscreen), fed by a replayed s1-style reply.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/make_screenshots.py [light|dark]
(``versions``: only the answer-versions shot), or, with a real model under Xvfb:
xvfb-run -s "-screen 0 1400x900x24" \
.venv/bin/python docs/screenshots/make_screenshots.py real MODEL.gguf
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["S1DESK_HOME"] = tempfile.mkdtemp(prefix="s1desk-shots-")

import qasync

from s1desk.backends.scripted import ScriptedBackend
from s1desk.events import (
    AnswerText,
    Done,
    Stats,
    StreamEvent,
    ThinkingEnd,
    ThinkingText,
    WaitInjected,
)
from s1desk.settings import AppSettings
from s1desk.thinking.machine import CloseReason, FinishReason
from s1desk.thinking.policy import BudgetPolicy
from s1desk.ui.app import build_window, create_application
from s1desk.ui.window.main_window import MainWindow

OUT = Path(__file__).resolve().parent

THINKING = (
    "The question asks for the number of positive divisors of 360.\n\n"
    "Factor 360 first: 360 = 36 × 10 = 2^2 · 3^2 · 2 · 5 = 2^3 · 3^2 · 5.\n\n"
    "For n = p^a · q^b · r^c the number of divisors is (a+1)(b+1)(c+1).\n"
    "So (3+1)(2+1)(1+1) = 4 · 3 · 2 = 24.\n\n"
    "That gives 24."
)
RECHECK = (
    " let me double-check the factorisation. 2^3 = 8, 3^2 = 9, 8 · 9 = 72, 72 · 5 = 360. "
    "Correct.\n\nList a few divisors to be safe: 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 18, 20, "
    "24, 30, 36, 40, 45, 60, 72, 90, 120, 180, 360 — that is 24 of them.\n\n"
    "So the answer is 24."
)
ANSWER = (
    "360 factors as $2^3 \\cdot 3^2 \\cdot 5$, so it has\n\n"
    "**(3+1)(2+1)(1+1) = 24** positive divisors.\n\n"
    "```python\n"
    "n = 360\n"
    "print(sum(1 for d in range(1, n + 1) if n % d == 0))  # 24\n"
    "```"
)


SHORT_THINKING = (
    "360 = 2^3 · 3^2 · 5, so the count of divisors is (3+1)(2+1)(1+1) = 24.\n\n"
    "Check with the pairs d · (360/d): 1·360, 2·180, 3·120, 4·90, 5·72, 6·60, 8·45, 9·40, "
    "10·36, 12·30, 15·24, 18·20 — twelve pairs, 24 divisors."
)
SHORT_ANSWER = "**24.** The divisors pair up as $d \\cdot (360/d)$: twelve pairs."


def _tokens(text: str) -> list[str]:
    return re.findall(r"\s*\S+|\s+", text)


def script(thinking_text: str = THINKING, answer_text: str = ANSWER) -> list[StreamEvent]:
    events: list[StreamEvent] = [ThinkingText(t) for t in _tokens(thinking_text)]
    waits = 0
    if thinking_text == THINKING:
        at = len(events)
        events.append(WaitInjected(text="Wait,", at=at, index=1))
        events += [ThinkingText(t) for t in _tokens(RECHECK)]
        waits = 1
    thinking = len(events)
    events.append(ThinkingEnd(reason=CloseReason.NATURAL, thinking_tokens=thinking))
    answer = [AnswerText(t) for t in _tokens(answer_text)]
    events += answer
    events.append(
        Stats(
            prompt_tokens=52,
            cached_prompt_tokens=0,
            thinking_tokens=thinking,
            answer_tokens=len(answer),
            waits=waits,
            time_to_first_token_s=0.41,
            thinking_s=thinking / 24,
            total_s=(thinking + len(answer)) / 24,
            tokens_per_second=24.0,
        )
    )
    events.append(Done(reason=FinishReason.STOP))
    return events


async def shoot(window: MainWindow, prefix: str) -> None:
    while not window.transcript.is_ready:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.5)
    window.grab().save(str(OUT / f"{prefix}idle.png"))
    window.chat.submit("How many positive divisors does 360 have?")
    while window.controller.message(0) is None or window.controller.message(0).thinking_tokens < 75:  # type: ignore[union-attr]
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.15)
    window.grab().save(str(OUT / f"{prefix}thinking-live.png"))
    await window.controller.wait_idle()
    await asyncio.sleep(0.6)
    window.grab().save(str(OUT / f"{prefix}answered-pane-open.png"))
    window.replies.set_visible(False)
    await asyncio.sleep(0.6)
    window.grab().save(str(OUT / f"{prefix}answered-pane-closed.png"))
    if not prefix:
        await shoot_dialogs(window)
    await window.shutdown()


async def shoot_dialogs(window: MainWindow) -> None:
    """The settings (with how a model is loaded) and the Models window on this machine:
    its RAM, its GPU if any, and its memory bandwidth, measured."""
    from s1desk.models.bandwidth import CACHE_FILE, detect_bandwidth
    from s1desk.models.hardware import detect_hardware
    from s1desk.paths import cache_dir
    from s1desk.ui.models.models_dialog import ModelManagerDialog
    from s1desk.ui.window.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.settings, window)
    dialog.show()
    await asyncio.sleep(0.4)
    dialog.grab().save(str(OUT / "settings.png"))
    dialog.close()
    hardware = await asyncio.to_thread(detect_hardware)
    bandwidth = await asyncio.to_thread(detect_bandwidth, cache_dir() / CACHE_FILE)
    models = ModelManagerDialog(window, hardware=hardware, bandwidth=bandwidth)
    models.resize(1100, 720)
    models.show()
    await asyncio.sleep(0.5)
    models.catalog_view.scroll_to_recommended()
    await asyncio.sleep(0.5)
    models.grab().save(str(OUT / "model_manager.png"))
    await models.shutdown()
    models.close()


async def shoot_real(window: MainWindow, model: Path) -> None:
    """The real window on a real GGUF: load it, ask, wait for the answer."""
    while not window.transcript.is_ready:
        await asyncio.sleep(0.02)
    window.open_model_file(model)
    while window.controller.backend is None:
        if window.banner.isVisible():
            raise SystemExit(f"the model did not load: {window.banner.text}")
        await asyncio.sleep(0.1)
    window.banner.hide()
    window.chat.submit("How many positive divisors does 360 have?")
    await window.controller.wait_idle()
    await asyncio.sleep(0.8)
    window.replies.show_reasoning(0)
    await asyncio.sleep(0.5)
    window.grab().save(str(OUT / "real-model-xvfb.png"))
    await window.shutdown()


async def shoot_versions(window: MainWindow) -> None:
    """A reply regenerated once, switched back to its first answer: "‹ 1/2 ›"."""
    while not window.transcript.is_ready:
        await asyncio.sleep(0.02)
    window.chat.submit("How many positive divisors does 360 have?")
    await window.controller.wait_idle()
    window.controller.regenerate()
    await window.controller.wait_idle()
    await asyncio.sleep(0.3)
    window.chat.choose_version(0, 0)
    window.replies.show_reasoning(0)
    await asyncio.sleep(0.8)
    window.grab().save(str(OUT / "answer-versions.png"))
    await window.shutdown()


def main() -> int:
    app = create_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    theme = sys.argv[1] if len(sys.argv) > 1 else "light"
    if theme == "real":  # docs/screenshots/make_screenshots.py real MODEL.gguf (under Xvfb)
        policy = BudgetPolicy(max_thinking=300, min_thinking=200, max_answer=96)
        window = build_window(AppSettings(policy=policy, context_size=2048))
        window.resize(1280, 800)
        window.show()
        with loop:
            loop.run_until_complete(shoot_real(window, Path(sys.argv[2])))
        return 0
    if theme == "versions":
        replies = iter([script(), script(SHORT_THINKING, SHORT_ANSWER)])
        window = build_window(AppSettings(policy=BudgetPolicy(max_thinking=400, min_thinking=120)))
        window.set_backend(
            ScriptedBackend(
                lambda _r: next(replies), rate=400, label="s1.1-7B-Q4_K_M.gguf · local CPU"
            )
        )
        window.resize(1280, 800)
        window.show()
        with loop:
            loop.run_until_complete(shoot_versions(window))
        return 0
    settings = AppSettings(policy=BudgetPolicy(max_thinking=400, min_thinking=120), theme=theme)
    window = build_window(settings)
    window.set_backend(
        ScriptedBackend(lambda _r: script(), rate=24, label="s1.1-7B-Q4_K_M.gguf · local CPU")
    )
    window.resize(1280, 800)
    window.show()
    with loop:
        loop.run_until_complete(shoot(window, "" if theme == "light" else f"{theme}-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
