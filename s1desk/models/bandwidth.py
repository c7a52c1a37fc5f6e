"""Memory bandwidth: the RAM's, measured once with a timed read and cached; a GPU's from NVML."""

from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: Read this much: more than most last-level caches, so the figure is the RAM's.
PROBE_BYTES = 512 * 2**20
PROBE_PASSES = 3
MAX_PROBE_THREADS = 8
CACHE_FILE = "memory_bandwidth.json"


@dataclass(frozen=True, slots=True)
class Bandwidth:
    """Bytes per second the RAM gives a reader here, and each usable GPU's memory (NVML)."""

    ram: float
    gpus: tuple[float, ...] = ()

    @property
    def gpu(self) -> float | None:
        """The slowest usable GPU's bandwidth (layers split over GPUs run at its pace)."""
        return min(self.gpus) if self.gpus else None


def _cores() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores or 1


def measure_ram_bandwidth(size: int = PROBE_BYTES, passes: int = PROBE_PASSES) -> float:
    """Bytes per second read from RAM by as many threads as llama.cpp would use (best pass).

    A reduction over a large array: numpy releases the GIL, so the threads read at once,
    as llama.cpp's do while decoding.
    """
    import numpy as np

    threads = max(1, min(_cores(), MAX_PROBE_THREADS))
    data = np.ones(size, dtype=np.uint8)
    chunks = np.array_split(data, threads)
    best = float("inf")
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(passes):
            start = time.perf_counter()
            list(pool.map(np.max, chunks))
            best = min(best, time.perf_counter() - start)
    return size / max(best, 1e-9)


def gpu_bandwidths() -> tuple[float, ...]:
    """Each NVIDIA GPU's peak memory bandwidth from NVML (memory clock x bus width x 2,
    double data rate); none where NVML is missing or does not say."""
    try:
        import pynvml
    except ImportError:
        return ()
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return ()
    try:
        figures = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            clock_mhz = pynvml.nvmlDeviceGetMaxClockInfo(handle, pynvml.NVML_CLOCK_MEM)
            bus_bits = pynvml.nvmlDeviceGetMemoryBusWidth(handle)
            figures.append(float(clock_mhz) * 1e6 * 2 * float(bus_bits) / 8)
        return tuple(figures)
    except pynvml.NVMLError as exc:
        log.info("NVML gave no memory bandwidth: %s", exc)
        return ()
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            log.debug("nvmlShutdown failed", exc_info=True)


def detect_bandwidth(cache: Path | None = None) -> Bandwidth:
    """This machine's bandwidths; the RAM's is measured once (about a second) and kept in
    ``cache`` (a JSON file) for as long as the machine's core count stays the same."""
    ram = _cached(cache) if cache is not None else None
    if ram is None:
        ram = measure_ram_bandwidth()
        if cache is not None:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                cache.write_text(json.dumps({"ram": ram, "cores": _cores()}))
            except OSError as exc:
                log.info("could not keep the bandwidth figure in %s: %s", cache, exc)
    return Bandwidth(ram=ram, gpus=gpu_bandwidths())


def _cached(cache: Path) -> float | None:
    try:
        data = json.loads(cache.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("cores") != _cores():
        return None
    ram = data.get("ram")
    if isinstance(ram, int | float) and 1e8 <= ram <= 1e13:
        return float(ram)
    return None
