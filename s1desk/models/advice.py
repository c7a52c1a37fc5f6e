"""Which build to get for this machine and the settings that make it fit: one answer, given
to the Models window and to ``s1desk models fit`` alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from s1desk.models.architecture import Architecture
from s1desk.models.bandwidth import Bandwidth
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
from s1desk.models.speed import Speed, estimate_speed


@dataclass(frozen=True, slots=True)
class ModelFits:
    """Every build of one catalog model, assessed."""

    model: CatalogModel
    fits: tuple[Fit, ...]
    speeds: tuple[Speed | None, ...] = ()  # beside ``fits``; empty when no bandwidth is known

    def speed(self, fit: Fit) -> Speed | None:
        """The estimated decode speed of ``fit`` here (None: unknown or it does not fit)."""
        for f, s in zip(self.fits, self.speeds, strict=False):
            if f is fit:
                return s
        return None


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

    def speed(self, fit: Fit) -> Speed | None:
        """The estimated decode speed of ``fit`` (a build of one of the models) here."""
        for m in self.models:
            if fit in m.fits:
                return m.speed(fit)
        return None


def advise(
    models: Sequence[CatalogModel],
    hardware: Hardware,
    n_ctx: int,
    kv_type: KvType = KvType.F16,
    *,
    flash_attn: bool = False,
    bandwidth: Bandwidth | None = None,
) -> Advice:
    """Assess every build and recommend one.

    With the machine's ``bandwidth`` each build gets a decode speed estimate, and the
    recommendation is what answers a typical thinking budget in minutes
    (:func:`recommend_by_speed`); without it, :func:`~s1desk.models.fit.recommend` over
    all of them (whole on a GPU first, then the most capacity).

    A suggestion is offered on a GPU machine: for the recommended build when it is not
    whole on the GPU, else for its model's build nearest Q4_K_M when that one is only
    partly offloaded; when nothing fits, for the smallest build of the first model.
    A suggestion equal to the settings asked about is none.
    """
    assessed = []
    for m in models:
        fits = tuple(
            assess_catalog(
                m.architecture, m.quantizations, hardware, n_ctx, kv_type, flash_attn=flash_attn
            )
        )
        speeds = (
            tuple(estimate_speed(m.architecture, f, bandwidth) for f in fits)
            if bandwidth is not None
            else ()
        )
        assessed.append(ModelFits(m, fits, speeds))
    # s1 is what this app is for: its builds are recommended when any of them will do;
    # the other reasoning families are offered beside them, assessed alike.
    s1_models = [m for m in assessed if m.model.format == "s1"]
    pools = [s1_models, assessed] if s1_models else [assessed]
    best = None
    for pool in pools:
        if bandwidth is not None:
            best = recommend_by_speed(
                [
                    (f, s, parameters(m.model.architecture))
                    for m in pool
                    for f, s in zip(m.fits, m.speeds, strict=True)
                ]
            )
        else:
            best = recommend([f for m in pool for f in m.fits])
        if best is not None:
            break
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
    return Advice(tuple(assessed), best, chosen.model if chosen else None, suggestion)


#: Builds at least this many bits per weight keep the model's quality (about Q4_K_S and up);
#: below it small models lose much, so a bigger model at 2-3 bits is not preferred.
GOOD_BITS_PER_WEIGHT = 4.4


def parameters(arch: Architecture) -> float:
    """About how many weights a model has (its layers and its vocabulary tables)."""
    return arch.n_layers * 16 * arch.n_embd**2 + 2 * arch.n_vocab * arch.n_embd


def recommend_by_speed(options: Sequence[tuple[Fit, Speed | None, float]]) -> Fit | None:
    """What answers in minutes, from (build, its speed here, its model's parameters).

    Among the builds whose typical thinking budget finishes within
    :data:`~s1desk.models.speed.ANSWER_IN_SECONDS`: a good quantization first, then the
    biggest model (bits below ~4.5 per weight counted as lost capacity), then the build
    nearest Q4_K_M. When none is that fast, the fastest.
    """
    known = [(f, s, p) for f, s, p in options if s is not None and f.verdict is not Verdict.NO_FIT]
    if not known:
        return None
    fast = [o for o in known if o[1].answers_in_minutes]
    if not fast:
        return max(known, key=lambda o: (o[1].tokens_per_s, -abs(_bits(o[0]) - 4.85)))[0]

    def quality(option: tuple[Fit, Speed, float]) -> tuple[bool, float, float, float]:
        f, s, params = option
        bpw = _bits(f)
        return (
            bpw >= GOOD_BITS_PER_WEIGHT,
            params * min(bpw, 4.5) / 4.5,
            -abs(bpw - USUAL_BITS_PER_WEIGHT),
            s.tokens_per_s,
        )

    return max(fast, key=quality)[0]


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
