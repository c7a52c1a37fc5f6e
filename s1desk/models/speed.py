"""How fast a build decodes here: bytes read per token against the memory's bandwidth.

Decoding one token reads every weight of the repeated layers and the output
matrix once (the embedding table only one row), and the KV cache of the tokens
so far; compute is cheap beside it, so the rate is bandwidth / bytes. Layers on a
GPU are read at the GPU's bandwidth, the rest at the RAM's.

llama.cpp reaches only part of the measured bandwidth; the shares below were
calibrated on the test model (``benchmarks/decode_estimate.py``, README).
"""

from __future__ import annotations

from dataclasses import dataclass

from s1desk.models.architecture import Architecture
from s1desk.models.bandwidth import Bandwidth
from s1desk.models.fit import Fit, KvType, Verdict

#: A typical thinking budget, and how long it may take for the advice to call it usable.
THINKING_TOKENS = 4_000
ANSWER_IN_SECONDS = 10 * 60
#: The share of the measured RAM bandwidth llama.cpp's CPU decode reaches (measured
#: decode rate of the test model x bytes per token / measured bandwidth): about 0.9 on a
#: quiet 2-core x86_64 (24 tokens/s at ~10 GB/s); benchmarks/decode_estimate.py measured
#: 0.30 on the same machine at a load average of 5-8, where contention slows llama.cpp's
#: spinning threads far more than the bandwidth probe. And of a GPU's peak bandwidth
#: (llama.cpp's CUDA decode typically reaches 60-75%).
CPU_EFFICIENCY = 0.85
GPU_EFFICIENCY = 0.6


@dataclass(frozen=True, slots=True)
class Speed:
    """The estimated decode rate of one build here, and what a thinking budget costs."""

    tokens_per_s: float
    thinking_tokens: int = THINKING_TOKENS

    @property
    def thinking_seconds(self) -> float:
        return self.thinking_tokens / self.tokens_per_s

    @property
    def answers_in_minutes(self) -> bool:
        """A typical thinking budget finishes within :data:`ANSWER_IN_SECONDS`."""
        return self.thinking_seconds <= ANSWER_IN_SECONDS


def bytes_per_token(
    arch: Architecture,
    weights: int,
    context: int,
    kv_type: KvType = KvType.F16,
) -> tuple[float, float]:
    """(bytes in the repeated layers, bytes outside them) read to decode one token with
    ``context`` tokens in the KV cache."""
    layer_params = arch.n_layers * 12 * arch.n_embd**2
    table = arch.n_vocab * arch.n_embd
    # Untied models carry the table twice (embeddings, output) and read the output one;
    # tied ones read their single table as the output. Sizes count it twice: close enough.
    total_params = layer_params + 2 * table
    per_param = weights / total_params
    kv = arch.n_layers * arch.n_kv_heads * arch.head_dim * 2 * kv_type.bytes_per_element
    return layer_params * per_param + kv * context, table * per_param


def estimate_speed(
    arch: Architecture,
    fit: Fit,
    bandwidth: Bandwidth,
    thinking_tokens: int = THINKING_TOKENS,
) -> Speed | None:
    """The decode rate of ``fit`` here, averaged over a thinking budget (the KV cache grows
    from the prompt to the budget); ``None`` when it does not fit."""
    if fit.verdict is Verdict.NO_FIT:
        return None
    context = min(fit.estimate.n_ctx, thinking_tokens // 2 + 200)
    layers, rest = bytes_per_token(arch, fit.estimate.weights, context, fit.estimate.kv_type)
    ram = bandwidth.ram * CPU_EFFICIENCY
    gpu = (bandwidth.gpu or 0.0) * GPU_EFFICIENCY
    if fit.verdict is Verdict.GPU and gpu > 0:
        seconds = (layers + rest) / gpu
    elif fit.verdict is Verdict.PARTIAL and gpu > 0:
        share = fit.gpu_layers / fit.n_layers
        seconds = layers * share / gpu + (layers * (1 - share) + rest) / ram
    else:
        seconds = (layers + rest) / ram
    return Speed(1 / seconds, thinking_tokens)


def duration_text(seconds: float) -> str:
    """``40 s``, ``7 min``, ``1 h 20 min``."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def decode_speed_text(speed: Speed) -> str:
    """``≈ 9 tokens/s: 4,000 thinking tokens ≈ 7 min here``."""
    rate = speed.tokens_per_s
    shown = f"{rate:.0f}" if rate >= 10 else f"{rate:.1f}"
    return (
        f"≈ {shown} tokens/s: {speed.thinking_tokens:,} thinking tokens "
        f"≈ {duration_text(speed.thinking_seconds)} here"
    )
