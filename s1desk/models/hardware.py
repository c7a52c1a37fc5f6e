"""What this machine offers a model: NVIDIA GPUs and their free memory (NVML), system RAM."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GpuInfo:
    index: int
    name: str
    total: int
    free: int


@dataclass(frozen=True, slots=True)
class Hardware:
    """GPUs seen, whether llama.cpp can use them, RAM; ``notes`` say plainly what is missing."""

    gpus: tuple[GpuInfo, ...]
    offload_supported: bool
    ram_total: int
    ram_available: int
    notes: tuple[str, ...] = ()

    @property
    def usable_gpus(self) -> tuple[GpuInfo, ...]:
        """GPUs llama.cpp can put layers on (none on a CPU-only build)."""
        return self.gpus if self.offload_supported else ()

    @property
    def gpu_free(self) -> int:
        return sum(g.free for g in self.usable_gpus)


def detect_gpus() -> tuple[tuple[GpuInfo, ...], str | None]:
    """NVIDIA GPUs through NVML, or none and the reason why."""
    try:
        import pynvml
    except ImportError:
        return (), "GPU detection is unavailable (the nvidia-ml-py package is not installed)."
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        if isinstance(exc, pynvml.NVMLError_LibraryNotFound):
            return (), "No NVIDIA driver found (libnvidia-ml is missing): running on the CPU."
        if isinstance(exc, pynvml.NVMLError_DriverNotLoaded):
            return (), "The NVIDIA driver is installed but not loaded: running on the CPU."
        return (), f"NVIDIA GPUs could not be queried ({exc}): running on the CPU."
    try:
        gpus = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(handle)
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
            gpus.append(
                GpuInfo(
                    index=i,
                    name=name.decode() if isinstance(name, bytes) else str(name),
                    total=int(mem.total),
                    free=int(mem.free),
                )
            )
    except pynvml.NVMLError as exc:
        return (), f"NVIDIA GPUs could not be queried ({exc}): running on the CPU."
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            log.debug("nvmlShutdown failed", exc_info=True)
    if not gpus:
        return (), "No NVIDIA GPU found: running on the CPU."
    return tuple(gpus), None


def system_memory() -> tuple[int, int]:
    """(total, available) RAM in bytes."""
    try:
        import psutil

        vm = psutil.virtual_memory()
        return int(vm.total), int(vm.available)
    except ImportError:
        values: dict[str, int] = {}
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            values[key] = int(rest.split()[0]) * 1024
        return values["MemTotal"], values.get("MemAvailable", values["MemFree"])


def gpu_offload_supported() -> bool:
    """Whether this llama.cpp build can put layers on a GPU (llama.cpp is imported here, on
    first use: it takes a moment)."""
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def detect_hardware(offload_supported: bool | None = None) -> Hardware:
    """Look at the machine. ``offload_supported`` defaults to asking this llama.cpp build."""
    if offload_supported is None:
        offload_supported = gpu_offload_supported()
    gpus, note = detect_gpus()
    notes = [note] if note else []
    if gpus and not offload_supported:
        notes.append(
            "llama.cpp was built without GPU support, so the GPU stays unused: rebuild "
            'llama-cpp-python with CMAKE_ARGS="-DGGML_CUDA=on" (see the README).'
        )
    total, available = system_memory()
    return Hardware(
        gpus=gpus,
        offload_supported=offload_supported,
        ram_total=total,
        ram_available=available,
        notes=tuple(notes),
    )
