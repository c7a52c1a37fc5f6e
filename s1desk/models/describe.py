"""Words for the model manager: sizes, speeds, time left, fit verdicts, the machine."""

from __future__ import annotations

from dataclasses import dataclass

from s1desk.models.fit import Fit, Verdict
from s1desk.models.hardware import Hardware

#: Headings for download failures, by ``DownloadFailed.kind``.
FAILURE_TITLES = {
    "auth": "Access refused",
    "gated": "Gated repository",
    "not_found": "Not found",
    "network": "No network",
    "disk_full": "Disk full",
    "integrity": "Checksum mismatch",
    "busy": "Already downloading",
}


def size_text(n: int, estimated: bool = False) -> str:
    """``19.9 GB``; an estimate reads ``≈19.9 GB``."""
    text = f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"
    return f"≈{text}" if estimated else text


def memory_text(n: int) -> str:
    """Memory in GiB, as GPU makers and the fit estimates count it."""
    return f"{n / 2**30:.1f} GiB"


def speed_text(bytes_per_s: float) -> str:
    if bytes_per_s >= 1e6:
        return f"{bytes_per_s / 1e6:.1f} MB/s"
    return f"{bytes_per_s / 1e3:.0f} kB/s"


def eta_text(seconds: float | None) -> str:
    """``3 min 20 s left``; unknown while the speed is not yet measured."""
    if seconds is None:
        return "time left unknown"
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min left"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s left"
    return f"{s} s left"


@dataclass(frozen=True, slots=True)
class VerdictText:
    """A short verdict for the row, a tooltip with the numbers, and a tone for its colour."""

    short: str
    detail: str
    tone: str  # "good", "warn" or "bad"


def verdict_text(fit: Fit) -> VerdictText:
    est = fit.estimate
    gib = 2**30
    numbers = (
        f"Needs {est.total / gib:.1f} GiB at {est.n_ctx:,} tokens: weights "
        f"{est.weights / gib:.1f} GiB, KV cache ({est.kv_type}) {est.kv_cache / gib:.1f} GiB, "
        f"compute buffers {est.compute / gib:.1f} GiB."
    )
    if fit.verdict is Verdict.GPU:
        return VerdictText("Fits on the GPU", numbers, "good")
    if fit.verdict is Verdict.PARTIAL:
        return VerdictText(
            f"Partly offloaded ({fit.gpu_layers} of {fit.n_layers} layers on the GPU)",
            numbers + " The other layers run on the CPU, which is slower.",
            "warn",
        )
    if fit.verdict is Verdict.CPU:
        return VerdictText("Runs on the CPU", numbers + " It fits in RAM.", "warn")
    return VerdictText("Does not fit", numbers + " More than this machine's memory.", "bad")


def hardware_text(hw: Hardware) -> str:
    """One or two plain sentences: the GPUs llama.cpp can use (or why none), and RAM."""
    lines = []
    if hw.usable_gpus:
        gpus = ", ".join(
            f"{g.name} ({memory_text(g.free)} free of {memory_text(g.total)})"
            for g in hw.usable_gpus
        )
        lines.append(f"GPU: {gpus}.")
    elif hw.gpus:
        lines.append(f"GPU: {', '.join(g.name for g in hw.gpus)}, not usable by this llama.cpp.")
    elif not hw.notes:
        lines.append("No GPU found: models run on the CPU from RAM.")
    lines.extend(hw.notes)
    lines.append(f"RAM: {memory_text(hw.ram_available)} available of {memory_text(hw.ram_total)}.")
    return " ".join(lines)
