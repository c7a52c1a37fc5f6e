"""Where s1desk keeps user state; ``S1DESK_HOME`` moves all of it to one directory."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "s1desk"
HOME_VARIABLE = "S1DESK_HOME"


def _home() -> Path | None:
    value = os.environ.get(HOME_VARIABLE)
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    """Settings files (never secrets: API keys live in the system keyring)."""
    home = _home()
    path = home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """The conversation database and other lasting data."""
    home = _home()
    path = home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Disposable files; model downloads go to the Hugging Face cache, not here."""
    home = _home()
    path = home / "cache" if home else Path(platformdirs.user_cache_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    home = _home()
    path = home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path
