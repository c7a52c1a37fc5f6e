"""Settings for loading a GGUF model into llama.cpp."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from s1desk.errors import ModelLoadError
from s1desk.thinking.formats import format_name

#: s1 and the Qwen2.5 models it is built on were trained at this length.
DEFAULT_CONTEXT = 32_768
#: llama.cpp keeps context sizes in 32-bit integers; no model has more.
MAX_CONTEXT = 2**31 - 1
MAX_THREADS = 1024
#: KV cache element types llama.cpp accepts here; the quantized ones need flash attention.
KV_TYPES = ("f16", "q8_0", "q4_0")


@dataclass(frozen=True, slots=True)
class LocalModelConfig:
    """How to load a model. ``n_gpu_layers=-1`` offloads every layer when llama.cpp
    was built with GPU support, and is treated as 0 otherwise.

    ``thinking_format`` names the model's thinking format (``auto``: detected
    from the GGUF; see :mod:`s1desk.thinking.formats`).

    ``n_threads`` fixes the decoding threads; ``None`` lets the engine choose and
    adapt them while it decodes. ``extra_buffers`` turns llama.cpp's extra
    buffer types (weight repacking, AMX) on or off; ``None`` uses them unless
    they are known to crash on this machine. ``kv_type`` is the KV cache's element
    type (one of :data:`KV_TYPES`); a quantized one needs ``flash_attn``.
    """

    path: Path
    n_ctx: int = DEFAULT_CONTEXT
    n_gpu_layers: int = -1
    n_threads: int | None = None
    n_threads_batch: int | None = None
    n_batch: int = 512
    flash_attn: bool = False
    extra_buffers: bool | None = None
    thinking_format: str = "auto"
    kv_type: str = "f16"

    def __post_init__(self) -> None:
        format_name(self.thinking_format)
        if not 1 <= self.n_ctx <= MAX_CONTEXT:
            raise ModelLoadError(
                f"The context size must be 1 to {MAX_CONTEXT:,} tokens, not {self.n_ctx:,}."
            )
        threads = (("threads", self.n_threads), ("prompt threads", self.n_threads_batch))
        for name, value in threads:
            if value is not None and not 1 <= value <= MAX_THREADS:
                raise ModelLoadError(
                    f"The number of {name} must be 1 to {MAX_THREADS}, not {value}."
                )
        if self.kv_type not in KV_TYPES:
            raise ModelLoadError(
                f"The KV cache type must be one of {', '.join(KV_TYPES)}, not {self.kv_type!r}."
            )
        if self.kv_type != "f16" and not self.flash_attn:
            raise ModelLoadError(
                f"A {self.kv_type} KV cache needs flash attention: turn it on, or use f16."
            )
        if not 1 <= self.n_batch <= MAX_CONTEXT:
            raise ModelLoadError(f"The batch size must be at least 1, not {self.n_batch}.")


def usable_cores() -> int:
    """Cores this process may run on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores or 1


def default_threads() -> int:
    """Threads for decoding: every core on small machines, about the physical ones on big ones.

    (llama-cpp-python's own default, half the logical cores, leaves a 2-core
    machine running on one.)
    """
    cores = usable_cores()
    return cores if cores <= 4 else cores // 2
