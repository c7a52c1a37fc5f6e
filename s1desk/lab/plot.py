"""The scaling curve as PNG and SVG: accuracy against mean thinking tokens, 95% intervals."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

# The object API with the Agg canvas: files only, no pyplot state, no GUI toolkit.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from s1desk.lab.points import Point

PLOT_STEM = "scaling"


def _figure(points: Sequence[Point], title: str) -> Figure:
    figure = Figure(figsize=(6.4, 4.2), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for k in sorted({p.k for p in points}):
        series = sorted((p for p in points if p.k == k), key=lambda p: p.budget)
        xs = [p.mean_thinking_tokens for p in series]
        ys = [100 * p.accuracy for p in series]
        low = [100 * (p.accuracy - p.ci_low) for p in series]
        high = [100 * (p.ci_high - p.accuracy) for p in series]
        label = "first sample" if k == 1 else f"majority of {k}"
        axes.errorbar(xs, ys, yerr=[low, high], marker="o", capsize=3, label=label)
        for p, x, y in zip(series, xs, ys, strict=True):
            axes.annotate(
                str(p.budget), (x, y), textcoords="offset points", xytext=(4, -12), fontsize=7
            )
    axes.set_xlabel("mean thinking tokens")
    axes.set_ylabel("accuracy (%)")
    axes.set_ylim(-2, 102)
    axes.set_title(title, fontsize=10)
    axes.grid(True, alpha=0.3)
    if points:
        axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    return figure


def write_plot(directory: Path, points: Sequence[Point], title: str) -> list[Path]:
    """Draw ``points`` into ``scaling.png`` and ``scaling.svg`` (each replaced whole)."""
    figure = _figure(points, title)
    paths: list[Path] = []
    for suffix in ("png", "svg"):
        path = directory / f"{PLOT_STEM}.{suffix}"
        tmp = path.with_name(f".{path.name}.tmp")
        figure.savefig(tmp, format=suffix, metadata=_metadata(suffix))
        os.replace(tmp, path)
        paths.append(path)
    return paths


def _metadata(suffix: str) -> dict[str, str | None]:
    # No creation date: the same points make the same file.
    return {"Date": None} if suffix == "svg" else {"Software": "s1desk"}
