"""The one exception tree of s1desk, caught at the UI and CLI boundaries."""

from __future__ import annotations


class S1DeskError(Exception):
    """Base of every error s1desk raises on purpose; its message is for people."""


class ModelLoadError(S1DeskError):
    """A model file is missing, not a GGUF, truncated, or llama.cpp refused it."""


class ContextOverflowError(S1DeskError):
    """The prompt (with room for an answer) does not fit in the context window."""


class BackendBusyError(S1DeskError):
    """A backend that serves one request at a time was asked for a second one."""


class BackendClosedError(S1DeskError):
    """A backend was used after it was closed."""


class PolicyError(S1DeskError, ValueError):
    """A budget policy or sampler setting is out of range."""
