"""What can go wrong talking to a remote server, each failure its own class."""

from __future__ import annotations

from s1desk.errors import S1DeskError


class RemoteError(S1DeskError):
    """A remote OpenAI-compatible server could not serve a request."""


class RemoteConfigError(RemoteError, ValueError):
    """A server setting is malformed (address, timeout, context length)."""


class ServerUnreachableError(RemoteError):
    """Nothing answers at the address (refused, unknown host, connect timeout)."""


class TLSVerificationError(RemoteError):
    """The TLS handshake failed, usually an untrusted or mismatched certificate."""


class AuthenticationError(RemoteError):
    """The server rejected the API key (HTTP 401 or 403)."""


class ModelNotFoundError(RemoteError):
    """The server does not serve the configured model name."""


class NotOpenAICompatibleError(RemoteError):
    """Something answers, but not with the OpenAI-compatible API."""


class StreamStalledError(RemoteError):
    """The server sent nothing for longer than the read timeout."""


class ServerDisconnectedError(RemoteError):
    """The connection dropped before the stream ended (the server died or restarted)."""


class MalformedResponseError(RemoteError):
    """The server broke HTTP or the API's format (a false Content-Length, a bad status line)."""


class MalformedStreamError(MalformedResponseError):
    """The stream held data that is not the OpenAI streaming format."""


class ResponseTooLargeError(MalformedResponseError):
    """A response, a stream line or a decompressed body passed the client's size limit."""


class ServerRequestError(RemoteError):
    """The server refused a request with an HTTP error, its message included."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
