"""The decode speed estimate against the measured decode speed of the test model, one run.

Measures the RAM bandwidth (as the Models window and ``s1desk models fit`` do), then
the test model's decode rate through the engine process with the default settings,
alternating the two a few times, and reports measured / estimated at efficiency 1:
the figure ``CPU_EFFICIENCY`` in s1desk/models/speed.py is calibrated from.

Usage: .venv/bin/python benchmarks/decode_estimate.py [--tokens N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio

from _engine_rate import engine_rate

from _common import median, model_path, report
from s1desk.backends.local import LocalBackend
from s1desk.backends.local_config import LocalModelConfig
from s1desk.models import speed
from s1desk.models.architecture import Architecture
from s1desk.models.bandwidth import Bandwidth, measure_ram_bandwidth
from s1desk.models.fit import Fit, Verdict, estimate_memory
from s1desk.models.gguf import read_gguf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    path = model_path()
    info = read_gguf(path)
    arch = Architecture.from_gguf(info)
    n_ctx = 4096
    fit = Fit("test model", estimate_memory(arch, info.file_size, n_ctx), Verdict.CPU, 0, 1)
    bandwidths: list[float] = []
    rates: list[float] = []
    with asyncio.Runner() as runner:
        backend = runner.run(LocalBackend.load(LocalModelConfig(path=path, n_ctx=n_ctx)))
        for _ in range(args.rounds):
            bandwidths.append(measure_ram_bandwidth())
            rates.append(engine_rate(backend, runner, args.tokens))
        runner.run(backend.aclose())
    saved = speed.CPU_EFFICIENCY
    speed.CPU_EFFICIENCY = 1.0
    try:
        ideal = [
            e.tokens_per_s
            for b in bandwidths
            if (e := speed.estimate_speed(arch, fit, Bandwidth(b), args.tokens * 2)) is not None
        ]
    finally:
        speed.CPU_EFFICIENCY = saved
    ratios = [r / i for r, i in zip(rates, ideal, strict=True)]
    report(
        "decode_estimate",
        {
            "tokens": args.tokens,
            "rounds": args.rounds,
            "ram_bandwidth_gb_s": [round(b / 1e9, 2) for b in bandwidths],
            "measured_tokens_per_s": [round(r, 2) for r in rates],
            "estimated_at_efficiency_1": [round(i, 2) for i in ideal],
            "measured_over_estimated": [round(x, 3) for x in ratios],
            "median_ratio": round(median(ratios), 3),
            "cpu_efficiency_in_use": saved,
        },
    )


if __name__ == "__main__":
    main()
