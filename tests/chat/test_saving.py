"""The saver records a controller's chat in a real SQLite store; edits fork; reopening restores."""

from __future__ import annotations

import asyncio
from typing import Any

from s1desk.backends.scripted import ScriptedBackend, synthetic_reply
from s1desk.chat.controller import ChatController
from s1desk.chat.recording import snapshot
from s1desk.chat.saving import ChatSaver
from s1desk.store import HistoryStore, MessageStatus


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


def chat(store: HistoryStore) -> tuple[ChatController, ChatSaver]:
    controller = ChatController()
    controller.set_backend(
        ScriptedBackend(
            lambda r: synthetic_reply(30, answer=f"re: {r.question}", wait_at=(12,)), rate=20_000
        )
    )
    saver = ChatSaver(store, controller)
    saver.attach()
    return controller, saver


async def ask(controller: ChatController, *questions: str) -> None:
    for question in questions:
        assert controller.send(question)
        await controller.wait_idle()


def test_questions_and_replies_are_saved_as_they_were_shown(store: HistoryStore) -> None:
    controller, saver = chat(store)
    opened: list[int] = []
    saver.opened.connect(opened.append)
    run(ask(controller, "one", "two"))
    assert saver.current is not None
    assert opened == [saver.current]
    messages = store.messages(saver.current)
    assert [(m.role, m.text) for m in messages] == [
        ("user", "one"),
        ("assistant", "re: one"),
        ("user", "two"),
        ("assistant", "re: two"),
    ]
    assert all(m.status is MessageStatus.COMPLETE for m in messages)
    assert messages[1].backend == "scripted replay"
    # What the store holds is what the live message says.
    live = controller.message(1)
    assert live is not None
    assert snapshot(live).reasoning == messages[3].reasoning


def test_reopening_restores_the_exact_replies(store: HistoryStore) -> None:
    controller, saver = chat(store)
    run(ask(controller, "one"))
    conversation = saver.current
    assert conversation is not None
    live = controller.message(0)
    assert live is not None
    controller.new_chat()
    assert saver.current is None
    assert saver.open_conversation(conversation)
    restored = controller.message(0)
    assert restored is not None
    assert restored is not live
    assert snapshot(restored) == snapshot(live)
    assert restored.reasoning == live.reasoning
    assert restored.answer == live.answer
    assert restored.stats == live.stats


def test_an_edit_forks_the_conversation_and_trashes_the_old_one(store: HistoryStore) -> None:
    controller, saver = chat(store)
    run(ask(controller, "one", "two", "three"))
    old = saver.current
    assert old is not None

    async def edit() -> None:
        assert controller.edit_and_resend(1, "TWO")
        await controller.wait_idle()

    run(edit())
    new = saver.current
    assert new is not None
    assert new != old
    assert [(m.role, m.text) for m in store.messages(new)] == [
        ("user", "one"),
        ("assistant", "re: one"),
        ("user", "TWO"),
        ("assistant", "re: TWO"),
    ]
    assert store.conversation(old).deleted is not None
    assert saver.exchange_of(store.messages(new)[2].id) == 1


def test_regenerate_appends_an_answer_that_wins_on_reopening(store: HistoryStore) -> None:
    controller, saver = chat(store)
    run(ask(controller, "one"))

    async def again() -> None:
        controller.set_backend(ScriptedBackend(synthetic_reply(5, answer="second try")))
        assert controller.regenerate()
        await controller.wait_idle()

    run(again())
    conversation = saver.current
    assert conversation is not None
    answers = [m.text for m in store.messages(conversation) if m.role == "assistant"]
    assert answers == ["re: one", "second try"]
    controller.new_chat()
    assert saver.open_conversation(conversation)
    reply = controller.message(0)
    assert reply is not None
    assert reply.answer == "second try"


def test_a_reply_cut_off_by_a_new_chat_is_saved_interrupted(store: HistoryStore) -> None:
    controller, _saver = chat(store)
    controller.set_backend(ScriptedBackend(synthetic_reply(5000), rate=500))

    async def scenario() -> None:
        controller.send("long")
        await asyncio.sleep(0.1)
        controller.new_chat()
        await controller.wait_idle()

    run(scenario())
    (conversation,) = store.list_conversations()
    answer = store.messages(conversation.id)[1]
    assert answer.status is MessageStatus.INTERRUPTED
    assert answer.reasoning  # what arrived before the stop is kept


def test_the_answer_chosen_is_saved_at_once_and_reopens_chosen(store: HistoryStore) -> None:
    controller, saver = chat(store)
    run(ask(controller, "one"))

    async def again() -> None:
        controller.set_backend(ScriptedBackend(synthetic_reply(5, answer="second try")))
        assert controller.regenerate()
        await controller.wait_idle()

    run(again())
    conversation = saver.current
    assert conversation is not None
    assert controller.choose_version(0, 0)
    stored = [(m.text, m.chosen) for m in store.messages(conversation) if m.role == "assistant"]
    assert stored == [("re: one", True), ("second try", False)]
    first, second = (m.id for m in store.messages(conversation)[1:])
    assert saver.version_of(second) == (0, 1)
    assert saver.version_of(store.messages(conversation)[0].id) is None  # a question

    controller.new_chat()
    assert saver.open_conversation(conversation)
    exchange = controller.session.exchanges[0]
    assert [v.reply.answer for v in exchange.versions] == ["re: one", "second try"]
    assert exchange.chosen == 0
    reply = controller.message(0)
    assert reply is not None
    assert reply.answer == "re: one"

    # The reopened chat goes on from the version chosen; switching back is saved too.
    run(ask(controller, "two"))
    request = controller.session.exchanges[1].request
    assert request is not None
    assert [t.text for t in request.history] == ["one", "re: one"]
    assert controller.choose_version(0, 1)
    assert store.turns(conversation)[1].text == "second try"
    assert next(m.id for m in store.messages(conversation) if m.chosen) == second
    assert first != second


def test_an_edit_after_a_switch_keeps_the_choice_made_before_it(store: HistoryStore) -> None:
    controller, saver = chat(store)
    run(ask(controller, "one"))

    async def regenerate_then_ask() -> None:
        controller.set_backend(
            ScriptedBackend(lambda r: synthetic_reply(5, answer=f"again: {r.question}"))
        )
        assert controller.regenerate()
        await controller.wait_idle()
        assert controller.choose_version(0, 0)
        await ask(controller, "two")
        assert controller.edit_and_resend(1, "TWO")
        await controller.wait_idle()

    run(regenerate_then_ask())
    forked = saver.current
    assert forked is not None
    assert [(m.text, m.chosen) for m in store.messages(forked)] == [
        ("one", False),
        ("re: one", True),
        ("again: one", False),
        ("TWO", False),
        ("again: TWO", True),
    ]
    assert saver.version_of(store.messages(forked)[2].id) == (0, 1)
