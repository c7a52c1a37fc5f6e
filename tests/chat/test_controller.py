"""The conversation controller on a plain asyncio loop: no QApplication, no widgets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from s1desk.backends.scripted import ScriptedBackend, synthetic_reply
from s1desk.chat.controller import NO_BACKEND, ChatController
from s1desk.events import ErrorEvent, ThinkingText
from s1desk.thinking.machine import FinishReason
from s1desk.thinking.policy import BudgetPolicy


class Heard:
    """Every announcement of a controller, in order, as ``(name, argument)``."""

    def __init__(self, controller: ChatController) -> None:
        self.seen: list[tuple[str, Any]] = []
        for name in (
            "exchange_added",
            "truncated",
            "generation_started",
            "reply_started",
            "reply_updated",
            "reply_finished",
            "busy_changed",
            "backend_changed",
            "problem",
        ):
            getattr(controller, name).connect(self._note(name))
        controller.cleared.connect(lambda: self.seen.append(("cleared", None)))
        controller.generation_ended.connect(lambda m: self.seen.append(("generation_ended", m)))

    def _note(self, name: str) -> Callable[[Any], None]:
        return lambda value: self.seen.append((name, value))

    def names(self) -> list[str]:
        return [name for name, _ in self.seen if name != "reply_updated"]

    def count(self, name: str) -> int:
        return sum(1 for n, _ in self.seen if n == name)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_send_streams_a_reply_and_announces_it_in_order() -> None:
    async def scenario() -> tuple[ChatController, Heard]:
        c = ChatController()
        heard = Heard(c)
        c.set_backend(ScriptedBackend(synthetic_reply(400, answer="It is 56."), rate=4000))
        assert c.send("What is 7 x 8?")
        assert c.busy
        assert c.streaming_index == 0
        await c.wait_idle()
        return c, heard

    c, heard = run(scenario())
    assert heard.names() == [
        "backend_changed",
        "exchange_added",
        "generation_started",
        "reply_started",
        "busy_changed",
        "generation_ended",
        "busy_changed",
        "reply_finished",
    ]
    reply = c.message(0)
    assert reply is not None
    assert reply.finished
    assert reply.answer == "It is 56."
    assert reply.source == "scripted replay"
    assert reply.thinking_tokens == 400
    # 400 tokens at 4,000/s take ~0.1 s: subscribers hear of it in batches, not per token.
    assert 1 <= heard.count("reply_updated") < 100


def test_nothing_is_sent_without_a_backend_or_while_busy() -> None:
    async def scenario() -> tuple[ChatController, Heard]:
        c = ChatController()
        heard = Heard(c)
        assert not c.send("hello")
        c.set_backend(ScriptedBackend(synthetic_reply(2000), rate=2000))
        assert c.send("one")
        assert not c.send("two")
        c.stop()
        await c.wait_idle()
        assert not c.send("   ")
        return c, heard

    c, heard = run(scenario())
    problems = [value for name, value in heard.seen if name == "problem"]
    assert problems[0] == NO_BACKEND
    assert "still being written" in problems[1]
    assert problems[-1] == "The message is empty."
    assert len(c.session) == 1
    reply = c.message(0)
    assert reply is not None
    assert reply.finish_reason is FinishReason.CANCELLED


def test_regenerate_edit_and_think_longer_rerun_the_right_exchange() -> None:
    async def scenario() -> tuple[ChatController, Heard, BudgetPolicy | None]:
        c = ChatController()
        backend = ScriptedBackend(lambda r: synthetic_reply(10, answer=r.question), rate=10_000)
        c.set_backend(backend)
        c.policy = BudgetPolicy(max_thinking=300)
        for question in ("first", "second"):
            assert c.send(question)
            await c.wait_idle()
        heard = Heard(c)
        assert c.regenerate()
        await c.wait_idle()
        policy = c.think_longer(limit=100_000)
        await c.wait_idle()
        assert c.edit_and_resend(0, "edited")
        await c.wait_idle()
        return c, heard, policy

    c, heard, policy = run(scenario())
    truncations = [value for name, value in heard.seen if name == "truncated"]
    assert truncations == [2, 2, 0]  # regenerate, think longer: nothing after; edit: from 0
    assert policy is not None
    assert policy.max_thinking == 600
    assert [e.user for e in c.session.exchanges] == ["edited"]
    reply = c.message(0)
    assert reply is not None
    assert reply.answer == "edited"


def test_a_stream_that_breaks_off_or_raises_ends_the_reply_with_an_error() -> None:
    class Raising(ScriptedBackend):
        def stream(self, request: Any, cancel: Any = None) -> Any:
            async def broken() -> Any:
                yield ThinkingText("so far")
                raise RuntimeError("the wire was cut")

            return broken()

    async def scenario() -> ChatController:
        c = ChatController()
        c.set_backend(Raising([]))
        c.send("q1")
        await c.wait_idle()
        c.set_backend(ScriptedBackend([ThinkingText("x"), ErrorEvent("out of memory", "backend")]))
        c.send("q2")
        await c.wait_idle()
        return c

    c = run(scenario())
    first, second = c.message(0), c.message(1)
    assert first is not None
    assert first.error == "Generation failed: the wire was cut"
    assert first.reasoning == "so far"
    assert first.error_kind == "app"
    assert second is not None
    assert second.error == "out of memory"
    assert second.error_kind == "backend"


def test_a_new_chat_during_a_reply_stops_it_and_its_end_is_still_announced() -> None:
    async def scenario() -> tuple[ChatController, Heard]:
        c = ChatController()
        heard = Heard(c)
        c.set_backend(ScriptedBackend(synthetic_reply(5000), rate=1000))
        c.send("long")
        await asyncio.sleep(0.05)
        c.new_chat()
        await c.wait_idle()
        return c, heard

    c, heard = run(scenario())
    assert len(c.session) == 0
    ended = [m for name, m in heard.seen if name == "generation_ended"]
    assert len(ended) == 1
    assert ended[0].finish_reason is FinishReason.CANCELLED
    assert "reply_finished" not in heard.names()  # its reply is no longer shown


def test_versions_switch_between_replies_and_not_while_one_streams() -> None:
    async def scenario() -> tuple[ChatController, Heard]:
        c = ChatController()
        answers = iter(["one", "two", "then"])
        backend = ScriptedBackend(lambda _r: synthetic_reply(5, answer=next(answers)), rate=10_000)
        c.set_backend(backend)
        assert c.send("q")
        await c.wait_idle()
        assert c.regenerate()
        await c.wait_idle()
        heard = Heard(c)
        c.version_chosen.connect(lambda i: heard.seen.append(("version_chosen", i)))
        assert c.choose_version(0, 0)
        assert c.choose_version(0, 0)  # already shown: nothing to announce
        assert not c.choose_version(0, 2)
        assert c.send("next")
        assert not c.choose_version(0, 1)  # a reply streams
        await c.wait_idle()
        return c, heard

    c, heard = run(scenario())
    assert heard.count("version_chosen") == 1
    problems = [value for name, value in heard.seen if name == "problem"]
    assert problems == [
        "Message 1 has 2 answer versions; there is no version 3.",
        "A reply is still being written: stop it (Esc) before switching answers.",
    ]
    reply = c.message(0)
    assert reply is not None
    assert reply.answer == "one"
    assert len(c.session.exchanges[0].versions) == 2
    request = c.session.exchanges[1].request
    assert request is not None
    assert [t.text for t in request.history] == ["q", "one"]  # the version chosen, not the last
