"""What a download reports as it runs: frozen values, safe to hand to any thread."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class DownloadProgress:
    """Bytes so far. ``speed`` in bytes/s over the last seconds; ``eta_s`` is None until known."""

    repo_id: str
    filename: str
    file_index: int
    file_count: int
    done: int
    total: int
    speed: float
    eta_s: float | None
    phase: str = "downloading"  # or "verifying", "resuming"

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class DownloadPaused:
    repo_id: str
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class DownloadFinished:
    """Every file is in the Hugging Face cache and verified; ``path`` is the one to load."""

    repo_id: str
    path: Path
    paths: tuple[Path, ...]
    downloaded_bytes: int
    reused: bool


@dataclass(frozen=True, slots=True)
class DownloadCancelled:
    """Stopped by the user; the partial file is kept so a later start resumes it."""

    repo_id: str
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class DownloadFailed:
    """A message for people, and ``kind``: auth, gated, not_found, network, disk_full,
    integrity, busy or other."""

    repo_id: str
    message: str
    kind: str


DownloadEvent = (
    DownloadProgress | DownloadPaused | DownloadFinished | DownloadCancelled | DownloadFailed
)
