"""A process that streams a real generation into a history database (killed by a test).

Usage: python stream_child.py DATABASE MODEL

Prints ``saved MESSAGE_ID`` once a write holding answer text has been
committed, then keeps generating until it is killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from s1desk.backends.base import GenerationRequest
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig
from s1desk.chat.recording import start_recording
from s1desk.sampling import SamplerSettings
from s1desk.store import HistoryStore
from s1desk.thinking.policy import BudgetPolicy

QUESTION = "Write a Python function that tests whether a number is prime, and explain each line."
POLICY = BudgetPolicy(max_thinking=24, max_answer=600)


async def main(database: Path, model: Path) -> None:
    store = HistoryStore.open(database)
    conversation = store.create_conversation()
    store.add_question(conversation.id, QUESTION)
    backend = await LocalBackend.load(LocalModelConfig(path=model, n_ctx=2048))
    recorder = start_recording(
        store,
        conversation.id,
        backend="local",
        model=model.name,
        policy=POLICY,
        sampler=SamplerSettings(),
        flush_seconds=0.2,
    )
    announced = False
    flushes = recorder.flushes
    async for event in backend.stream(GenerationRequest(QUESTION, policy=POLICY)):
        recorder.feed(event)
        if not announced and recorder.flushes != flushes:
            flushes = recorder.flushes
            if recorder.message.answer:
                sys.stdout.write(f"saved {recorder.message_id}\n")
                sys.stdout.flush()
                announced = True
    sys.stdout.write("finished\n")  # the test failed to kill us in time
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
