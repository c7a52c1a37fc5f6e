"""``s1desk models list|fit|download|rm``: the model manager on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from s1desk.cli_args import MAX_CONTEXT, int_in, text

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CANCELLED = 130


def add_models_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = sub.add_parser(
        "models",
        help="list, check, download and delete s1 models",
        description="The s1 GGUF models: what is here, what fits this machine, downloads.",
    )
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    ls = msub.add_parser("list", help="models on this machine (and the catalog with --catalog)")
    ls.add_argument("--catalog", action="store_true", help="also list the downloadable builds")
    ls.add_argument(
        "--refresh", action="store_true", help="read file names and sizes from the hub first"
    )
    ls.add_argument("--add", type=Path, metavar="GGUF", help="add a GGUF file from disk first")

    fit = msub.add_parser("fit", help="which builds fit this machine's GPU and RAM")
    fit.add_argument(
        "--ctx",
        type=int_in(1, MAX_CONTEXT),
        default=32_768,
        help="context size (default: %(default)s)",
    )
    fit.add_argument("--kv", choices=["f16", "q8_0", "q4_0"], default="f16", help="KV cache type")
    fit.add_argument("--flash-attn", action="store_true", help="with flash attention")
    fit.add_argument("--model", type=text, help="only this catalog model (e.g. s1.1-32B)")
    fit.add_argument("gguf", nargs="?", type=Path, help="a local GGUF file to check instead")

    dl = msub.add_parser("download", help="download a build into the Hugging Face cache")
    dl.add_argument("model", type=text, help="catalog model id, e.g. s1.1-32B")
    dl.add_argument(
        "quant", nargs="?", type=text, help="quantization, e.g. Q4_K_M (default: recommended)"
    )
    dl.add_argument("--repo", type=text, help="repository, when the model has several")
    dl.add_argument(
        "--ctx",
        type=int_in(1, MAX_CONTEXT),
        default=32_768,
        help="context used to pick the default",
    )

    rm = msub.add_parser("rm", help="delete a downloaded model (or forget an added file)")
    rm.add_argument("name", type=text, help="as `s1desk models list` shows it")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


def _size(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "--"
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def run_models(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    from s1desk.errors import S1DeskError
    from s1desk.terminal import safe_text

    out = out or sys.stdout
    err = err or sys.stderr

    try:
        action = {"list": _list, "fit": _fit, "download": _download, "rm": _rm}
        return action[args.models_command](args, out, err)
    except S1DeskError as exc:
        err.write(f"Error: {safe_text(str(exc))}\n")
        return EXIT_ERROR


def _list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from s1desk.models.catalog import load_catalog, refresh_catalog
    from s1desk.models.hub_cache import cached_path
    from s1desk.models.local import add_model, list_local_models
    from s1desk.terminal import safe_text

    if args.add:
        added = add_model(args.add)
        out.write(
            safe_text(f"Added {added.path} ({added.quantization}, {_size(added.size)})") + "\n"
        )
    catalog = load_catalog()
    if args.refresh:
        catalog, problems = refresh_catalog()
        for p in problems:
            err.write(f"warning: {safe_text(p)}\n")
    models = list_local_models()
    out.write("On this machine:\n" if models else "No models on this machine yet.\n")
    for m in models:
        note = f"  ({m.problem})" if m.problem else ""
        parts = f", {m.parts} parts" if m.parts > 1 else ""
        line = f"  {m.name}  {m.quantization}  {_size(m.size)}{parts}  [{m.source}]{note}"
        out.write(safe_text(line) + "\n")
        out.write(safe_text(f"      {m.path}") + "\n")
    if args.catalog:
        out.write("\nCatalog (~ = estimated size, until `--refresh` reads the hub):\n")
        for model in catalog.models:
            out.write(f"  {model.id} [{model.format}]: {model.description}\n")
            for q in model.quantizations:
                here = " [downloaded]" if cached_path(q.repo_id, q.filenames) else ""
                approx = "~" if q.estimated else ""
                split = f", {len(q.files)} parts" if len(q.files) > 1 else ""
                out.write(f"    {q.quant:<8} {approx}{_size(q.size)}{split}  {q.repo_id}{here}\n")
    return EXIT_OK


def _fit(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from s1desk.models.advice import Suggestion, advise, suggest
    from s1desk.models.architecture import Architecture
    from s1desk.models.bandwidth import CACHE_FILE, detect_bandwidth
    from s1desk.models.catalog import load_catalog
    from s1desk.models.file_check import check_model_file
    from s1desk.models.fit import KvType, assess, recommend
    from s1desk.models.gguf import read_gguf
    from s1desk.models.hardware import detect_hardware
    from s1desk.models.speed import Speed, decode_speed_text, estimate_speed
    from s1desk.paths import cache_dir

    hw = detect_hardware()
    bandwidth = detect_bandwidth(cache_dir() / CACHE_FILE)
    for g in hw.gpus:
        out.write(f"GPU {g.index}: {g.name}, {_size(g.free)} free of {_size(g.total)}\n")
    for note in hw.notes:
        out.write(f"{note}\n")
    out.write(f"RAM: {_size(hw.ram_available)} available of {_size(hw.ram_total)}\n")
    gpu_bw = f", GPU {bandwidth.gpu / 1e9:,.0f} GB/s" if bandwidth.gpu and hw.usable_gpus else ""
    out.write(f"Memory bandwidth: RAM {bandwidth.ram / 1e9:.1f} GB/s (measured){gpu_bw}\n")
    out.write(f"Context {args.ctx} tokens, KV cache {args.kv}\n\n")
    kv = KvType(args.kv)
    suggestion: Suggestion | None = None
    best_speed: Speed | None = None

    def with_speed(message: str, speed: Speed | None) -> str:
        return f"{message}; {decode_speed_text(speed)}" if speed is not None else message

    if args.gguf:
        info = read_gguf(check_model_file(args.gguf))
        arch = Architecture.from_gguf(info)
        f = assess(
            arch, info.file_size, hw, args.ctx, kv, flash_attn=args.flash_attn, label=args.gguf.name
        )
        best_speed = estimate_speed(arch, f, bandwidth)
        out.write(f"{with_speed(f.message, best_speed)}\n")
        best = recommend([f])
        if best is not None and best.gpu_layers < best.n_layers and hw.usable_gpus:
            suggestion = suggest(arch, best, hw, args.ctx, kv, flash_attn=args.flash_attn)
    else:
        catalog = load_catalog()
        models = [catalog.model(args.model)] if args.model else list(catalog.models)
        advice = advise(models, hw, args.ctx, kv, flash_attn=args.flash_attn, bandwidth=bandwidth)
        for assessed in advice.models:
            for f in assessed.fits:
                approx = " (size estimated)" if f.quant and f.quant.estimated else ""
                out.write(f"  {with_speed(f.message, assessed.speed(f))}{approx}\n")
        best = advice.recommended
        best_speed = advice.speed(best) if best is not None else None
        suggestion = advice.suggestion
    if best is None:
        out.write("\nNothing fits this machine at this context; try a smaller --ctx.\n")
        return EXIT_OK
    out.write(f"\nRecommended: {with_speed(best.message, best_speed)}\n")
    if best_speed is not None and not best_speed.answers_in_minutes:
        out.write("Nothing here answers a typical question in minutes; this is the fastest.\n")
    if suggestion is not None and hw.usable_gpus:
        setting = suggestion.setting
        out.write(
            f"To fit {suggestion.target.label} whole on the GPU: --ctx {setting.n_ctx}, "
            f"KV cache {setting.kv_type}{', flash attention' if setting.flash_attn else ''} "
            f"({setting.fit.estimate.total / 2**30:.1f} GiB)\n"
        )
    return EXIT_OK


def _download(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import signal

    from s1desk.models.advice import advise
    from s1desk.models.bandwidth import CACHE_FILE, detect_bandwidth
    from s1desk.models.catalog import load_catalog
    from s1desk.models.download import DownloadRequest, start_download
    from s1desk.models.download_events import (
        DownloadCancelled,
        DownloadEvent,
        DownloadFailed,
        DownloadFinished,
        DownloadPaused,
        DownloadProgress,
    )
    from s1desk.models.hardware import detect_hardware
    from s1desk.paths import cache_dir
    from s1desk.terminal import safe_text

    catalog = load_catalog()
    model = catalog.model(args.model)
    if args.quant:
        q = catalog.quantization(model.id, args.quant, args.repo)
    else:
        bandwidth = detect_bandwidth(cache_dir() / CACHE_FILE)
        best = advise([model], detect_hardware(), args.ctx, bandwidth=bandwidth).recommended
        if best is None or best.quant is None:
            err.write(f"No build of {model.id} fits this machine; name one to download anyway.\n")
            return EXIT_ERROR
        q = best.quant
        out.write(f"Recommended for this machine: {best.message}\n")
    approx = "~" if q.estimated else ""
    names = ", ".join(q.filenames)
    out.write(safe_text(f"Downloading {q.repo_id}: {names} ({approx}{_size(q.size)})") + "\n")

    def show(event: DownloadEvent) -> None:
        if isinstance(event, DownloadProgress):
            pct = 100 * event.fraction
            err.write(
                f"\r{pct:5.1f}%  {_size(event.done)} / {_size(event.total)}  "
                f"{event.speed / 1e6:6.1f} MB/s  {_duration(event.eta_s)} left  {event.phase}   "
            )
            err.flush()
        elif isinstance(event, DownloadPaused):
            err.write("\npaused\n")

    handle = start_download(DownloadRequest(q.repo_id, q.filenames), on_event=show)
    previous = signal.signal(signal.SIGINT, lambda *_: handle.cancel())
    try:
        final = handle.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    err.write("\n")
    if isinstance(final, DownloadFinished):
        out.write(safe_text(f"Ready: {final.path}") + "\n")
        return EXIT_OK
    if isinstance(final, DownloadCancelled):
        out.write("Cancelled; the partial download is kept and resumes next time.\n")
        return EXIT_CANCELLED
    assert isinstance(final, DownloadFailed)
    err.write(f"Error: {safe_text(final.message)}\n")
    return EXIT_ERROR


def _rm(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from s1desk.models.local import find_model, list_local_models, remove_model
    from s1desk.terminal import safe_text

    model = find_model(args.name, list_local_models())
    what = "Delete" if model.source == "cache" else "Forget (the file stays on disk)"
    if not args.yes:
        if not sys.stdin.isatty():
            err.write("Refusing to delete without confirmation: pass --yes.\n")
            return EXIT_ERROR
        answer = input(safe_text(f"{what} {model.name} ({_size(model.size)})? [y/N] "))
        if answer.strip().lower() not in ("y", "yes"):
            out.write("Kept.\n")
            return EXIT_OK
    deleted = remove_model(model)
    freed = sum(1 for _ in deleted)
    out.write(
        safe_text(f"Removed {model.name}") + (f" ({freed} files deleted)\n" if freed else "\n")
    )
    return EXIT_OK
