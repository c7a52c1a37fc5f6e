"""One recommendation for the window and the CLI: the best build over every model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s1desk.models.advice import advise
from s1desk.models.bandwidth import Bandwidth, detect_bandwidth
from s1desk.models.catalog import load_catalog
from s1desk.models.fit import KvType, Verdict, recommend
from s1desk.models.hardware import GpuInfo, Hardware
from s1desk.models.speed import decode_speed_text, estimate_speed

GPU_24 = Hardware(
    gpus=(GpuInfo(0, "24 GB", total=24 << 30, free=23 << 30),),
    offload_supported=True,
    ram_total=64 << 30,
    ram_available=32 << 30,
)
CPU_ONLY = Hardware(gpus=(), offload_supported=False, ram_total=32 << 30, ram_available=24 << 30)


def test_the_recommendation_is_the_best_build_of_any_model() -> None:
    models = load_catalog().models
    for hardware in (GPU_24, CPU_ONLY):
        advice = advise(models, hardware, 8_192)
        every = [f for m in advice.models for f in m.fits]
        assert advice.recommended is recommend(every)
        assert advice.model is not None
        assert advice.recommended in next(m.fits for m in advice.models if m.model is advice.model)


def test_a_cpu_machine_is_advised_weights_a_cpu_decodes_at_a_usable_speed() -> None:
    advice = advise(load_catalog().models, CPU_ONLY, 8_192)
    assert advice.recommended is not None
    assert advice.recommended.verdict is Verdict.CPU
    assert advice.recommended.estimate.weights <= 6 * 2**30
    assert advice.suggestion is None  # no GPU to fit anything on


def test_a_build_only_partly_on_the_gpu_gets_the_settings_that_fit_it_whole() -> None:
    advice = advise(load_catalog().models, GPU_24, 32_768)
    suggestion = advice.suggestion
    assert suggestion is not None
    assert suggestion.target.verdict is not Verdict.GPU
    assert suggestion.setting.fit.verdict is Verdict.GPU
    current = (32_768, KvType.F16, False)
    s = suggestion.setting
    assert (s.n_ctx, s.kv_type, s.flash_attn) != current


# -- decode speed: what answers in minutes ------------------------------------------------

TWO_CORES = Hardware(gpus=(), offload_supported=False, ram_total=23 << 30, ram_available=20 << 30)
SLOW_RAM = Bandwidth(ram=10e9)  # about this 2-core machine's figure


def test_a_slow_cpu_is_advised_what_answers_in_minutes_not_what_merely_fits() -> None:
    advice = advise(load_catalog().models, TWO_CORES, 32_768, bandwidth=SLOW_RAM)
    best = advice.recommended
    assert best is not None
    assert best.quant is not None
    assert (best.quant.model_id, best.quant.quant) == ("s1.1-1.5B", "Q4_K_M")
    speed = advice.speed(best)
    assert speed is not None
    assert speed.answers_in_minutes
    # The 14B builds fit in RAM, but a 4,000-token think takes most of an hour.
    fourteen = next(m for m in advice.models if m.model.id == "s1.1-14B")
    q2 = next(f for f in fourteen.fits if f.quant is not None and f.quant.quant == "Q2_K")
    slow = fourteen.speed(q2)
    assert slow is not None
    assert slow.thinking_seconds > 30 * 60
    text = decode_speed_text(slow)
    assert "4,000 thinking tokens ≈" in text
    assert "min here" in text


def test_without_a_fast_enough_build_the_fastest_is_advised() -> None:
    crawl = Bandwidth(ram=1e9)
    advice = advise(load_catalog().models, TWO_CORES, 8_192, bandwidth=crawl)
    best = advice.recommended
    assert best is not None
    # s1's own builds come first; the fastest of them is advised.
    speeds = [s for m in advice.models if m.model.format == "s1" for s in m.speeds if s]
    top = advice.speed(best)
    assert top is not None
    assert not top.answers_in_minutes
    assert top.tokens_per_s == max(s.tokens_per_s for s in speeds)


def test_a_gpu_reads_faster_than_ram_and_a_bigger_model_fits_the_time() -> None:
    gpu = Bandwidth(ram=50e9, gpus=(900e9,))
    advice = advise(load_catalog().models, GPU_24, 8_192, bandwidth=gpu)
    best = advice.recommended
    assert best is not None
    assert best.quant is not None
    assert best.quant.model_id.endswith("32B")
    speed = advice.speed(best)
    assert speed is not None
    assert speed.answers_in_minutes
    cpu_only = advise(load_catalog().models, CPU_ONLY, 8_192, bandwidth=gpu)
    same = next(f for m in cpu_only.models for f in m.fits if f.label == best.label)
    on_cpu = cpu_only.speed(same)
    assert on_cpu is None or on_cpu.tokens_per_s < speed.tokens_per_s / 5


def test_speed_follows_bandwidth_and_size() -> None:
    model = next(m for m in load_catalog().models if m.id == "s1.1-1.5B")
    small, big = sorted(
        (f for f in advise([model], TWO_CORES, 8_192).models[0].fits),
        key=lambda f: f.estimate.weights,
    )[:: len(model.quantizations) - 1]
    slow, fast = Bandwidth(ram=10e9), Bandwidth(ram=20e9)
    a = estimate_speed(model.architecture, small, slow)
    b = estimate_speed(model.architecture, small, fast)
    c = estimate_speed(model.architecture, big, slow)
    assert a is not None
    assert b is not None
    assert c is not None
    assert b.tokens_per_s == pytest.approx(2 * a.tokens_per_s)
    assert c.tokens_per_s < a.tokens_per_s


def test_the_bandwidth_is_measured_once_and_kept(tmp_path: Path) -> None:
    cache = tmp_path / "bw.json"
    first = detect_bandwidth(cache)
    assert 1e8 < first.ram < 1e13
    assert cache.is_file()
    kept = json.loads(cache.read_text())
    kept["ram"] = 12.5e9
    cache.write_text(json.dumps(kept))
    assert detect_bandwidth(cache).ram == 12.5e9  # read back, not measured again
    cache.write_text("not json")
    assert 1e8 < detect_bandwidth(cache).ram < 1e13  # a damaged cache is measured again


def test_s1_builds_are_advised_before_other_families() -> None:
    advice = advise(load_catalog().models, TWO_CORES, 8_192, bandwidth=Bandwidth(ram=10e9))
    chosen = next(m for m in advice.models if advice.recommended in m.fits)
    assert chosen.model.format == "s1"
    assert any(m.model.format != "s1" for m in advice.models), "other families are offered"
