"""The Models window's fit verdicts: per quantization, following the context and KV cache chosen."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from s1desk.cli import main
from s1desk.models.bandwidth import Bandwidth
from s1desk.models.fit import KvType
from s1desk.models.hardware import GpuInfo, Hardware
from s1desk.models.speed import decode_speed_text
from s1desk.ui.models.downloads import quant_key
from s1desk.ui.models.models_dialog import ModelManagerDialog
from s1desk.ui.models.quant_row import QuantRow
from support.qt import until

GPU = GpuInfo(0, "Test GPU 24 GB", total=24 << 30, free=23 << 30)
ONE_GPU = Hardware(gpus=(GPU,), offload_supported=True, ram_total=64 << 30, ram_available=32 << 30)
NO_GPU = Hardware(
    gpus=(),
    offload_supported=False,
    ram_total=32 << 30,
    ram_available=24 << 30,
    notes=("No NVIDIA driver found (libnvidia-ml is missing): running on the CPU.",),
)
CPU_BUILD = Hardware(
    gpus=(GPU,),
    offload_supported=False,
    ram_total=32 << 30,
    ram_available=24 << 30,
    notes=("llama.cpp was built without GPU support, so the GPU stays unused.",),
)


@pytest.fixture(autouse=True)
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "hf" / "hub"


@pytest.fixture
def make(arun: Callable[..., Any]) -> Iterator[Callable[..., ModelManagerDialog]]:
    made: list[ModelManagerDialog] = []

    def new(
        hardware: Hardware | None, context_size: int = 32_768, bandwidth: Bandwidth | None = None
    ) -> ModelManagerDialog:
        dialog = ModelManagerDialog(
            hardware=hardware, context_size=context_size, bandwidth=bandwidth
        )
        dialog.show()
        made.append(dialog)
        return dialog

    yield new
    for dialog in made:
        arun(dialog.shutdown())
        dialog.close()
        dialog.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def verdict(d: ModelManagerDialog, model: str, quant: str) -> str:
    return d.catalog_view.row(model, quant).verdict_label.text()


def rows(d: ModelManagerDialog) -> list[QuantRow]:
    return list(d.catalog_view.rows.values())


def test_verdicts_on_a_24_gb_gpu_follow_the_context_and_kv_cache(
    make: Callable[..., ModelManagerDialog],
) -> None:
    d = make(ONE_GPU)
    view = d.catalog_view
    assert "Test GPU 24 GB (23.0 GiB free of 24.0 GiB)" in view.hardware_label.text()
    assert view.n_ctx == 32_768
    # At 32k tokens: the 32B Q4_K_M only partly on the GPU, F16 nowhere, IQ2_M whole.
    q4 = verdict(d, "s1.1-32B", "Q4_K_M")
    partial = re.search(r"Partly offloaded \((\d+) of 64 layers on the GPU\)", q4)
    assert partial, q4
    assert 0 < int(partial[1]) < 64
    assert "Does not fit" in verdict(d, "s1.1-32B", "F16")
    assert "Fits on the GPU" in verdict(d, "s1.1-32B", "IQ2_M")
    assert "Fits on the GPU" in verdict(d, "s1.1-1.5B", "Q8_0")
    # Estimated sizes are marked.
    size = view.row("s1.1-32B", "Q4_K_M").size_label.text()
    assert size.startswith("≈")
    assert view.legend.isVisible()
    # One build is recommended, highlighted, and named above the list.
    recommended = [r for r in rows(d) if r.badge.isVisible()]
    assert len(recommended) == 1
    assert recommended[0].recommended
    assert recommended[0].quant.label in view.recommend_label.text()
    assert "Fits on the GPU" in recommended[0].verdict_label.text()
    # A shorter context puts the whole Q4_K_M on the GPU.
    view.context.setCurrentIndex(view.context.findData(4_096))
    assert "Fits on the GPU" in verdict(d, "s1.1-32B", "Q4_K_M")
    # A quantized KV cache needs flash attention, and needs less memory.
    view.context.setCurrentIndex(view.context.findData(32_768))
    f16_tip = view.row("s1.1-32B", "Q4_K_M").verdict_label.toolTip()
    view.kv_type.setCurrentIndex(view.kv_type.findData("q4_0"))
    assert view.kv is KvType.Q4_0
    assert view.flash_attn.isChecked()
    assert not view.flash_attn.isEnabled()
    q4_tip = view.row("s1.1-32B", "Q4_K_M").verdict_label.toolTip()
    assert "KV cache (q4_0)" in q4_tip
    assert _gib(q4_tip) < _gib(f16_tip)


def test_the_suggested_settings_make_a_build_fit_whole(
    make: Callable[..., ModelManagerDialog],
) -> None:
    d = make(ONE_GPU)
    view = d.catalog_view
    assert view.apply_button.isVisible()
    text = view.suggestion_label.text()
    assert "fits whole on the GPU" in text
    label = text.split(" fits ")[0]
    model, quant = label.split(" ")
    assert "Partly offloaded" in verdict(d, model, quant)
    suggestion = view.suggestion
    assert suggestion is not None
    view.apply_button.click()
    assert view.n_ctx == suggestion.n_ctx
    assert view.kv is suggestion.kv_type
    assert view.flash_attn.isChecked() == suggestion.flash_attn
    assert "Fits on the GPU" in verdict(d, model, quant)
    assert not view.apply_button.isVisible()  # nothing more to suggest for it


def test_without_a_gpu_the_window_says_so_and_everything_runs_on_the_cpu(
    make: Callable[..., ModelManagerDialog],
) -> None:
    d = make(NO_GPU)
    assert "No NVIDIA driver found" in d.catalog_view.hardware_label.text()
    assert "RAM: 24.0 GiB available of 32.0 GiB" in d.catalog_view.hardware_label.text()
    words = {r.verdict_label.text().removeprefix("● ") for r in rows(d)}
    assert words <= {"Runs on the CPU", "Does not fit"}
    assert "Does not fit" in verdict(d, "s1.1-32B", "Q8_0")
    assert "Runs on the CPU" in verdict(d, "s1.1-1.5B", "Q4_K_M")


def test_a_gpu_that_llama_cpp_cannot_use_is_named_and_not_counted(
    make: Callable[..., ModelManagerDialog],
) -> None:
    d = make(CPU_BUILD)
    text = d.catalog_view.hardware_label.text()
    assert "not usable by this llama.cpp" in text
    assert "built without GPU support" in text
    assert not any("GPU" in r.verdict_label.text() for r in rows(d))


def test_this_machine_is_detected_off_the_gui_thread(
    make: Callable[..., ModelManagerDialog], arun: Callable[..., Any]
) -> None:
    d = make(None)
    view = d.catalog_view
    arun(until(lambda: "RAM:" in view.hardware_label.text(), 60, "the hardware"))
    hw = view.hardware
    assert hw is not None
    text = view.hardware_label.text()
    if hw.usable_gpus:
        assert hw.usable_gpus[0].name in text
    else:  # a plain statement of why nothing goes on a GPU
        assert hw.notes
        assert hw.notes[0] in text
    assert all("Checking" not in r.verdict_label.text() for r in rows(d))


def _gib(tooltip: str) -> float:
    found = re.match(r"Needs ([\d.]+) GiB", tooltip)
    assert found, tooltip
    return float(found[1])


def test_the_window_and_the_cli_recommend_the_same_build_on_this_machine(
    make: Callable[..., ModelManagerDialog],
    arun: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    d = make(None, context_size=8_192)
    view = d.catalog_view
    arun(until(lambda: view.hardware is not None, 60, "the hardware"))
    assert view.recommended is not None
    assert main(["models", "fit", "--ctx", str(view.n_ctx)]) == 0
    out, _ = capsys.readouterr()
    (line,) = [row for row in out.splitlines() if row.startswith("Recommended:")]
    # Both read the machine's bandwidth, measured once and kept: the same speed too.
    assert view.bandwidth is not None
    speed = view.rows[quant_key(view.recommended.quant)].speed  # type: ignore[arg-type]
    assert speed is not None
    assert line == f"Recommended: {view.recommended.message}; {decode_speed_text(speed)}"


def test_each_build_shows_its_decode_speed_here(make: Callable[..., ModelManagerDialog]) -> None:
    d = make(NO_GPU, bandwidth=Bandwidth(ram=10e9))
    view = d.catalog_view
    assert "Memory bandwidth: 10.0 GB/s" in view.hardware_label.text()
    slow = verdict(d, "s1.1-14B", "Q4_K_M")
    assert "4,000 thinking tokens ≈" in slow
    assert "min here" in slow
    recommended = view.recommended
    assert recommended is not None
    assert recommended.label == "s1.1-1.5B Q4_K_M"
    assert "4,000 thinking tokens ≈" in view.recommend_label.text()
    assert view.row("s1.1-1.5B", "Q4_K_M").badge.isVisibleTo(view)
