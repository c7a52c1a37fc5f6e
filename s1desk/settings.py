"""The app's settings: a typed, versioned schema with s1's defaults, kept as JSON."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from s1desk import paths
from s1desk.errors import PolicyError
from s1desk.sampling import SamplerSettings
from s1desk.thinking.format import DEFAULT_SYSTEM_PROMPT
from s1desk.thinking.policy import BudgetPolicy

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
FILE_NAME = "settings.json"


@dataclass(frozen=True, slots=True)
class AppSettings:
    """Everything the app remembers between runs (no conversations, no secrets)."""

    #: Budget forcing for new messages (s1's defaults: 4,000 thinking tokens, up to 6 Waits).
    policy: BudgetPolicy = field(default_factory=BudgetPolicy)
    #: Sampling; temperature 0 (greedy) is the paper's setting.
    sampler: SamplerSettings = field(default_factory=SamplerSettings)
    #: The system prompt s1 was trained with.
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    #: The GGUF opened last; reopened at start unless S1DESK_MODEL names another.
    last_model: str = ""
    #: Context window for local models, in tokens.
    context_size: int = 32_768
    #: Layers put on the GPU at load (-1: all that llama.cpp can place; 0: CPU only).
    gpu_layers: int = -1
    #: Decoding threads (0: automatic, adapting to how busy the machine is).
    threads: int = 0
    #: Prompt-evaluation threads (0: automatic).
    threads_batch: int = 0
    #: The KV cache's element type: "f16", "q8_0" or "q4_0" (quantized ones need flash
    #: attention, which is then turned on).
    kv_type: str = "f16"
    #: How the model marks its thinking: "auto" (read from the GGUF), "s1", "think-tags"
    #: or "gpt-oss".
    thinking_format: str = "auto"
    #: Flash attention: smaller compute buffers.
    flash_attn: bool = False
    #: Collapse the reasoning pane when the answer starts.
    auto_collapse_reasoning: bool = False
    #: The reasoning pane is collapsed.
    reasoning_collapsed: bool = False
    #: "system" follows the desktop's light or dark scheme; "light" or "dark" fix it.
    theme: str = "system"
    #: Window geometry and splitter state (Qt's base64 blobs; opaque here).
    window_geometry: str = ""
    splitter_state: str = ""

    def replace(self, **changes: Any) -> AppSettings:
        return dataclasses.replace(self, **changes)


def _to_json(settings: AppSettings) -> dict[str, Any]:
    data = {f.name: getattr(settings, f.name) for f in fields(settings)}
    data["policy"] = dataclasses.asdict(settings.policy)
    data["sampler"] = dataclasses.asdict(settings.sampler)
    return {"version": SCHEMA_VERSION, **data}


def _known(cls: type[Any], data: Any) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names} if isinstance(data, dict) else {}


def _from_json(data: dict[str, Any]) -> AppSettings:
    defaults = AppSettings()
    values = _known(AppSettings, data)
    values["policy"] = BudgetPolicy(**_known(BudgetPolicy, data.get("policy")))
    values["sampler"] = SamplerSettings(**_known(SamplerSettings, data.get("sampler")))
    for f in fields(AppSettings):
        if f.name in values and f.name not in ("policy", "sampler"):
            expected = type(getattr(defaults, f.name))
            if not isinstance(values[f.name], expected):
                log.warning("setting %s has the wrong type; using the default", f.name)
                values[f.name] = getattr(defaults, f.name)
    return AppSettings(**values)


#: Migrations from version N to N+1, applied in order to older files.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    version = data.get("version", SCHEMA_VERSION)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ValueError(f"settings version {version!r} is newer than this s1desk")
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    return data


def settings_path() -> Path:
    return paths.config_dir() / FILE_NAME


def load_settings(path: Path | None = None) -> AppSettings:
    """Read the settings; a missing file gives the defaults, a broken one is set aside."""
    path = path or settings_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return AppSettings()
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return _from_json(_migrate(data))
    except (ValueError, TypeError, PolicyError) as exc:
        backup = path.with_suffix(".broken.json")
        os.replace(path, backup)
        log.warning("settings file %s is unreadable (%s); kept as %s", path, exc, backup)
        return AppSettings()


def save_settings(settings: AppSettings, path: Path | None = None) -> None:
    """Write the settings atomically."""
    path = path or settings_path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_to_json(settings), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
