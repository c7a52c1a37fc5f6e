"""Render time against answer size: near-linear for normal and pathological answers alike.

For each shape (a normal answer with prose, math, code and a table, and the
shapes that used to be quadratic: unclosed ``\\boxed{``, unclosed ``\\(``,
unclosed ``\\begin{align}`` lines, a long table, open links), renders an
answer of n and of 8n characters, 8n staying under the markdown limit
(``MAX_MARKDOWN``), and reports time(8n)/time(n): about 8 is linear, about
64 quadratic. It does the same for a streamed answer (updates every 200
characters, the way the transcript receives them: total time of all
updates) and for the reported sizes, which now pass the limit. Each figure
is the median of ROUNDS runs, the n and 8n runs alternating which goes first.

Usage: .venv/bin/python benchmarks/render_scaling.py [--rounds R]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from _common import median, parse_args, report
from s1desk.render.markdown import MAX_MARKDOWN, render_markdown
from s1desk.render.stream import StreamingMarkdown

SMALL = 3_900  # n; 8n = 31,200 characters, under the limit
STEP = 200  # characters per streamed update


def repeat(unit: str, chars: int) -> str:
    return unit * max(1, chars // len(unit))


NORMAL_UNIT = (
    "### Step\n\nAdd the terms $a_k + b_k$ and check the partial sum "
    "$$S_k = \\sum_{i=1}^{k} i$$ before going on, as in \\(\\frac{a}{b}\\).\n\n"
    "```python\ndef step(x):\n    return x + 1\n```\n\n| k | S |\n|---|---|\n| 1 | 1 |\n\n"
)
SHAPES: dict[str, Callable[[int], str]] = {
    "normal answer": lambda n: repeat(NORMAL_UNIT, n) + "So the total is \\boxed{42}.",
    "unclosed \\boxed{": lambda n: repeat("\\boxed{x ", n),
    "unclosed \\(": lambda n: repeat("\\( ", n),
    "unclosed \\begin{align} lines": lambda n: repeat("\\begin{align}\n", n),
    "long table": lambda n: "a|b\n-|-\n" + repeat("1|2\n", n),
    "open links": lambda n: repeat("[a](", n),
}
REPORTED = {
    "5,000 unclosed \\boxed{ (was 11.4 s)": "\\boxed{x " * 5000,
    "50,000 \\( (was 5.1 s)": "\\(" * 50_000,
    "3,000 unclosed \\begin{align} lines (was 4.7 s)": "\\begin{align}\n" * 3000,
}


def full(text: str) -> float:
    start = time.perf_counter()
    render_markdown(text)
    return time.perf_counter() - start


def streamed(text: str) -> float:
    renderer = StreamingMarkdown()
    start = time.perf_counter()
    for end in range(STEP, len(text) + STEP, STEP):
        renderer.update(text[:end], final=end >= len(text))
    return time.perf_counter() - start


def scaling(
    shape: Callable[[int], str], timer: Callable[[str], float], rounds: int
) -> dict[str, float]:
    small, large = shape(SMALL), shape(8 * SMALL)
    assert len(large) <= MAX_MARKDOWN
    times: dict[str, list[float]] = {"n": [], "8n": []}
    for k in range(rounds):
        order = [("n", small), ("8n", large)]
        for name, text in order if k % 2 == 0 else reversed(order):
            times[name].append(timer(text))
    t_small, t_large = median(times["n"]), median(times["8n"])
    return {
        "n_chars": len(small),
        "8n_chars": len(large),
        "n_ms": round(t_small * 1000, 2),
        "8n_ms": round(t_large * 1000, 2),
        "ratio": round(t_large / t_small, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parse_args(parser)
    full_render = {name: scaling(shape, full, args.rounds) for name, shape in SHAPES.items()}
    stream = {name: scaling(shape, streamed, args.rounds) for name, shape in SHAPES.items()}
    reported = {
        name: {
            "chars": len(text),
            "ms": round(median([full(text) for _ in range(args.rounds)]) * 1000, 2),
        }
        for name, text in REPORTED.items()
    }
    report(
        "render_scaling",
        {
            "max_markdown": MAX_MARKDOWN,
            "stream_step": STEP,
            "rounds": args.rounds,
            "full_render": full_render,
            "streamed": stream,
            "reported_sizes": reported,
        },
    )


if __name__ == "__main__":
    main()
