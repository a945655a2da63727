"""The seam to httpx: building its clients from a ``ServiceConfig`` and mapping its errors.

Only this module (and the injected-client parameters of the clients) names httpx, so that
moving to httpx2 or another transport is a local change. Every transport failure is mapped
here, in one place, to the most specific public error, with the one fact the retry rules
need: whether anything could have reached the service (``request_sent``).

The async clients may run httpx over aiohttp instead (``async_transport="aiohttp"``, set up in
``_aiohttp.py``). Its failures are classified from aiohttp's own exception, found on the
``__cause__`` chain, never from the httpx class the adapter picked: httpx-aiohttp calls a reset
after the body was written a ``ConnectTimeout``, which would read as "nothing was sent".
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Mapping
from typing import Any

from nilecare_clients import _testmode
from nilecare_clients._config import ServiceConfig
from nilecare_clients._errors import (
    ConfigurationError,
    ServiceError,
    ServiceTimeoutError,
    ServiceUnavailableError,
    ServiceUnreachableError,
)
from nilecare_clients._http import httpx
from nilecare_clients._wire import AsyncWire, SyncWire, missing_extra, wrong_event_loop

__all__ = [
    "AsyncHttpxWire",
    "HttpxWire",
    "build_async_client",
    "build_async_wire",
    "build_sync_client",
    "build_sync_wire",
    "map_transport_error",
    "timeout_for",
    "wrong_event_loop",
]


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


def build_sync_client(config: ServiceConfig, transport: httpx.BaseTransport | None) -> httpx.Client:
    return httpx.Client(**_client_kwargs(config, transport))


def build_async_client(
    config: ServiceConfig, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    """httpx's async client over its own transport, or over aiohttp when the config says so.

    An injected transport (or a ``testing.route_to`` route) wins over ``async_transport``.
    """
    kwargs = _client_kwargs(config, transport)
    if config.async_transport == "aiohttp" and "transport" not in kwargs:
        try:
            from nilecare_clients._aiohttp import AiohttpServiceTransport
        except ImportError as exc:
            raise missing_extra(config.name, "async_transport", "aiohttp") from exc
        kwargs["transport"] = AiohttpServiceTransport(
            config, verify=kwargs.pop("verify"), limits=kwargs.pop("limits")
        )
    return httpx.AsyncClient(**kwargs)


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
    return HttpxWire(build_sync_client(config, transport))


def build_async_wire(
    config: ServiceConfig,
    http_client: httpx.AsyncClient | None,
    transport: httpx.AsyncBaseTransport | None,
) -> AsyncWire:
    """The async client's wire (an injected client or transport wins, as for sync)."""
    if http_client is not None:
        return AsyncHttpxWire(http_client)
    return AsyncHttpxWire(build_async_client(config, transport))


class HttpxWire:
    """The sync wire over an ``httpx.Client`` (built here, or injected)."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    @property
    def is_closed(self) -> bool:
        return self.http.is_closed

    def close(self) -> None:
        self.http.close()

    def exchange(
        self, core: Any, call: Any, attempt: int, token: str | None, started: float
    ) -> tuple[int, Mapping[str, str], bytes]:
        unwritable = False
        try:
            request = core.build_request(self.http, call, attempt, token)
            response = self.http.send(request, stream=True)
            try:
                content = core.read_body(
                    call,
                    response.status_code,
                    response.headers,
                    response.iter_bytes(),
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
    that acted on the request, so a write is not repeated on it. Over aiohttp the failure is
    judged by aiohttp's exception on the cause chain (see ``_aiohttp_failures``).
    """
    failure: type[BaseException] = type(exc)
    kind = _aiohttp_kind(exc)
    if kind is not None:
        failure = kind
        row = next((r[2:] for r in _aiohttp_failures() if issubclass(kind, r[0])), None)
    else:
        row = next((r[1:] for r in _TRANSPORT_FAILURES if isinstance(exc, r[0])), None)
    cls, detail, sent, unhealthy = row or (ServiceUnavailableError, "transport failure", True, True)
    error = cls(
        service=service,
        method=method,
        path_template=path_template,
        correlation_id=correlation_id,
        detail=f"{detail} ({failure.__name__})",
        request_sent=sent,
    )
    return error, unhealthy


def aiohttp_failure_as_httpx(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """What httpx's own transport raises for that aiohttp failure, safe to put on a chain.

    Over aiohttp, the request phase raises this instead of the adapter's name, so code that
    reads httpx names (``health_check``, ``except httpx.ConnectError``) sees what the default
    transport would have shown. aiohttp's own messages hold the full URL (a patient search's
    name in its query), so the error carries only the failure's class (``aiohttp_failure``,
    which ``map_transport_error`` judges) and is raised with no aiohttp exception behind it.
    """
    kind = type(exc) if _is_aiohttp(exc) else (_aiohttp_kind(exc) or type(exc))
    httpx_cls = next(
        (r[1] for r in _aiohttp_failures() if issubclass(kind, r[0])), httpx.TransportError
    )
    error = httpx_cls(kind.__name__, request=request)
    error.aiohttp_failure = kind  # type: ignore[attr-defined]
    return error


def _is_aiohttp(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("aiohttp.")


def _aiohttp_kind(exc: BaseException) -> type[BaseException] | None:
    """The aiohttp failure class behind ``exc``: recorded on it by the aiohttp transport, or
    the outermost aiohttp exception on its chain (``__cause__``, then ``__context__``).

    Found by module name, so the default transport never imports aiohttp.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        recorded = getattr(current, "aiohttp_failure", None)
        if isinstance(recorded, type) and issubclass(recorded, BaseException):
            return recorded
        if current is not exc and _is_aiohttp(current):
            return type(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


_FailureRow = tuple[tuple[type[BaseException], ...], type[ServiceError], str, bool, bool]


# (httpx exception types, public class, detail, request_sent, counts against the breaker).
# Order matters: ConnectTimeout and PoolTimeout are TimeoutExceptions too.
_TRANSPORT_FAILURES: tuple[_FailureRow, ...] = (
    ((httpx.ConnectTimeout,), ServiceTimeoutError, "connect timeout", False, True),
    # Our own pool is saturated: nothing was sent, and it says nothing about the service.
    ((httpx.PoolTimeout,), ServiceTimeoutError, "connection pool timeout", False, False),
    (
        (httpx.ConnectError, httpx.ProxyError),
        ServiceUnreachableError,
        "connection failed",
        False,
        True,
    ),
    ((httpx.ReadTimeout,), ServiceTimeoutError, "read timeout", True, True),
    ((httpx.WriteTimeout,), ServiceTimeoutError, "write timeout", True, True),
    ((httpx.TimeoutException,), ServiceTimeoutError, "timeout", True, True),
    (
        (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError),
        ServiceUnavailableError,
        "connection lost",
        True,
        True,
    ),
)


_AiohttpRow = tuple[
    tuple[type[BaseException], ...], type[httpx.TransportError], type[ServiceError], str, bool, bool
]


@functools.cache
def _aiohttp_failures() -> tuple[_AiohttpRow, ...]:
    """aiohttp's failures: (aiohttp types, the httpx class httpx's own transport raises for the
    same failure, then the columns of ``_TRANSPORT_FAILURES``). First match wins.

    Built on first use (aiohttp is imported only once one of its exceptions was seen). Only
    what fails inside aiohttp's connector (refused, DNS, TLS handshake, connect or pool-wait
    timeout) happened before a byte was written; everything after that, a reset
    (``ClientOSError``), a close without an answer (``ServerDisconnectedError``), a read
    timeout, a malformed answer, may have reached the service. aiohttp raises one
    ``ConnectionTimeoutError`` for a connect timeout and a pool-wait timeout alike; it is
    reported as a connect timeout (the bulkhead, in front of the pool, makes pool waits rare).
    """
    import aiohttp

    lost = (ServiceUnavailableError, "connection lost", True, True)
    return (
        (
            (aiohttp.ConnectionTimeoutError,),
            httpx.ConnectTimeout,
            ServiceTimeoutError,
            "connect timeout",
            False,
            True,
        ),
        (
            (aiohttp.ClientConnectorError,),
            httpx.ConnectError,
            ServiceUnreachableError,
            "connection failed",
            False,
            True,
        ),
        (
            (aiohttp.SocketTimeoutError,),
            httpx.ReadTimeout,
            ServiceTimeoutError,
            "read timeout",
            True,
            True,
        ),
        (
            (aiohttp.ServerTimeoutError,),
            httpx.TimeoutException,
            ServiceTimeoutError,
            "timeout",
            True,
            True,
        ),
        (
            (aiohttp.ServerDisconnectedError, aiohttp.ClientResponseError),
            httpx.RemoteProtocolError,
            *lost,
        ),
        ((aiohttp.ClientConnectionError, aiohttp.ClientPayloadError), httpx.ReadError, *lost),
    )
