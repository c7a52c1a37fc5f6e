"""Settings for loading a GGUF model into llama.cpp."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: s1 and the Qwen2.5 models it is built on were trained at this length.
DEFAULT_CONTEXT = 32_768


@dataclass(frozen=True, slots=True)
class LocalModelConfig:
    """How to load a model. ``n_gpu_layers=-1`` offloads every layer when llama.cpp
    was built with GPU support, and is treated as 0 otherwise."""

    path: Path
    n_ctx: int = DEFAULT_CONTEXT
    n_gpu_layers: int = -1
    n_threads: int | None = None
    n_batch: int = 512
    flash_attn: bool = False


def default_threads() -> int:
    """Threads for decoding: every core on small machines, about the physical ones on big ones.

    (llama-cpp-python's own default, half the logical cores, leaves a 2-core
    machine running on one.)
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    return cores if cores <= 4 else cores // 2
