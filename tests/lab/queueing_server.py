"""``llama_cpp.server`` on the test model that queues concurrent requests (tests, benchmarks)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from support.servers import LlamaCppServer


def queueing_server(model: Path, n_ctx: int, log: Path) -> LlamaCppServer:
    """``llama_cpp.server`` that queues concurrent requests.

    By default it interrupts the streaming request whenever another request
    arrives (``--interrupt_requests True``), which cuts the first stream
    short; vLLM batches them instead. ``LlamaCppServer`` takes no extra
    arguments, so the flag is appended to the command it starts.
    """
    popen = subprocess.Popen

    def queueing(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        return popen([*args, "--interrupt_requests", "False"], **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(subprocess, "Popen", queueing)
        return LlamaCppServer(model, n_ctx=n_ctx, log_path=log)
