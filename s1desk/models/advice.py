"""Which build to get for this machine and the settings that make it fit: one answer, given
to the Models window and to ``s1desk models fit`` alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from s1desk.models.architecture import Architecture
from s1desk.models.catalog import CatalogModel
from s1desk.models.fit import (
    USUAL_BITS_PER_WEIGHT,
    Fit,
    KvType,
    Setting,
    Verdict,
    assess,
    assess_catalog,
    recommend,
    settings_that_fit,
)
from s1desk.models.hardware import Hardware


@dataclass(frozen=True, slots=True)
class ModelFits:
    """Every build of one catalog model, assessed."""

    model: CatalogModel
    fits: tuple[Fit, ...]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A setting (context, KV cache, flash attention) that makes ``target`` fit whole."""

    target: Fit
    setting: Setting


@dataclass(frozen=True, slots=True)
class Advice:
    """The recommendation for a machine and the settings asked about."""

    models: tuple[ModelFits, ...]
    recommended: Fit | None  # over every build of every model; None when nothing fits
    model: CatalogModel | None  # the recommended build's model
    suggestion: Suggestion | None  # a change of settings worth offering, if any


def advise(
    models: Sequence[CatalogModel],
    hardware: Hardware,
    n_ctx: int,
    kv_type: KvType = KvType.F16,
    *,
    flash_attn: bool = False,
) -> Advice:
    """Assess every build and recommend one, with :func:`~s1desk.models.fit.recommend` over
    all of them (whole on a GPU first, then the most capacity; on a CPU, weights a CPU can
    decode at a usable speed).

    A suggestion is offered on a GPU machine: for the recommended build when it is not
    whole on the GPU, else for its model's build nearest Q4_K_M when that one is only
    partly offloaded; when nothing fits, for the smallest build of the first model.
    A suggestion equal to the settings asked about is none.
    """
    assessed = tuple(
        ModelFits(
            m,
            tuple(
                assess_catalog(
                    m.architecture, m.quantizations, hardware, n_ctx, kv_type, flash_attn=flash_attn
                )
            ),
        )
        for m in models
    )
    best = recommend([f for m in assessed for f in m.fits])
    chosen = next((m for m in assessed if best is not None and best in m.fits), None)
    target: Fit | None = None
    arch: Architecture | None = None
    if chosen is None or best is None:
        first = models[0] if models else None
        if first is not None and first.quantizations:
            q = min(first.quantizations, key=lambda q: q.size)
            target = assess(first.architecture, q.size, hardware, n_ctx, label=q.label)
            arch = first.architecture
    elif hardware.usable_gpus:
        arch = chosen.model.architecture
        if best.verdict is not Verdict.GPU:
            target = best
        else:
            usual = min(chosen.fits, key=lambda f: abs(_bits(f) - USUAL_BITS_PER_WEIGHT))
            if usual.verdict is Verdict.PARTIAL:
                target = usual
    suggestion = None
    if target is not None and arch is not None:
        suggestion = suggest(arch, target, hardware, n_ctx, kv_type, flash_attn=flash_attn)
    return Advice(assessed, best, chosen.model if chosen else None, suggestion)


def suggest(
    arch: Architecture,
    target: Fit,
    hardware: Hardware,
    n_ctx: int,
    kv_type: KvType = KvType.F16,
    *,
    flash_attn: bool = False,
) -> Suggestion | None:
    """The least change of settings that makes ``target`` fit whole (on the GPU when there
    is one, else in RAM); ``None`` when none does or it is the current one."""
    setting = settings_that_fit(arch, target.estimate.weights, hardware, n_ctx, label=target.label)
    if setting is None or (setting.n_ctx, setting.kv_type, setting.flash_attn) == (
        n_ctx,
        kv_type,
        flash_attn,
    ):
        return None
    return Suggestion(target, setting)


def _bits(f: Fit) -> float:
    return f.quant.bits_per_weight if f.quant else 0.0
