"""The settings file: defaults, round trip, bad files set aside, S1DESK_HOME honoured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s1desk.sampling import SamplerSettings
from s1desk.settings import AppSettings, load_settings, save_settings, settings_path
from s1desk.thinking.format import DEFAULT_SYSTEM_PROMPT
from s1desk.thinking.policy import BudgetPolicy


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("S1DESK_HOME", str(tmp_path))
    return tmp_path


def test_defaults_are_s1s(home: Path) -> None:
    s = load_settings()
    assert s == AppSettings()
    assert s.sampler.temperature == 0
    assert s.policy.max_thinking == 4000
    assert s.policy.max_waits == 6
    assert s.system_prompt == DEFAULT_SYSTEM_PROMPT
    assert settings_path().parent == home / "config"


def test_round_trip() -> None:
    s = AppSettings(
        policy=BudgetPolicy(max_thinking=900, min_thinking=300, max_waits=2),
        sampler=SamplerSettings(temperature=0.6, seed=7),
        last_model="/m/s1.gguf",
        reasoning_collapsed=True,
        theme="dark",
    )
    save_settings(s)
    assert load_settings() == s
    assert json.loads(settings_path().read_text())["version"] == 1


def test_broken_file_is_set_aside_and_defaults_used() -> None:
    path = settings_path()
    path.write_text("{not json")
    assert load_settings() == AppSettings()
    assert path.with_suffix(".broken.json").read_text() == "{not json"


def test_out_of_range_or_mistyped_values() -> None:
    path = settings_path()
    path.write_text(json.dumps({"version": 1, "policy": {"max_thinking": -5}}))
    assert load_settings() == AppSettings()  # invalid policy: the file is set aside
    path.write_text(json.dumps({"version": 1, "theme": 3, "unknown": 1}))
    assert load_settings().theme == "system"
