"""The seam to httpx, and the choice of wire: building httpx's clients from a
``ServiceConfig``, the httpx wires, and mapping httpx's errors.

Only this module (and the injected-client parameters of the clients) names httpx, so that
moving to httpx2 or another transport is a local change. Every httpx transport failure is
mapped here, in one place, to a ``_wire.Failure``: the public error, and the one fact the
retry rules need, whether anything could have reached the service (``request_sent``).

The other wires (``_urllib3.py``, ``_aiohttp.py``) are imported only when a config asks for
them, and import nothing from here (no import cycle).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from nilecare_clients import _testmode
from nilecare_clients._config import ServiceConfig
from nilecare_clients._errors import (
    ConfigurationError,
    ServiceError,
)
from nilecare_clients._http import HTTP_LOGGER_NAME, httpx
from nilecare_clients._wire import (
    CONNECT_FAILED,
    CONNECT_TIMEOUT,
    LOST,
    POOL_TIMEOUT,
    READ_TIMEOUT,
    TIMEOUT,
    WRITE_TIMEOUT,
    AsyncWire,
    Failure,
    SyncWire,
    missing_extra,
    wrong_event_loop,
)

__all__ = [
    "AsyncHttpxWire",
    "HttpxWire",
    "build_async_client",
    "build_async_wire",
    "build_sync_wire",
    "map_transport_error",
    "timeout_for",
    "wrong_event_loop",
]


#: The logger httpx writes its request line to (see ``HttpxWire._send_direct``).
_request_log = logging.getLogger(HTTP_LOGGER_NAME)


def timeout_for(config: ServiceConfig, cap: float | None = None) -> httpx.Timeout:
    """Per-attempt timeouts, each shortened to ``cap`` (the time left before the deadline)."""
    if cap is None:
        return httpx.Timeout(
            connect=config.connect_timeout,
            read=config.read_timeout,
            write=config.write_timeout,
            pool=config.pool_timeout,
        )
    return httpx.Timeout(
        connect=min(config.connect_timeout, cap),
        read=min(config.read_timeout, cap),
        write=min(config.write_timeout, cap),
        pool=min(config.pool_timeout, cap),
    )


def _limits(config: ServiceConfig) -> httpx.Limits:
    return httpx.Limits(
        max_connections=config.max_connections,
        max_keepalive_connections=config.max_keepalive_connections,
        keepalive_expiry=config.keepalive_expiry,
    )


def _verify(config: ServiceConfig) -> ssl.SSLContext | bool:
    """The TLS setting; a CA bundle or client certificate that cannot be loaded is a
    ``ConfigurationError`` naming the field (ssl's own error may quote the file)."""
    if config.verify is False:
        return False
    if config.verify is True and config.client_cert is None:
        return True
    field = "verify"
    try:
        ctx = ssl.create_default_context(
            cafile=config.verify if isinstance(config.verify, str) else None
        )
        field = "client_cert"
        if config.client_cert is not None:
            if isinstance(config.client_cert, tuple):
                ctx.load_cert_chain(config.client_cert[0], config.client_cert[1])
            else:
                ctx.load_cert_chain(config.client_cert)
    except (OSError, ValueError):  # ssl.SSLError is an OSError
        pass
    else:
        return ctx
    what = "CA bundle" if field == "verify" else "client certificate or key"
    raise ConfigurationError(f"{config.name}: {field}: the {what} is not a loadable PEM file")


def _client_kwargs(config: ServiceConfig, transport: Any) -> dict[str, Any]:
    if transport is None:
        transport = _testmode.routed_transport(config.name)  # testing.route_to(); None otherwise
    kwargs: dict[str, Any] = {
        "base_url": config.base_url,
        "timeout": timeout_for(config),
        "follow_redirects": False,
        "trust_env": False,
    }
    if transport is not None:
        kwargs["transport"] = transport
    else:
        kwargs["limits"] = _limits(config)
        kwargs["verify"] = _verify(config)
    return kwargs


def build_async_client(
    config: ServiceConfig, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    return httpx.AsyncClient(**_client_kwargs(config, transport))


def build_sync_wire(
    config: ServiceConfig, http_client: httpx.Client | None, transport: httpx.BaseTransport | None
) -> SyncWire:
    """The sync client's wire: urllib3 when the config says so, httpx otherwise.

    An injected ``http_client``/``transport`` (or a ``testing.route_to`` route) is httpx's
    and wins over ``sync_transport``: the option names the pool the client builds itself.
    """
    if http_client is not None:
        return HttpxWire(http_client)
    if (
        config.sync_transport == "urllib3"
        and transport is None
        and _testmode.routed_transport(config.name) is None
    ):
        try:
            from nilecare_clients._urllib3 import Urllib3Wire
        except ImportError as exc:
            raise missing_extra(config.name, "sync_transport", "urllib3") from exc
        return Urllib3Wire(config, _verify(config))
    kwargs = _client_kwargs(config, transport)
    if "transport" not in kwargs:  # the transport httpx.Client would build, built here instead
        kwargs["transport"] = httpx.HTTPTransport(
            verify=kwargs.pop("verify"), limits=kwargs.pop("limits"), trust_env=False
        )
    own = kwargs["transport"]
    userinfo = "@" in urlsplit(config.base_url).netloc  # httpx would add basic auth from it
    return HttpxWire(httpx.Client(**kwargs), direct=None if userinfo else own)


def build_async_wire(
    config: ServiceConfig,
    http_client: httpx.AsyncClient | None,
    transport: httpx.AsyncBaseTransport | None,
) -> AsyncWire:
    """The async client's wire: aiohttp when the config says so, httpx otherwise.

    An injected ``http_client``/``transport`` (or a ``testing.route_to`` route) is httpx's
    and wins over ``async_transport``, as for the sync clients.
    """
    if http_client is not None:
        return AsyncHttpxWire(http_client)
    if (
        config.async_transport == "aiohttp"
        and transport is None
        and _testmode.routed_transport(config.name) is None
    ):
        try:
            from nilecare_clients._aiohttp import AiohttpWire
        except ImportError as exc:
            raise missing_extra(config.name, "async_transport", "aiohttp") from exc
        return AiohttpWire(config, _verify(config))
    return AsyncHttpxWire(build_async_client(config, transport))


class HttpxWire:
    """The sync wire over an ``httpx.Client`` (built here, or injected).

    A client built here (``direct``: its transport) has no auth, cookies it was given, event
    hooks, mounts, proxies or redirects to follow: what ``Client.send`` does around the
    transport (an auth flow and a redirect loop per request, the response's headers copied
    into an ``email.message.Message`` twice for cookies) is work with no effect, most of
    httpx's own cost per call. Its requests go to the transport directly; what ``send`` did
    that shows is kept (a ``Set-Cookie`` still lands in the client's jar, httpx's request log
    line is written the same). An injected client goes through ``send``, all of it.
    """

    def __init__(self, http: httpx.Client, direct: httpx.BaseTransport | None = None) -> None:
        self.http = http
        self._direct = direct

    @property
    def is_closed(self) -> bool:
        return self.http.is_closed

    def close(self) -> None:
        self.http.close()

    def exchange(
        self, core: Any, call: Any, attempt: int, token: str | None, started: float
    ) -> tuple[int, Mapping[str, str], bytes]:
        unwritable = False
        http = self.http
        try:
            request = core.build_request(http, call, attempt, token)
            transport = self._direct
            direct = transport is not None and not http.is_closed
            if transport is not None and direct:
                response = self._send_direct(transport, request)
            else:
                response = http.send(request, stream=True)
            try:
                headers = response.headers
                # The transport's stream gives one socket read per chunk: unless the body is
                # compressed (or was read already), httpx's decoder and its two generators and
                # chunkers around it have nothing to do.
                plain = (
                    direct and not response.is_stream_consumed and "content-encoding" not in headers
                )
                content = core.read_body(
                    call,
                    response.status_code,
                    headers,
                    response.stream if plain else response.iter_bytes(),
                    attempt,
                    started,
                )
            finally:
                response.close()
        except (httpx.LocalProtocolError, UnicodeError):
            unwritable = True  # raised below, off the chain: the error quotes the header
        except httpx.RequestError as exc:
            raise core.on_transport_error(call, exc, attempt, started) from exc
        if unwritable:
            raise core.unwritable(call)
        return response.status_code, response.headers, content

    def _send_direct(
        self, transport: httpx.BaseTransport, request: httpx.Request
    ) -> httpx.Response:
        """``Client.send`` for a client built here: the transport, then what shows of the rest."""
        response = transport.handle_request(request)
        response.request = request
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            self.http.cookies.extract_cookies(response)
        if _request_log.isEnabledFor(logging.INFO):
            _request_log.info(  # httpx's own request line, in its words
                'HTTP Request: %s %s "%s %d %s"',
                request.method,
                request.url,
                response.http_version,
                response.status_code,
                response.reason_phrase,
            )
        return response

    def health(
        self, core: Any, url: str, headers: dict[str, str]
    ) -> tuple[int | None, str | None, bytes]:
        try:
            response = self.http.send(
                self.http.build_request("GET", url, headers=headers, timeout=core.timeout)
            )
        except httpx.HTTPError as exc:
            return None, type(exc).__name__, b""
        return response.status_code, None, response.content


class AsyncHttpxWire:
    """The async wire over an ``httpx.AsyncClient`` (built here, or injected)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    @property
    def is_closed(self) -> bool:
        return self.http.is_closed

    async def aclose(self) -> None:
        await self.http.aclose()

    async def exchange(
        self, core: Any, call: Any, attempt: int, token: str | None, started: float
    ) -> tuple[int, Mapping[str, str], bytes]:
        unwritable = False
        try:
            request = core.build_request(self.http, call, attempt, token)
            response = await self.http.send(request, stream=True)
            try:
                content = await core.aread_body(
                    call,
                    response.status_code,
                    response.headers,
                    response.aiter_bytes(),
                    attempt,
                    started,
                )
            finally:
                await response.aclose()
        except (httpx.LocalProtocolError, UnicodeError):
            unwritable = True  # raised below, off the chain: the error quotes the header
        except httpx.RequestError as exc:
            raise core.on_transport_error(call, exc, attempt, started) from exc
        if unwritable:
            raise core.unwritable(call)
        return response.status_code, response.headers, content

    async def health(
        self, core: Any, url: str, headers: dict[str, str]
    ) -> tuple[int | None, str | None, bytes]:
        try:
            response = await self.http.send(
                self.http.build_request("GET", url, headers=headers, timeout=core.timeout)
            )
        except httpx.HTTPError as exc:
            return None, type(exc).__name__, b""
        return response.status_code, None, response.content


def map_transport_error(
    exc: Exception,
    *,
    service: str,
    method: str,
    path_template: str,
    correlation_id: str | None,
) -> tuple[ServiceError, bool]:
    """``(public_error, counts_against_breaker)`` for an httpx transport failure.

    Only a failure before anything was written is ``request_sent=False``: connect refused,
    connect timeout, pool timeout. A reset or timeout after that may have reached a server
    that acted on the request, so a write is not repeated on it.
    """
    failure = next((row[1] for row in _TRANSPORT_FAILURES if isinstance(exc, row[0])), LOST)
    error = failure.public(
        service=service,
        method=method,
        path_template=path_template,
        correlation_id=correlation_id,
        detail=f"{failure.detail} ({type(exc).__name__})",
        request_sent=failure.request_sent,
    )
    return error, failure.unhealthy


# (httpx exception types, failure). Order matters: ConnectTimeout and PoolTimeout are
# TimeoutExceptions too. Anything else (ReadError, WriteError, RemoteProtocolError...) is LOST.
_TRANSPORT_FAILURES: tuple[tuple[tuple[type[BaseException], ...], Failure], ...] = (
    ((httpx.ConnectTimeout,), CONNECT_TIMEOUT),
    # Our own pool is saturated: nothing was sent, and it says nothing about the service.
    ((httpx.PoolTimeout,), POOL_TIMEOUT),
    ((httpx.ConnectError, httpx.ProxyError), CONNECT_FAILED),
    ((httpx.ReadTimeout,), READ_TIMEOUT),
    ((httpx.WriteTimeout,), WRITE_TIMEOUT),
    ((httpx.TimeoutException,), TIMEOUT),
)
