"""Loads a local model off the GUI thread, with a cancel that discards the late result."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from s1desk.backends.local_config import KV_TYPES, LocalModelConfig
from s1desk.errors import S1DeskError
from s1desk.settings import AppSettings
from s1desk.thinking.formats import FORMAT_CHOICES
from s1desk.ui.kit.tasks import Tasks

log = logging.getLogger(__name__)


def load_config(path: Path, settings: AppSettings) -> LocalModelConfig:
    """How the settings say to load ``path`` (0 threads: automatic; a quantized KV cache
    turns flash attention on). Raises ``ModelLoadError`` for values out of range."""
    kv = settings.kv_type if settings.kv_type in KV_TYPES else "f16"
    fmt = settings.thinking_format if settings.thinking_format in FORMAT_CHOICES else "auto"
    return LocalModelConfig(
        path=path,
        n_ctx=settings.context_size,
        n_gpu_layers=settings.gpu_layers,
        n_threads=settings.threads or None,
        n_threads_batch=settings.threads_batch or None,
        kv_type=kv,
        flash_attn=settings.flash_attn or kv != "f16",
        thinking_format=fmt,
    )


class ModelLoader(QObject):
    """One load at a time. llama.cpp gives no progress while loading, so the
    window shows a busy state; ``cancel`` returns at once and the model, when
    it arrives from the worker thread, is closed instead of used."""

    started = Signal(str)  # path
    loaded = Signal(object, str)  # the LocalBackend, its path
    failed = Signal(str)  # a message for the user
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._current_live = False
        self._tasks = Tasks()

    @property
    def loading(self) -> bool:
        """A load is in progress and has not been cancelled."""
        return self._current_live

    def load(self, config: LocalModelConfig) -> None:
        """Start loading ``config.path``; a load in progress is cancelled first."""
        if self._current_live:
            self.cancel()
        self._generation += 1
        self._current_live = True
        self._tasks.spawn(self._load(config, self._generation))
        self.started.emit(str(config.path))

    def cancel(self) -> None:
        """Abandon the load in progress; its result will be closed when it comes."""
        if not self._current_live:
            return
        self._generation += 1
        self._current_live = False
        self.cancelled.emit()

    async def shutdown(self) -> None:
        """Cancel and wait until every abandoned model has been closed."""
        self.cancel()
        await self._tasks.wait()

    async def _load(self, config: LocalModelConfig, generation: int) -> None:
        if not config.path.is_file():
            self._fail(generation, f"There is no model file at {config.path}.")
            return
        # llama.cpp is imported on first load, not at start: the window opens sooner.
        from s1desk.backends.local import LocalBackend

        try:
            backend = await LocalBackend.load(config)
        except S1DeskError as exc:
            self._fail(generation, str(exc))
            return
        except Exception as exc:
            log.exception("loading %s failed", config.path)
            self._fail(generation, f"Could not load {config.path.name}: {exc}")
            return
        if generation != self._generation:
            log.info("discarding %s: its load was cancelled", config.path)
            await backend.aclose()
            return
        self._current_live = False
        self.loaded.emit(backend, str(config.path))

    def _fail(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self._current_live = False
            self.failed.emit(message)
