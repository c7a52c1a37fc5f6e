"""Will a model fit? Memory for weights, KV cache and compute buffers against GPUs and RAM.

The sizes follow what llama.cpp allocates (checked against the buffer sizes it
reports and the process's resident memory in tests/models/test_fit.py):

- weights: the GGUF file size (all parts);
- KV cache: layers x KV heads x head size x 2 (K and V) x bytes per element x context;
- compute buffer: llama.cpp reserves the largest intermediate of one
  micro-batch; that is the logits (vocabulary x batch x 4 bytes) or, without
  flash attention, the attention scores (context x batch x (heads + 1) x 4 bytes);
- on a GPU, a fixed reserve for the CUDA context.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from s1desk.models.architecture import Architecture
from s1desk.models.catalog import BITS_PER_WEIGHT, Quantization
from s1desk.models.hardware import Hardware

N_UBATCH = 512
GPU_RESERVE = 512 * 2**20  # CUDA context, cuBLAS workspace
RAM_RESERVE = 1 * 2**30  # the OS and the app itself
_MiB = 2**20


class KvType(enum.StrEnum):
    """Element types llama.cpp offers for the KV cache (quantized ones need flash attention)."""

    F16 = "f16"
    Q8_0 = "q8_0"
    Q4_0 = "q4_0"

    @property
    def bytes_per_element(self) -> float:
        return {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}[self.value]


class Verdict(enum.StrEnum):
    GPU = "fits on the GPU"
    PARTIAL = "fits partly offloaded"
    CPU = "runs on the CPU"
    NO_FIT = "does not fit"


@dataclass(frozen=True, slots=True)
class MemoryEstimate:
    weights: int
    kv_cache: int
    compute: int
    n_ctx: int
    kv_type: KvType
    flash_attn: bool

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.compute


def kv_cache_bytes(arch: Architecture, n_ctx: int, kv_type: KvType = KvType.F16) -> int:
    per_token = arch.n_layers * arch.n_kv_heads * arch.head_dim * 2
    return int(per_token * kv_type.bytes_per_element * n_ctx)


def compute_buffer_bytes(
    arch: Architecture, n_ctx: int, *, flash_attn: bool = False, n_ubatch: int = N_UBATCH
) -> int:
    """What llama.cpp reserves for one micro-batch's intermediates (plus the output buffer)."""
    hidden = arch.n_embd * n_ubatch * 4
    logits = arch.n_vocab * n_ubatch * 4 + 2 * hidden
    if flash_attn:
        attention = n_ctx * n_ubatch * 2 + 5 * hidden
    else:
        attention = n_ctx * n_ubatch * (arch.n_heads + 1) * 4 + 5 * hidden
    return max(logits, attention) + arch.n_vocab * 4


def estimate_memory(
    arch: Architecture,
    weights: int,
    n_ctx: int,
    kv_type: KvType = KvType.F16,
    *,
    flash_attn: bool = False,
) -> MemoryEstimate:
    return MemoryEstimate(
        weights=weights,
        kv_cache=kv_cache_bytes(arch, n_ctx, kv_type),
        compute=compute_buffer_bytes(arch, n_ctx, flash_attn=flash_attn),
        n_ctx=n_ctx,
        kv_type=kv_type,
        flash_attn=flash_attn,
    )


def _layer_share(arch: Architecture) -> float:
    """Fraction of the weights inside the repeated layers (the rest: embeddings and output)."""
    embed = 2 * arch.n_vocab * arch.n_embd
    layers = arch.n_layers * 16 * arch.n_embd**2
    return layers / (layers + embed)


@dataclass(frozen=True, slots=True)
class Fit:
    """The verdict for one model file at one setting."""

    label: str
    estimate: MemoryEstimate
    verdict: Verdict
    gpu_layers: int
    n_layers: int
    quant: Quantization | None = None

    @property
    def message(self) -> str:
        need = f"{self.estimate.total / 2**30:.1f} GiB"
        if self.verdict is Verdict.GPU:
            return f"{self.label}: fits on the GPU ({need} at {self.estimate.n_ctx} tokens)"
        if self.verdict is Verdict.PARTIAL:
            return (
                f"{self.label}: {self.gpu_layers} of {self.n_layers} layers on the GPU, "
                f"the rest on the CPU ({need}; slower)"
            )
        if self.verdict is Verdict.CPU:
            return f"{self.label}: runs on the CPU from RAM ({need})"
        return f"{self.label}: does not fit ({need} needed)"


def assess(
    arch: Architecture,
    weights: int,
    hardware: Hardware,
    n_ctx: int,
    kv_type: KvType = KvType.F16,
    *,
    flash_attn: bool = False,
    label: str = "model",
    quant: Quantization | None = None,
) -> Fit:
    est = estimate_memory(arch, weights, n_ctx, kv_type, flash_attn=flash_attn)
    ram = hardware.ram_available - RAM_RESERVE
    gpu = hardware.gpu_free - GPU_RESERVE * len(hardware.usable_gpus)

    def fit(verdict: Verdict, layers: int) -> Fit:
        return Fit(label, est, verdict, layers, arch.n_layers, quant)

    if hardware.usable_gpus:
        if est.total <= gpu:
            return fit(Verdict.GPU, arch.n_layers)
        per_layer = weights * _layer_share(arch) / arch.n_layers + est.kv_cache / arch.n_layers
        layers = int((gpu - est.compute) // per_layer) if gpu > est.compute else 0
        layers = max(0, min(layers, arch.n_layers - 1))
        if layers > 0 and est.total - layers * per_layer <= ram:
            return fit(Verdict.PARTIAL, layers)
    if est.total <= ram:
        return fit(Verdict.CPU, 0)
    return fit(Verdict.NO_FIT, 0)


def assess_catalog(
    arch: Architecture,
    quants: Iterable[Quantization],
    hardware: Hardware,
    n_ctx: int,
    kv_type: KvType = KvType.F16,
    *,
    flash_attn: bool = False,
) -> list[Fit]:
    return [
        assess(
            arch, q.size, hardware, n_ctx, kv_type, flash_attn=flash_attn, label=q.label, quant=q
        )
        for q in quants
    ]


#: Q4_K_M's bits per weight: the usual balance of speed and quality, preferred among
#: builds that place alike.
USUAL_BITS_PER_WEIGHT = BITS_PER_WEIGHT["Q4_K_M"]

#: The largest weights recommended for decoding on a CPU.
CPU_COMFORT_WEIGHTS = 6 * 2**30


def _score(f: Fit) -> tuple[int, float, float]:
    bpw = f.quant.bits_per_weight if f.quant else 8 * f.estimate.weights / 1e9
    if f.verdict is Verdict.GPU:
        # The biggest model that fits whole wins (a 14B at Q4 beats a 1.5B at
        # Q8), counting bits below ~4.5 per weight as lost capacity; then the
        # best quality, where above Q8_0 buys nothing measurable.
        params = 8 * f.estimate.weights / bpw
        capacity = params * min(bpw, 4.5) / 4.5
        return (3, capacity, min(bpw, 8.5) - (0.5 if bpw > 8.5 else 0.0))
    if f.verdict is Verdict.PARTIAL:
        return (2, f.gpu_layers / f.n_layers, -abs(bpw - USUAL_BITS_PER_WEIGHT))
    if f.verdict is Verdict.CPU:
        # Memory-bandwidth bound: every token reads all weights, and reasoning
        # runs to thousands of tokens, so past ~6 GiB of weights a CPU is too
        # slow to be the advice; Q4_K_M is the usual balance of speed and quality.
        if f.estimate.weights <= CPU_COMFORT_WEIGHTS:
            return (
                1,
                8 * f.estimate.weights / bpw * min(bpw, 4.5) / 4.5,
                -abs(bpw - USUAL_BITS_PER_WEIGHT),
            )
        return (1, -float(f.estimate.weights), -abs(bpw - USUAL_BITS_PER_WEIGHT))
    return (0, 0.0, 0.0)


def recommend(fits: Sequence[Fit]) -> Fit | None:
    """The one to download: on the GPU in full if any does, with the most quality that fits."""
    candidates = [f for f in fits if f.verdict is not Verdict.NO_FIT]
    return max(candidates, key=_score) if candidates else None


@dataclass(frozen=True, slots=True)
class Setting:
    n_ctx: int
    kv_type: KvType
    flash_attn: bool
    fit: Fit


def settings_that_fit(
    arch: Architecture,
    weights: int,
    hardware: Hardware,
    n_ctx: int,
    *,
    label: str = "model",
) -> Setting | None:
    """The least change (KV type, flash attention, then a shorter context) that makes it fit.

    On a GPU machine the goal is every layer on the GPU; otherwise fitting in RAM.
    """
    goal = Verdict.GPU if hardware.usable_gpus else Verdict.CPU
    contexts = [n_ctx] + [c for c in (16_384, 8_192, 4_096, 2_048) if c < n_ctx]
    options = [
        (KvType.F16, False),
        (KvType.F16, True),
        (KvType.Q8_0, True),
        (KvType.Q4_0, True),
    ]
    for ctx in contexts:
        for kv, fa in options:
            f = assess(arch, weights, hardware, ctx, kv, flash_attn=fa, label=label)
            if f.verdict is goal:
                return Setting(ctx, kv, fa, f)
    return None
