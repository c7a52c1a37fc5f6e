"""Download throughput of s1desk against a bare ``hf_hub_download``: same file, server and run.

Both fetch the real test model GGUF (491 MB) from a hub-compatible server on
loopback (tests/support/hub_server.py) into a fresh Hugging Face cache, in
alternating rounds. Ours runs the full path: worker thread, progress events,
resumable partial file and sha256 verification (which the bare call skips).
The caches live on a RAM file system (/dev/shm) so disk write-back does not
add noise to either side.

Each round times both back to back (in alternating order); the ratio reported
is the median of the per-round ratios, which keeps load from other processes on
a shared machine from landing on one side only.

Target: bare time / our time >= 0.95.
Usage: .venv/bin/python benchmarks/download_throughput.py [--rounds R]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from huggingface_hub import hf_hub_download

from _common import median, model_path, parse_args, report
from s1desk.models.download import DownloadRequest, download
from s1desk.models.download_events import DownloadEvent
from support.hub_server import HostedFile, HubServer
from support.testmodel import SHA256

REPO = "bench/s1-GGUF"
FILE = "s1-bench-Q4_K_M.gguf"


def bare(endpoint: str, cache: Path) -> float:
    start = time.perf_counter()
    hf_hub_download(REPO, FILE, cache_dir=cache, endpoint=endpoint)
    return time.perf_counter() - start


def ours(endpoint: str, cache: Path) -> float:
    events: list[DownloadEvent] = []
    start = time.perf_counter()
    download(
        DownloadRequest(REPO, (FILE,), cache_dir=cache, endpoint=endpoint), on_event=events.append
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    args = parse_args(parser)
    source = model_path()
    size = source.stat().st_size
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    times: dict[str, list[float]] = {"bare": [], "ours": []}
    cpu: dict[str, list[float]] = {"bare": [], "ours": []}
    with HubServer() as hub, tempfile.TemporaryDirectory(dir=base) as tmp:
        hub.state.repos = {REPO: {FILE: HostedFile(source, sha256=SHA256)}}
        for r in range(args.rounds):
            order = [("bare", bare), ("ours", ours)]
            if r % 2:
                order.reverse()
            for name, fn in order:
                cache = Path(tmp) / name
                cpu0 = time.process_time()
                times[name].append(fn(hub.endpoint, cache))
                cpu[name].append(time.process_time() - cpu0)
                shutil.rmtree(cache)
    t_bare, t_ours = median(times["bare"]), median(times["ours"])
    paired = median([b / o for b, o in zip(times["bare"], times["ours"], strict=True)])
    report(
        "download_throughput",
        {
            "file_bytes": size,
            "rounds": args.rounds,
            "bare_hf_hub_download_MBps": round(size / t_bare / 1e6, 1),
            "ours_MBps": round(size / t_ours / 1e6, 1),
            "ratio_ours_over_bare": round(paired, 3),
            "ratio_of_median_times": round(t_bare / t_ours, 3),
            "target": ">= 0.95",
            "times_s": {k: [round(t, 3) for t in v] for k, v in times.items()},
            # CPU seconds of the whole process (the loopback server included)
            "cpu_s_median": {k: round(median(v), 3) for k, v in cpu.items()},
        },
    )


if __name__ == "__main__":
    main()
