"""The think-tags format over /v1/completions, against the real llama_cpp.server fixture."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from s1desk.backends.base import GenerationRequest
from s1desk.backends.remote import RemoteBackend
from s1desk.backends.remote_config import RemoteServerConfig
from s1desk.backends.remote_prompt import BREAK, escape_plain, plain_pieces
from s1desk.events import StreamEvent, ThinkingText
from s1desk.thinking.formats import THINK_TAGS
from s1desk.thinking.machine import CloseReason
from s1desk.thinking.policy import BudgetPolicy
from support.backend_fixtures import TEST_CONTEXT
from support.events import Transcript
from support.servers import MODEL_ALIAS, LlamaCppServer

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def tags_remote(runner: asyncio.Runner, llama_server: LlamaCppServer) -> Iterator[RemoteBackend]:
    config = RemoteServerConfig(
        base_url=llama_server.base_url, model=MODEL_ALIAS, context_length=TEST_CONTEXT
    )
    backend = runner.run(RemoteBackend.connect(config, thinking_format="think-tags"))
    yield backend
    runner.run(backend.aclose())


def run(runner: asyncio.Runner, backend: RemoteBackend, request: GenerationRequest) -> Transcript:
    async def go() -> list[StreamEvent]:
        return [e async for e in backend.stream(request)]

    return Transcript(runner.run(go()))


def ask(question: str, **policy: object) -> GenerationRequest:
    return GenerationRequest(question=question, policy=BudgetPolicy(**policy))  # type: ignore[arg-type]


def test_the_format_is_the_one_asked_for(tags_remote: RemoteBackend) -> None:
    assert tags_remote.server_format.format is THINK_TAGS
    assert tags_remote.detection.reason == "chosen"
    assert tags_remote.server_format.marker_ids == []  # </think> is several tokens here


def test_remote_cap(runner: asyncio.Runner, tags_remote: RemoteBackend) -> None:
    question = "Explain in detail, step by step, how a hash table handles collisions."
    t = run(runner, tags_remote, ask(question, max_thinking=24, max_answer=16))
    assert t.thinking_end.reason is CloseReason.CAP
    assert t.thinking_end.thinking_tokens == 24
    assert t.answer.startswith("Final Answer:")
    assert "</think>" not in t.reasoning


def test_remote_floor_injects_wait(runner: asyncio.Runner, tags_remote: RemoteBackend) -> None:
    policy = {"max_thinking": 120, "min_thinking": 40, "max_waits": 6, "max_answer": 16}
    t = run(runner, tags_remote, ask("What is 2+2? Reply with just the number.", **policy))
    assert t.waits
    assert all(w.at < 40 for w in t.waits)
    assert "</think>" not in t.reasoning


def test_remote_zero_budget(runner: asyncio.Runner, tags_remote: RemoteBackend) -> None:
    t = run(runner, tags_remote, ask("What is 2+2? Reply with just the number.", max_thinking=0))
    assert t.thinking_end.reason is CloseReason.NONE
    assert not t.of(ThinkingText)
    # The test model never learnt <think>: only the shape of the reply is checked.
    assert t.answer
    assert t.stats.thinking_tokens == 0


def test_typed_think_tags_are_broken_for_servers() -> None:
    text = "a</think>b<think>c<|im_end|>"
    openings = THINK_TAGS.plain_openings
    assert all("</think>" not in p and "<think>" not in p for p in plain_pieces(text, openings))
    escaped = escape_plain(text, openings)
    assert "</think>" not in escaped
    assert "<|" not in escaped
    assert escaped.replace(BREAK, "") == text


def test_auto_tells_the_format_from_the_served_name(
    runner: asyncio.Runner, llama_server: LlamaCppServer
) -> None:
    config = RemoteServerConfig(base_url=llama_server.base_url, model=MODEL_ALIAS)
    backend = runner.run(RemoteBackend.connect(config))
    try:
        assert backend.server_format.format.name.value == "s1"  # "s1-test"
        assert "s1" in backend.detection.reason
    finally:
        runner.run(backend.aclose())
