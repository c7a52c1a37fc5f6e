"""The Hugging Face hub and cache in force now, and what the cache already holds."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from huggingface_hub import constants as hf_constants


def hub_cache_dir() -> Path:
    """The Hugging Face cache in force now (``HF_HUB_CACHE`` / ``HF_HOME`` read at call time)."""
    explicit = os.environ.get("HF_HUB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser() / "hub"
    return Path(hf_constants.HF_HUB_CACHE)


def hub_endpoint() -> str:
    """The hub address in force now (``HF_ENDPOINT``)."""
    return os.environ.get("HF_ENDPOINT", hf_constants.ENDPOINT).rstrip("/")


def cached_path(
    repo_id: str, filenames: Sequence[str], revision: str = "main", cache_dir: Path | None = None
) -> Path | None:
    """The cached first file when every one of ``filenames`` is already in the cache."""
    from huggingface_hub import try_to_load_from_cache

    found: list[Path] = []
    for name in filenames:
        hit = try_to_load_from_cache(
            repo_id, name, cache_dir=cache_dir or hub_cache_dir(), revision=revision
        )
        if not isinstance(hit, str):
            return None
        found.append(Path(hit))
    return found[0] if found else None
