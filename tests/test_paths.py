"""S1DESK_HOME moves every piece of user state."""

from __future__ import annotations

from pathlib import Path

import pytest

from s1desk import paths


def test_home_variable_moves_everything(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("S1DESK_HOME", str(tmp_path))
    for fn in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir):
        directory = fn()
        assert directory.is_dir()
        assert directory.parent == tmp_path
