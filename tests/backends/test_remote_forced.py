"""Forced text reaches the remote model: the prompts the real server receives carry each Wait,
the answer delimiter and the cap's suffix where they belong (a recording proxy in front)."""

from __future__ import annotations

import asyncio

import pytest

from s1desk.backends.base import GenerationRequest
from s1desk.backends.remote import RemoteBackend
from s1desk.backends.remote_config import RemoteServerConfig
from s1desk.events import StreamEvent, ThinkingText, WaitInjected
from s1desk.thinking.format import ANSWER_OPEN, THINK_OPEN
from s1desk.thinking.machine import CloseReason
from s1desk.thinking.policy import BudgetPolicy
from support.events import Transcript
from support.recording_proxy import Recorded, RecordingProxy
from support.servers import MODEL_ALIAS, LlamaCppServer

pytestmark = pytest.mark.model


def run(
    runner: asyncio.Runner, server: LlamaCppServer, request: GenerationRequest
) -> tuple[Transcript, list[Recorded]]:
    async def go() -> tuple[list[StreamEvent], list[Recorded]]:
        async with RecordingProxy(server.base_url) as proxy:
            config = RemoteServerConfig(proxy.base_url, MODEL_ALIAS, context_length=4096)
            async with await RemoteBackend.connect(config) as backend:
                events = [e async for e in backend.stream(request)]
            return events, proxy.completions()

    events, sent = runner.run(go())
    return Transcript(events), sent


def prompt(r: Recorded) -> str:
    value = r.body["prompt"]
    assert isinstance(value, str), "llama_cpp.server takes text prompts"
    return value.replace("\u200b", "")


def reasoning_before(t: Transcript, event: StreamEvent) -> str:
    """The thinking text streamed before ``event`` (Waits included)."""
    out = ""
    for e in t.events:
        if e is event:
            return out
        if isinstance(e, ThinkingText | WaitInjected):
            out += e.text
    raise AssertionError("event not in the transcript")


def test_each_wait_is_in_the_prompt_that_continues_after_it(
    runner: asyncio.Runner, llama_server: LlamaCppServer
) -> None:
    request = GenerationRequest(
        question="What is 2+2? Reply with just the number.",
        policy=BudgetPolicy(max_thinking=120, min_thinking=40, max_waits=6, max_answer=8),
    )
    t, sent = run(runner, llama_server, request)
    assert t.waits, "this question stops early on the test model"
    base = prompt(sent[0])
    assert base.endswith(THINK_OPEN)
    # Each Wait: a later request resubmits the prompt, the thinking so far and the Wait.
    later = [prompt(r) for r in sent[1:]]
    for wait in t.waits:
        expected = base + reasoning_before(t, wait) + wait.text
        assert any(p == expected for p in later), f"no request continues after Wait #{wait.index}"
    # The answer is asked for after the whole reasoning and the answer delimiter.
    if t.thinking_end.reason is CloseReason.NATURAL:
        assert prompt(sent[-1]) == base + t.reasoning + ANSWER_OPEN


def test_the_cap_suffix_is_in_the_prompt_of_the_answer(
    runner: asyncio.Runner, llama_server: LlamaCppServer
) -> None:
    request = GenerationRequest(
        question="Explain in detail, step by step, how a hash table handles collisions.",
        policy=BudgetPolicy(max_thinking=24, max_answer=8),
    )
    t, sent = run(runner, llama_server, request)
    assert t.thinking_end.reason is CloseReason.CAP
    base = prompt(sent[0])
    assert prompt(sent[-1]) == base + t.reasoning + ANSWER_OPEN + "Final Answer:"
    assert t.answer.startswith("Final Answer:")
