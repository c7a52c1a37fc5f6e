"""Writes the README's benchmark tables from the kept results in benchmarks/results/.

Each table sits between ``<!-- bench:STEM -->`` and ``<!-- /bench:STEM -->``
in README.md and is made only from ``benchmarks/results/STEM.json``, with the
machine, date, load and command that produced it. A table whose result is not
kept says so and names the command. ``--check`` changes nothing and exits 1
when the README is out of date.

Usage: scripts/bench-tables [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- bench:([\w.-]+) -->\n)(.*?)(<!-- /bench:\2 -->)", re.DOTALL)

R = dict[str, Any]


def ms(seconds: float) -> str:
    if seconds < 0.01:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def msv(value_ms: float) -> str:
    return ms(value_ms / 1000)


def code(text: str) -> str:
    """``text`` with each word that holds a backslash (LaTeX) in backticks."""
    return re.sub(r"(\\\S+)", r"`\1`", text)


def table(head: list[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def decode_throughput(r: R) -> str:
    tps = r["tokens_per_second"]
    names = {
        "ours": "ours (engine process, asyncio consumer)",
        "create_completion": "(a) `create_completion(stream=True)`",
        "decode_only": "(b) decode only, no sampling",
    }
    ratio = {
        "create_completion": (r["ratio_vs_create_completion"], "≥ 1.0"),
        "decode_only": (r["ratio_vs_decode_only"], "≥ 0.95"),
    }
    rows: list[list[object]] = []
    for key, name in names.items():
        got, target = ratio.get(key, ("", ""))
        rounds = ", ".join(f"{x:.1f}" for x in r["all_rounds"][key])
        rows.append([name, f"{tps[key]:.2f}", rounds, f"**{got}**" if got else "", target])
    head = [
        "loop",
        f"tokens/s (median of {r['rounds']})",
        "rounds",
        "ours ÷ baseline",
        "target",
    ]
    return table(head, rows)


def engine_contention(r: R) -> str:
    rows: list[list[object]] = []
    for condition, c in r["conditions"].items():
        tps = c["tokens_per_second"]
        fixed = ", ".join(
            f"{k.removeprefix('bare_').replace('_threads', '')}: {v:.1f}"
            for k, v in tps.items()
            if k.startswith("bare_")
        )
        rows.append(
            [
                condition,
                f"{tps['ours_default']:.2f}",
                fixed,
                f"**{c['ours_over_best_fixed']}**",
                f"≥ {r['target']}",
            ]
        )
    head = [
        "condition",
        "ours, adaptive (tokens/s)",
        "bare loop by threads",
        "ours ÷ best",
        "target",
    ]
    return table(head, rows)


def engine_cold_start(r: R) -> str:
    s = r["seconds"]
    names = {
        "engine": "engine process, safe mode known",
        "engine_first_time": "engine process, machine seen for the first time",
        "in_process": "bare `LlamaSession` in this process",
    }
    rows = [
        [name, f"{s[k]:.2f} s", ", ".join(f"{x:.2f}" for x in r["all_rounds"][k])]
        for k, name in names.items()
    ]
    rows.append(["engine ÷ in-process", f"**{r['engine_over_in_process']}**", ""])
    return table(["ready to decode", f"median of {r['rounds']}", "rounds (s)"], rows)


def wait_cost(r: R) -> str:
    rows = [
        [
            name,
            f"{c['prompt_tokens']:,} tokens",
            f"{c['waits']}",
            msv(c["after_wait_ms_median"]),
            msv(c["normal_token_ms_median"]),
            f"**{c['wait_over_normal']}**",
            msv(c["full_prompt_reeval_ms"]),
        ]
        for name, c in r["contexts"].items()
    ]
    head = [
        "context",
        "prompt",
        "Waits",
        "after a Wait",
        "ordinary token",
        "Wait ÷ token",
        "prompt from scratch",
    ]
    return table(head, rows)


def download_throughput(r: R) -> str:
    cpu = r["cpu_s_median"]
    row = [
        f"{r['ours_MBps']} MB/s",
        f"{r['bare_hf_hub_download_MBps']} MB/s",
        f"**{r['ratio_ours_over_bare']}**",
        r["ratio_of_median_times"],
        f"{cpu['ours']} / {cpu['bare']} s",
        r["rounds"],
    ]
    head = [
        "ours",
        "bare `hf_hub_download`",
        "ratio (median of rounds)",
        "ratio of median times",
        "CPU per download, ours / bare",
        "rounds",
    ]
    return table(head, [row])


def gui_responsiveness(r: R) -> str:
    row = [
        f"{r['tokens_per_second']} tokens/s × {r['rounds']}",
        f"**{r['longest_stall_ms']} ms**",
        f"**{r['p99_latency_ms']} ms**",
        f"{r['p50_latency_ms']} ms",
        f"{r['baseline_idle_longest_ms']} / {r['baseline_idle_p99_ms']} ms",
        "yes" if r["met"] else "**no**",
    ]
    head = ["stream", "longest stall", "p99", "p50", "idle (longest / p99)", "targets met"]
    return table(head, [row])


def gui_startup(r: R) -> str:
    row = [
        f"**{r['launch_to_usable_window_s']:.2f} s**",
        f"{r['baseline_bare_qt_window_s']:.2f} s",
        f"{r['imports_only_s']:.2f} s",
        r["ratio_to_baseline"],
    ]
    head = [f"s1desk (median of {r['runs']})", "bare Qt window", "imports only", "ratio"]
    return table(head, [row])


def history_open(r: R) -> str:
    searches = r["search"].values()

    def span(key: str) -> str:
        values = [s[key] for s in searches if s["hits_on_first_page"]] or [0.0]
        return f"{msv(min(values))}–{msv(max(values))}"

    flush = r["recorder_flush"]
    rows = [
        [
            "open the store + first page of 50 + the first conversation's messages",
            f"**{r['open_and_first_page_ms_median']} ms** (max {r['open_and_first_page_ms_max']})",
            f"`sqlite3.connect` + `count(*)`: {r['baseline_connect_and_count_ms_median']} ms",
        ],
        [
            "search, first page of 20 with snippets (worst median of the queries)",
            f"**{r['search_ms_worst_median']} ms** (all: {span('fts_ms_median')})",
            f"`LIKE` scan: {span('like_scan_ms_median')}; the page's snippets by FTS5's "
            f"`snippet()`: {span('fts5_snippet_page_ms_median')}",
        ],
        [
            f"one recorder write while a long reasoning streams, p99 / max ({flush['flushes']})",
            f"**{flush['ms_p99']} / {flush['ms_max']} ms** (median {flush['ms_median']})",
            f"in-commit checkpoints: {flush['baseline_inline_checkpoint_ms_p99']} / "
            f"{flush['baseline_inline_checkpoint_ms_max']} ms",
        ],
    ]
    h = r["history"]
    size = (
        f"{h['conversations']:,} conversations, {h['messages']:,} messages, {h['database_mb']} MB"
    )
    return table(["measure", size, "baseline, same run"], rows)


def history_window(r: R) -> str:
    rows = [
        [
            "window construction to usable (target < 1 s)",
            f"**{r['window_to_usable_s']} s**",
            f"{r['window_to_usable_empty_history_s']} s (×{r['ratio_to_empty']})",
        ],
        [
            "process start to usable",
            f"{r['launch_to_usable_s']} s",
            f"{r['launch_to_usable_empty_s']} s",
        ],
        ["reopen the newest conversation (10 exchanges)", f"{r['reopen_10_exchanges_ms']} ms", "—"],
        ["search from the sidebar, first page", f"{r['search_from_sidebar_ms']} ms", "—"],
        ["page in the next 50 conversations", f"{r['page_in_50_ms']} ms", "—"],
    ]
    head = [
        f"measure (median of {r['runs']})",
        f"{r['history']['conversations']:,} conversations",
        "empty history",
    ]
    return table(head, rows)


def remote_overhead(r: R) -> str:
    row = [
        f"{r['app_tokens_per_s_median']}",
        f"{r['bare_tokens_per_s_median']}",
        f"**{r['app_over_bare']}**",
        ", ".join(str(x) for x in r["app_over_bare_by_round"]),
        f"{r['tokens']} × {r['rounds']}",
        f"≥ {r['target']}",
    ]
    head = ["app tokens/s", "bare client tokens/s", "app ÷ bare", "by round", "tokens", "target"]
    return table(head, [row])


def remote_wait_cost(r: R) -> str:
    row = [
        f"{r['prompt_tokens']:,}",
        f"{r['waits']}",
        f"**{msv(r['after_wait_ms_median'])}**",
        msv(r["fresh_full_prompt_first_token_ms_median"]),
        f"×{r['fresh_over_continuation']}",
    ]
    head = ["prompt tokens", "Waits", "after a Wait", "same prompt, cold", "cold ÷ Wait"]
    return table(head, [row])


def render_scaling(r: R) -> str:
    rows = []
    for shape, full in r["full_render"].items():
        stream = r["streamed"][shape]
        rows.append(
            [
                code(shape),
                f"{msv(full['n_ms'])} → {msv(full['8n_ms'])}",
                full["ratio"],
                f"{msv(stream['n_ms'])} → {msv(stream['8n_ms'])}",
                stream["ratio"],
            ]
        )
    head = ["shape", "full render n → 8n", "ratio", "streamed n → 8n", "ratio"]
    out = table(head, rows)
    reported = [[code(k), msv(v["ms"])] for k, v in r["reported_sizes"].items()]
    return out + "\n\n" + table(["reported answer (time before the fix)", "now"], reported)


def eval_throughput(r: R) -> str:
    row = [
        r["parallel"],
        f"{r['generations_per_round']} ({r['requests_per_round']} requests)",
        r["eval_generations_per_s_median"],
        r["bare_generations_per_s_median"],
        f"**{r['eval_over_bare']}**",
        ", ".join(str(x) for x in r["eval_over_bare_by_round"]),
        f"≥ {r['target']}",
    ]
    head = [
        "in flight",
        "generations a round",
        "eval gen/s",
        "bare gen/s",
        "eval ÷ bare (median of rounds)",
        "by round",
        "target",
    ]
    return table(head, [row])


def build_time(r: R) -> str:
    row = [r["source"], f"**{r['build_min']} min**", f"{r['download_s']} s"]
    return table(["source", "build (no cache)", "download"], [row])


RENDERERS: dict[str, Callable[[R], str]] = {
    f.__name__: f
    for f in (
        decode_throughput,
        engine_contention,
        engine_cold_start,
        wait_cost,
        download_throughput,
        gui_responsiveness,
        gui_startup,
        history_open,
        history_window,
        remote_overhead,
        remote_wait_cost,
        render_scaling,
        eval_throughput,
        build_time,
    )
}


def renderer(stem: str) -> Callable[[R], str] | None:
    base = stem.split("-", 1)[0]
    return RENDERERS.get(base) or RENDERERS.get(re.sub(r"_p\d+$", "", base))


def provenance(stem: str, r: R) -> str:
    m = r.get("machine", {})
    load = r.get("load_average", {})
    where = (
        f"{m.get('arch', '?')}, {m.get('cpu', '?')}, {m.get('cores', '?')} cores, "
        f"Python {m.get('python', '?')}"
    )
    if m.get("gpus"):
        where += ", " + ", ".join(m["gpus"])
    if m.get("model"):
        where += f"; model `{m['model']}`"
    if load:
        where += f"; load {load['start'][0]} at the start, {load['end'][0]} at the end"
    line = (
        f"Kept in [`benchmarks/results/{stem}.json`](benchmarks/results/{stem}.json): "
        f"{r.get('date', '?')[:10]}, {where}; `{r.get('command', '?')}`"
        f" (commit {r.get('commit', '?')})."
    )
    if r.get("note"):
        line += f" Conditions: {r['note']}"
    return line


#: The options the README's tables are measured with, where not the script's defaults.
OPTIONS = {
    "decode_throughput": " --rounds 5 --tokens 256",
    "remote_overhead": " --rounds 6 --tokens 120",
    "eval_throughput_p1": " --parallel 1",
    "eval_throughput_p2": " --parallel 2",
}


def block(stem: str) -> str:
    path = RESULTS / f"{stem}.json"
    if not path.exists():
        script = re.sub(r"_p\d+$", "", stem.split("-", 1)[0])
        label = f" --label {stem.split('-', 1)[1]}" if "-" in stem else ""
        return (
            f"*No kept result: run `.venv/bin/python benchmarks/{script}.py"
            f"{OPTIONS.get(stem, '')}{label}`, then `scripts/bench-tables`.*\n"
        )
    result: R = json.loads(path.read_text())
    render = renderer(stem)
    body = render(result) if render else "```json\n" + json.dumps(result, indent=2) + "\n```"
    return f"{body}\n\n{provenance(stem, result)}\n"


def rewrite(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + block(m.group(2)) + m.group(4), text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is stale")
    args = parser.parse_args()
    text = README.read_text()
    new = rewrite(text)
    missing = [
        m.group(2) for m in BLOCK.finditer(text) if not (RESULTS / f"{m.group(2)}.json").exists()
    ]
    if args.check:
        if new != text:
            print(
                "README.md's benchmark tables are stale: run scripts/bench-tables", file=sys.stderr
            )
            return 1
        return 0
    README.write_text(new)
    for stem in missing:
        print(f"no kept result for {stem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
