"""Settings for one remote OpenAI-compatible server, and the API key kept apart from them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx

from s1desk.backends.remote_errors import RemoteConfigError

#: Seconds without a byte from the server before a stream counts as stalled.
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 10.0
#: The longest timeout accepted (a day): longer ones overflow the event loop's timers.
MAX_TIMEOUT = 86_400.0
#: The largest context length accepted (far above any served model).
MAX_CONTEXT_LENGTH = 1 << 24


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
        check_server_url(self.base_url)
        for name, value in (("connect", self.connect_timeout), ("read", self.read_timeout)):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not 0 < value <= MAX_TIMEOUT
            ):
                raise RemoteConfigError(
                    f"The {name} timeout must be above 0 and at most {MAX_TIMEOUT:g} seconds, "
                    f"not {value!r}."
                )
        length = self.context_length
        if length is not None and (
            isinstance(length, bool)
            or not isinstance(length, int)
            or not 1 <= length <= MAX_CONTEXT_LENGTH
        ):
            raise RemoteConfigError(
                f"context length must be positive and at most {MAX_CONTEXT_LENGTH:,}, "
                f"not {length!r}"
            )

    @property
    def root(self) -> str:
        """The server root, without a trailing ``/`` or ``/v1``."""
        url = self.base_url.strip().rstrip("/")
        return url.removesuffix("/v1")


def check_server_url(value: object) -> None:
    """Refuse a server address that is not a usable ``http(s)://host[:port][/path]``.

    An address holding a user name and password is refused too: it would be
    echoed in messages and saved in clear. The message never repeats the
    password.
    """
    if not isinstance(value, str):
        raise RemoteConfigError(f"The server address must be text, not {type(value).__name__}.")
    url = value.strip()
    shown = redact_url(url)
    if not url.startswith(("http://", "https://")):
        raise RemoteConfigError(
            f"The server address must start with http:// or https://, not {shown!r}."
        )
    try:
        parsed = httpx.URL(url)
        host, port = parsed.host, parsed.port
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise RemoteConfigError(f"The server address {shown!r} is not a valid URL: {exc}.") from exc
    if port is not None and not 0 < port < 65536:
        raise RemoteConfigError(
            f"The server address {shown!r} is not a valid URL: port {port} is out of range."
        )
    if not host:
        raise RemoteConfigError(f"The server address {shown!r} names no host.")
    if parsed.userinfo:
        raise RemoteConfigError(
            f"The server address {shown!r} holds a user name or password. s1desk does not "
            "keep credentials in addresses (they would show in messages and be saved in "
            "clear): remove them, and give the server's key as its API key, which is kept "
            "in the system keyring."
        )


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" not in authority:
        return url
    return f"{scheme}://***@{authority.rpartition('@')[2]}{slash}{path}"
