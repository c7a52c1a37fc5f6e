"""Sampler settings refuse what no sampler can use, with a message."""

from __future__ import annotations

import pytest

from s1desk.errors import PolicyError
from s1desk.sampling import SamplerSettings


@pytest.mark.parametrize("field", ["temperature", "top_p", "min_p", "repeat_penalty"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_refused(field: str, value: float) -> None:
    with pytest.raises(PolicyError, match="must be a finite number"):
        SamplerSettings(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"temperature": "0.7"}, "temperature must be a number"),
        ({"top_k": 2.5}, "top-k must be a whole number"),
        ({"top_k": 10**30}, "top-k must be a whole number"),
        ({"seed": -1}, "seed must be a whole number from 0"),
        ({"seed": 10**30}, "seed must be a whole number from 0"),
        ({"temperature": -0.1}, "temperature must be 0 or more"),
    ],
)
def test_values_out_of_range_are_refused(settings: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        SamplerSettings(**settings)  # type: ignore[arg-type]


def test_ordinary_settings_pass() -> None:
    s = SamplerSettings(temperature=0.7, top_p=0.95, top_k=40, min_p=0.05, seed=2**32 - 1)
    assert not s.greedy
    assert SamplerSettings().greedy
