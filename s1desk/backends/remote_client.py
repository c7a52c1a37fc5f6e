"""A small async client for the OpenAI-compatible HTTP API, with clear errors."""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from s1desk.backends.remote_body import (
    ACCEPT_ENCODING,
    lines,
    parse_json,
    read_body,
    read_error_text,
    short,
)
from s1desk.backends.remote_config import ApiKey, RemoteServerConfig
from s1desk.backends.remote_errors import (
    AuthenticationError,
    MalformedResponseError,
    MalformedStreamError,
    ModelNotFoundError,
    NotOpenAICompatibleError,
    RemoteError,
    ServerDisconnectedError,
    ServerRequestError,
    ServerUnreachableError,
    StreamStalledError,
    TLSVerificationError,
)
from s1desk.backends.sse import json_events
from s1desk.errors import ContextOverflowError

log = logging.getLogger(__name__)

#: Largest token count or id believed from a server; anything above is a lie.
MAX_COUNT = 1 << 31


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One entry of ``/v1/models``."""

    id: str
    owned_by: str = ""
    max_model_len: int | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts a server reported for one request."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    """One streamed piece of a completion."""

    text: str
    finish_reason: str | None = None
    token_ids: tuple[int, ...] | None = None
    usage: Usage | None = None


class OpenAIClient:
    """``/v1/models``, ``/v1/completions`` (streamed) and the servers' tokenizer endpoints.

    Every failure becomes a :class:`RemoteError` subclass (or
    :class:`ContextOverflowError`) whose message says what is wrong.
    """

    def __init__(
        self,
        config: RemoteServerConfig,
        api_key: ApiKey | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        headers = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING}
        if api_key is not None:
            headers["Authorization"] = f"Bearer {api_key.reveal()}"
        self._http = httpx.AsyncClient(
            base_url=config.root,
            headers=headers,
            verify=config.verify_tls,
            timeout=httpx.Timeout(
                connect=config.connect_timeout,
                read=config.read_timeout,
                write=config.read_timeout,
                pool=config.connect_timeout,
            ),
            transport=transport,
            follow_redirects=False,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- plain requests -------------------------------------------------------

    async def get_json(self, path: str) -> Any:
        return await self._request("GET", path, None)

    async def post_json(self, path: str, body: Mapping[str, Any]) -> Any:
        return await self._request("POST", path, body)

    async def _request(self, method: str, path: str, body: Mapping[str, Any] | None) -> Any:
        source = f"{self.config.root}{path}"
        try:
            async with self._http.stream(method, path, json=body) as response:
                if response.status_code >= 400:
                    text = await read_error_text(response, source)
                    raise self._status_error(response.status_code, text, path)
                data = await read_body(response, source)
                kind = response.headers.get("content-type", "no content type")
        except httpx.HTTPError as exc:
            raise self._translate(exc) from exc
        try:
            return parse_json(data)
        except ValueError as exc:
            raise NotOpenAICompatibleError(
                f"{source} answered with something that is not JSON "
                f"({short(kind, 60)}; {exc}): is this an OpenAI-compatible server?"
            ) from exc

    async def probe(self, path: str, body: Mapping[str, Any]) -> bool:
        """True when POSTing ``body`` to ``path`` succeeds with a JSON object."""
        source = f"{self.config.root}{path}"
        try:
            async with self._http.stream("POST", path, json=body) as response:
                if response.status_code != 200:
                    return False
                data = await read_body(response, source)
        except httpx.HTTPError as exc:
            raise self._translate(exc) from exc
        try:
            return isinstance(parse_json(data), dict)
        except ValueError:
            return False

    async def models(self) -> list[ModelInfo]:
        """The served models, with ``max_model_len`` where the server reports it (vLLM)."""
        payload = await self.get_json("/v1/models")
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise NotOpenAICompatibleError(
                f"{self.config.root}/v1/models did not return a model list: "
                "is this an OpenAI-compatible server?"
            )
        models = []
        for entry in data:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                length = entry.get("max_model_len")
                owner = entry.get("owned_by")
                models.append(
                    ModelInfo(
                        id=entry["id"],
                        owned_by=owner if isinstance(owner, str) else "",
                        max_model_len=_count(length) or None,
                    )
                )
        return models

    # -- streaming ------------------------------------------------------------

    async def stream_completion(self, body: Mapping[str, Any]) -> AsyncGenerator[Chunk, None]:
        """POST ``/v1/completions`` with ``stream: true`` and yield its chunks.

        Leaving the iteration early closes the response, which aborts the
        request on the server.
        """
        payload = {**body, "stream": True}
        try:
            async with self._http.stream("POST", "/v1/completions", json=payload) as response:
                source = f"{self.config.root}/v1/completions"
                if response.status_code >= 400:
                    text = await read_error_text(response, source)
                    raise self._status_error(response.status_code, text, "/v1/completions")
                kind = response.headers.get("content-type", "")
                if "text/event-stream" not in kind:
                    raise NotOpenAICompatibleError(
                        f"/v1/completions answered with {kind or 'no content type'} "
                        "instead of an event stream: is this an OpenAI-compatible server?"
                    )
                finished = False
                stream = lines(response, source, line_timeout=self.config.read_timeout)
                async for event in json_events(stream):
                    chunk = _chunk(event)
                    if chunk.finish_reason is not None:
                        finished = True
                    yield chunk
                if not finished:
                    raise ServerDisconnectedError(
                        "The server ended the stream without finishing the completion."
                    )
        except httpx.HTTPError as exc:
            raise self._translate(exc, streaming=True) from exc

    # -- errors ---------------------------------------------------------------

    def _translate(self, exc: httpx.HTTPError, streaming: bool = False) -> RemoteError:
        root = self.config.root
        if isinstance(exc, httpx.ConnectTimeout):
            return ServerUnreachableError(
                f"{root} did not accept a connection within {self.config.connect_timeout:g} s."
            )
        if isinstance(exc, httpx.ConnectError):
            if _is_tls(exc):
                return TLSVerificationError(
                    f"The TLS connection to {root} failed: {_cause(exc)}. Check the server's "
                    "certificate, or turn off verification only for a server you trust."
                )
            return ServerUnreachableError(f"Cannot connect to {root}: {_cause(exc)}.")
        if isinstance(exc, httpx.ReadTimeout):
            return StreamStalledError(
                f"{root} sent nothing for {self.config.read_timeout:g} s; the request was "
                "abandoned. What arrived before is kept."
            )
        if isinstance(exc, httpx.TimeoutException):
            return StreamStalledError(f"{root} timed out: {_cause(exc)}.")
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return ServerUnreachableError(f"{root} is not a usable address: {exc}.")
        if isinstance(exc, httpx.RemoteProtocolError) and (malformed := _malformed(root, exc)):
            return malformed
        if isinstance(exc, httpx.TransportError):
            when = "in the middle of the stream" if streaming else "before answering"
            return ServerDisconnectedError(
                f"The connection to {root} dropped {when} ({_cause(exc)}). "
                "What arrived before is kept; the server may have stopped or restarted."
            )
        return RemoteError(f"Request to {root} failed: {exc}")

    def _status_error(self, status: int, body: str, path: str) -> Exception:
        message = _server_message(body)
        if status in (401, 403):
            what = "rejected the API key" if status == 401 else "refused access"
            return AuthenticationError(
                f"{self.config.root} {what} (HTTP {status}): {message or 'no detail'}. "
                "Check the API key in the server settings."
            )
        lowered = message.lower()
        if status == 404 and "model" in lowered:
            return ModelNotFoundError(
                f"The server does not serve the model {self.config.model!r}: {message}"
            )
        if status == 404:
            return NotOpenAICompatibleError(
                f"{self.config.root}{path} does not exist (HTTP 404): "
                "is this an OpenAI-compatible server?"
            )
        if status == 400 and "context" in lowered:
            return ContextOverflowError(f"The server's context is too small: {message}")
        return ServerRequestError(
            f"{self.config.root}{path} answered HTTP {status}: {message or 'no detail'}",
            status=status,
        )


def _chunk(event: Mapping[str, Any]) -> Chunk:
    usage = _usage(event.get("usage"))
    if "error" in event and not event.get("choices"):
        error = event["error"]
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            error = error["message"]
        raise MalformedStreamError(f"The server reported an error in the stream: {short(error)}")
    choices = event.get("choices")
    if not isinstance(choices, list):
        raise MalformedStreamError(f"A stream event has no choices: {short(event)}")
    if not choices:
        if usage is None:
            raise MalformedStreamError(f"A stream event is empty: {short(event)}")
        return Chunk(text="", usage=usage)
    choice = choices[0]
    if not isinstance(choice, dict):
        raise MalformedStreamError(f"A stream choice is not an object: {short(choice)}")
    text = choice.get("text")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise MalformedStreamError(f"A stream choice has no text: {short(choice)}")
    finish = choice.get("finish_reason")
    ids = choice.get("token_ids")
    if ids is not None and (
        not isinstance(ids, list) or not all(type(i) is int and 0 <= i < MAX_COUNT for i in ids)
    ):
        raise MalformedStreamError(f"A stream choice has invalid token ids: {short(ids)}")
    return Chunk(
        text=text,
        finish_reason=finish if isinstance(finish, str) else None,
        token_ids=tuple(ids) if ids is not None else None,
        usage=usage,
    )


def _count(value: Any) -> int | None:
    """``value`` when it is a believable token count, else ``None``."""
    if type(value) is int and 0 <= value < MAX_COUNT:
        return value
    return None


def _usage(value: Any) -> Usage | None:
    """The usage a server reported; negative, absurd or non-integer counts are ignored."""
    if not isinstance(value, dict):
        return None
    prompt, completion = _count(value.get("prompt_tokens")), _count(value.get("completion_tokens"))
    if prompt is None or completion is None:
        if "prompt_tokens" in value or "completion_tokens" in value:
            log.warning("ignoring unbelievable usage from the server: %s", short(value))
        return None
    details = value.get("prompt_tokens_details")
    cached = _count(details.get("cached_tokens")) if isinstance(details, dict) else None
    return Usage(prompt, completion, min(cached, prompt) if cached is not None else None)


def _server_message(body: str) -> str:
    try:
        payload = parse_json(body)
    except ValueError:
        return short(body.strip(), 200)
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict) and error.get("message"):
            return short(error["message"], 300)
        for key in ("message", "detail", "error"):
            if payload.get(key):
                return short(payload[key], 300)
    return short(body.strip(), 200)


_LENGTH_LIE = re.compile(r"received (\d+) bytes, expected (\d+)")


def _malformed(root: str, exc: httpx.RemoteProtocolError) -> MalformedResponseError | None:
    """A protocol error that is the server's fault, not a dropped connection; else ``None``."""
    text = _cause(exc)
    if "incomplete chunked read" in text or "without sending a response" in text:
        return None  # the connection ended: the server stopped or a network failed
    if lie := _LENGTH_LIE.search(text):
        received, expected = lie.groups()
        return MalformedResponseError(
            f"{root} sent a malformed response: its Content-Length announced {expected} bytes "
            f"and it sent {received}. The server (or a proxy in front of it) is at fault, "
            "not the network."
        )
    return MalformedResponseError(
        f"{root} sent a malformed HTTP response ({short(text)}). The server (or a proxy in "
        "front of it) is at fault, not the network."
    )


def _is_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "SSL" in str(exc) or "certificate" in str(exc).lower()


def _cause(exc: BaseException) -> str:
    seen: BaseException = exc
    while seen.__cause__ is not None or seen.__context__ is not None:
        nxt = seen.__cause__ or seen.__context__
        assert nxt is not None
        seen = nxt
    return str(seen) or str(exc) or type(exc).__name__
