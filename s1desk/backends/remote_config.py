"""Settings for one remote OpenAI-compatible server, and the API key kept apart from them."""

from __future__ import annotations

from dataclasses import dataclass

from s1desk.backends.remote_errors import RemoteConfigError

#: Seconds without a byte from the server before a stream counts as stalled.
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 10.0


class ApiKey:
    """A secret that never shows itself in ``repr``, ``str`` or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ValueError("an API key cannot be empty")
        self._value = value

    def reveal(self) -> str:
        """The key itself, for the ``Authorization`` header only."""
        return self._value

    def __repr__(self) -> str:
        return "ApiKey('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class RemoteServerConfig:
    """Where the server is and how to talk to it. Holds no secret.

    ``model`` is the served model name (empty: the server's only model).
    ``context_length`` overrides the maximum context when the server does not
    report one (vLLM reports ``max_model_len``; llama_cpp.server does not).
    """

    base_url: str
    model: str = ""
    verify_tls: bool = True
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    context_length: int | None = None

    def __post_init__(self) -> None:
        url = self.base_url.strip()
        if not url.startswith(("http://", "https://")):
            raise RemoteConfigError(
                f"The server address must start with http:// or https://, not {url!r}."
            )
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise RemoteConfigError("timeouts must be above 0 seconds")
        if self.context_length is not None and self.context_length < 1:
            raise RemoteConfigError(f"context length must be positive, not {self.context_length}")

    @property
    def root(self) -> str:
        """The server root, without a trailing ``/`` or ``/v1``."""
        url = self.base_url.strip().rstrip("/")
        return url.removesuffix("/v1")
