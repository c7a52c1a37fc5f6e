"""Remembering that llama.cpp's extra CPU kernels crash on this machine, and saying so once."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import platform
from pathlib import Path
from typing import Any

from s1desk import paths

log = logging.getLogger(__name__)

FILE_NAME = "engine.json"


def machine_signature() -> str:
    """This CPU and this llama.cpp build: a fault found for one holds for both."""
    try:
        version = importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    cpu = platform.processor() or platform.machine()
    flags = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith("model name") and cpu in ("", platform.machine()):
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = line.split(":", 1)[1].strip()
                break
    digest = hashlib.sha256(f"{version}|{cpu}|{flags}".encode()).hexdigest()[:16]
    return f"llama-cpp-python {version} on {cpu} ({digest})"


class SafeMode:
    """The record, in the data directory, of machines where extra buffer types crash."""

    def __init__(self, path: Path | None = None, signature: str | None = None) -> None:
        self.path = path or paths.data_dir() / FILE_NAME
        self.signature = signature or machine_signature()

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.chmod(tmp, 0o600)
            tmp.replace(self.path)
        except OSError as exc:  # a read-only or full disk: the fault is found again next time
            log.warning("could not remember the engine's safe mode in %s: %s", self.path, exc)

    def _entry(self) -> dict[str, Any] | None:
        entry = self._read().get(self.signature)
        return entry if isinstance(entry, dict) else None

    def needed(self) -> bool:
        """Whether extra buffer types are known to crash here."""
        return self._entry() is not None

    def remember(self, tokens_per_second: float, signal_name: str) -> None:
        """Extra buffer types crashed here (by ``signal_name``); ``tokens_per_second`` is
        the safe mode's decode speed (0 when unknown)."""
        data = self._read()
        entry = data.get(self.signature)
        told = isinstance(entry, dict) and bool(entry.get("told"))
        data[self.signature] = {
            "told": told,
            "signal": signal_name,
            "tokens_per_second": round(tokens_per_second, 1),
        }
        self._write(data)

    def notice(self) -> str | None:
        """The message about safe mode, the first time it is asked for; later None."""
        data = self._read()
        entry = data.get(self.signature)
        if not isinstance(entry, dict) or entry.get("told"):
            return None
        entry["told"] = True
        self._write(data)
        rate = entry.get("tokens_per_second")
        sig = entry.get("signal")
        how = f" ({sig})" if isinstance(sig, str) and sig.isalnum() else ""
        figure = (
            f" Decoding in this mode measured {rate:.1f} tokens/s at load."
            if isinstance(rate, int | float) and rate > 0
            else ""
        )
        return (
            "llama.cpp's extra CPU kernels (AMX and repacked weights) crashed on this processor"
            f"{how}, so s1desk runs llama.cpp without them on this machine."
            f"{figure} Nothing else changes; answers are the same."
        )
