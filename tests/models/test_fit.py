"""The memory estimate against what llama.cpp really allocates, and the fit verdicts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from s1desk.models.architecture import Architecture
from s1desk.models.catalog import load_catalog
from s1desk.models.fit import (
    KvType,
    Verdict,
    assess,
    assess_catalog,
    estimate_memory,
    kv_cache_bytes,
    recommend,
    settings_that_fit,
)
from s1desk.models.gguf import read_gguf
from s1desk.models.hardware import GpuInfo, Hardware, detect_gpus, detect_hardware

GiB = 2**30
PROBE = Path(__file__).with_name("llama_memory_probe.py")


def _probe(model: Path, n_ctx: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, str(PROBE), str(model), str(n_ctx)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def measured(model_path: Path) -> dict[int, dict[str, object]]:
    return {n: _probe(model_path, n) for n in (2048, 16384)}


def test_architecture_from_the_real_header(model_path: Path) -> None:
    arch = Architecture.from_gguf(read_gguf(model_path))
    # Qwen2.5-0.5B: 24 layers, 14 query heads, 2 KV heads of 64, width 896.
    assert arch == Architecture(
        n_layers=24, n_heads=14, n_kv_heads=2, head_dim=64, n_embd=896, n_vocab=151936,
        context_length=32768,
    )  # fmt: skip


#: What the README claims for the estimate against llama.cpp's own allocations.
CLAIMED = 0.03


@pytest.mark.model
@pytest.mark.parametrize("n_ctx", [2048, 16384])
def test_estimate_within_3_percent_of_llama_cpp(
    model_path: Path, measured: dict[int, dict[str, object]], n_ctx: int
) -> None:
    """Measured here: 0.7% (2,048) and 0.5% (16,384) over the total; KV exact."""
    arch = Architecture.from_gguf(read_gguf(model_path))
    est = estimate_memory(arch, model_path.stat().st_size, n_ctx)
    real = measured[n_ctx]
    buffers = real["buffers"]
    assert isinstance(buffers, dict)
    allocated = sum(buffers.values())
    assert abs(est.total - allocated) / allocated < CLAIMED, (est, buffers)
    assert abs(est.weights - buffers["model"]) / buffers["model"] < CLAIMED
    assert est.kv_cache == buffers["KV"]
    assert abs(est.compute - buffers["compute"]) / buffers["compute"] < CLAIMED
    # Resident memory (weights touched by a forward pass, KV cache, what the
    # compute actually used) never exceeds the estimate.
    rss = real["rss_growth"]
    assert isinstance(rss, int)
    assert rss <= est.total


@pytest.mark.model
def test_kv_growth_matches_resident_memory(
    model_path: Path, measured: dict[int, dict[str, object]]
) -> None:
    arch = Architecture.from_gguf(read_gguf(model_path))
    grew = int(measured[16384]["rss_growth"]) - int(measured[2048]["rss_growth"])  # type: ignore[call-overload]
    # The KV cache is cleared (so touched) at load; the compute buffer is only
    # touched as far as a short prompt needs, so the resident growth is the KV's
    # (0.7% apart here: allocator and page granularity).
    expected = kv_cache_bytes(arch, 16384) - kv_cache_bytes(arch, 2048)
    assert abs(grew - expected) / expected < CLAIMED, (grew, expected)


def test_kv_cache_formula_for_s1_32b() -> None:
    arch = load_catalog().model("s1.1-32B").architecture
    # 64 layers x 8 KV heads x 128 x 2 x 2 bytes = 256 KiB per token in f16
    assert kv_cache_bytes(arch, 1) == 262_144
    assert kv_cache_bytes(arch, 32_768) == 8 * GiB
    assert kv_cache_bytes(arch, 32_768, KvType.Q8_0) == 8.5 * GiB / 2
    assert kv_cache_bytes(arch, 32_768, KvType.Q4_0) == 4.5 * GiB / 2


def _machine(gpu_gib: float | None, ram_gib: float = 64) -> Hardware:
    gpus = (GpuInfo(0, "Test GPU", int(gpu_gib * GiB), int(gpu_gib * GiB)),) if gpu_gib else ()
    return Hardware(
        gpus=gpus,
        offload_supported=bool(gpu_gib),
        ram_total=int(ram_gib * GiB),
        ram_available=int(ram_gib * GiB),
    )


def test_verdicts_on_a_24_gib_gpu() -> None:
    model = load_catalog().model("s1.1-32B")
    fits = {
        f.quant.quant: f
        for f in assess_catalog(model.architecture, model.quantizations, _machine(24, 32), 8192)
        if f.quant
    }
    assert fits["Q4_K_M"].verdict is Verdict.GPU
    assert fits["Q8_0"].verdict is Verdict.PARTIAL
    assert 0 < fits["Q8_0"].gpu_layers < 64
    assert fits["F16"].verdict is Verdict.NO_FIT
    best = recommend(list(fits.values()))
    assert best is not None
    assert best.verdict is Verdict.GPU
    assert best.quant is not None
    assert best.quant.quant in ("Q4_K_M", "Q4_K_S", "Q5_K_M")


def test_across_models_a_big_gpu_gets_a_big_model() -> None:
    catalog = load_catalog()
    hw = _machine(24, 64)
    fits = []
    for m in catalog.models:
        fits += assess_catalog(m.architecture, m.quantizations, hw, 8192)
    best = recommend(fits)
    assert best is not None
    assert best.verdict is Verdict.GPU
    assert best.quant is not None
    assert best.quant.model_id.endswith("32B"), best.label


def test_full_context_needs_a_smaller_kv_cache() -> None:
    model = load_catalog().model("s1.1-32B")
    q = load_catalog().quantization("s1.1-32B", "Q4_K_M")
    hw = _machine(24)
    assert assess(model.architecture, q.size, hw, 32768).verdict is not Verdict.GPU
    setting = settings_that_fit(model.architecture, q.size, hw, 32768)
    assert setting is not None
    assert setting.fit.verdict is Verdict.GPU
    assert setting.flash_attn
    assert setting.n_ctx == 32768 or setting.kv_type is KvType.Q4_0


def test_cpu_only_machine_recommends_a_model_that_fits_in_ram() -> None:
    catalog = load_catalog()
    hw = _machine(None, ram_gib=16)
    fits = []
    for m in catalog.models:
        fits += assess_catalog(m.architecture, m.quantizations, hw, 8192)
    assert all(f.verdict in (Verdict.CPU, Verdict.NO_FIT) for f in fits)
    best = recommend(fits)
    assert best is not None
    assert best.verdict is Verdict.CPU
    assert best.estimate.total < 15 * GiB
    assert best.estimate.weights <= 6 * GiB, "a CPU is advised a model it can run at a usable speed"


def test_this_machine_is_described_plainly() -> None:
    gpus, note = detect_gpus()
    hw = detect_hardware()
    assert hw.ram_total > hw.ram_available > 0
    if gpus:
        assert all(0 <= g.free <= g.total for g in gpus)
    else:
        assert note is not None
        assert "CPU" in note
        assert hw.notes
        assert hw.usable_gpus == ()


def test_gpu_unused_by_a_cpu_only_build_is_said() -> None:
    hw = Hardware(
        gpus=(GpuInfo(0, "Test GPU", 24 * GiB, 24 * GiB),),
        offload_supported=False,
        ram_total=64 * GiB,
        ram_available=64 * GiB,
    )
    assert hw.usable_gpus == ()
    assert hw.gpu_free == 0
    arch = load_catalog().model("s1.1-1.5B").architecture
    assert assess(arch, 1 * GiB, hw, 8192).verdict is Verdict.CPU
