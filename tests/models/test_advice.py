"""One recommendation for the window and the CLI: the best build over every model."""

from __future__ import annotations

from s1desk.models.advice import advise
from s1desk.models.catalog import load_catalog
from s1desk.models.fit import KvType, Verdict, recommend
from s1desk.models.hardware import GpuInfo, Hardware

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
