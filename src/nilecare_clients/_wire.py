"""The wire seam: what a transport owes the client core, whatever HTTP package it uses.

A *wire* is one object per client (shared by its ``with_options`` copies) that moves one
attempt's bytes: it sends the method, URL, headers and body the core prepared, with the
attempt's timeouts, and hands back plain ``(status, headers, body)``; the body is read
through the core's bounded reader (size limit, deadline). Every rule stays in the core; a
wire only classifies its package's failures by cause (``Failure``): nothing sent (refused,
connect timeout, pool timeout) or may have been applied (everything after the request was
written), the fact behind write safety.

Implementations: ``_transport.HttpxWire``/``AsyncHttpxWire`` (the default; keeps
``http_client=``/``transport=`` injection and ``testing.route_to``), ``_urllib3.Urllib3Wire``
(``sync_transport="urllib3"``) and ``_aiohttp.AiohttpWire`` (``async_transport="aiohttp"``).
The last two never build httpx's request or response objects.

A wire raises the core's ``ServiceError`` (through ``core.on_transport_error`` with a
``WireFailure``, which names only the failure's class: the HTTP package's own exception
quotes the URL with its query, so it is never put on the chain).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlencode

from nilecare_clients._errors import (
    ConfigurationError,
    ServiceError,
    ServiceTimeoutError,
    ServiceUnavailableError,
    ServiceUnreachableError,
)

__all__ = [
    "CONNECT_FAILED",
    "CONNECT_TIMEOUT",
    "LOST",
    "POOL_TIMEOUT",
    "READ_TIMEOUT",
    "TIMEOUT",
    "WRITE_TIMEOUT",
    "AsyncWire",
    "Failure",
    "SyncWire",
    "WireFailure",
    "missing_extra",
    "query_string",
    "wrong_event_loop",
]


class Failure(NamedTuple):
    """How a transport failure counts: the public error, and the two facts the rules need."""

    public: type[ServiceError]
    detail: str
    #: Whether anything may have reached the service (a write is then not repeated).
    request_sent: bool
    #: Whether it counts against the breaker (our own saturated pool says nothing of the service).
    unhealthy: bool
    #: The name ``health_check`` reports, the same on every transport (httpx's class for it).
    name: str


CONNECT_TIMEOUT = Failure(ServiceTimeoutError, "connect timeout", False, True, "ConnectTimeout")
POOL_TIMEOUT = Failure(ServiceTimeoutError, "connection pool timeout", False, False, "PoolTimeout")
CONNECT_FAILED = Failure(ServiceUnreachableError, "connection failed", False, True, "ConnectError")
READ_TIMEOUT = Failure(ServiceTimeoutError, "read timeout", True, True, "ReadTimeout")
WRITE_TIMEOUT = Failure(ServiceTimeoutError, "write timeout", True, True, "WriteTimeout")
TIMEOUT = Failure(ServiceTimeoutError, "timeout", True, True, "TimeoutException")
LOST = Failure(ServiceUnavailableError, "connection lost", True, True, "ReadError")
#: The client was closed by another thread while this call waited for a connection.
POOL_CLOSED = Failure(ServiceUnavailableError, "client closed", False, False, "PoolClosed")


class WireFailure(Exception):
    """A transport failure classified where it happened. Its message is only the class name
    of the package's exception (no URL, no header): it is safe on an error's cause chain."""

    def __init__(self, failure: Failure, kind: str) -> None:
        super().__init__(kind)
        self.failure = failure
        self.kind = kind


class SyncWire(Protocol):
    """One client's connections, sync."""

    @property
    def is_closed(self) -> bool: ...

    def exchange(
        self, core: Any, call: Any, attempt: int, token: str | None, started: float
    ) -> tuple[int, Mapping[str, str], bytes]: ...

    def health(
        self, core: Any, url: str, headers: dict[str, str]
    ) -> tuple[int | None, str | None, bytes]:
        """``(status, None, body)``, or ``(None, failure class name, b"")``; never raises for
        an outage."""
        ...

    def close(self) -> None: ...


class AsyncWire(Protocol):
    """One client's connections, async (bound to the event loop of its first call)."""

    @property
    def is_closed(self) -> bool: ...

    async def exchange(
        self, core: Any, call: Any, attempt: int, token: str | None, started: float
    ) -> tuple[int, Mapping[str, str], bytes]: ...

    async def health(
        self, core: Any, url: str, headers: dict[str, str]
    ) -> tuple[int | None, str | None, bytes]: ...

    async def aclose(self) -> None: ...


def query_string(params: Mapping[str, Any]) -> str:
    """The query as httpx writes it (``True`` -> ``true``, a list repeats its key)."""
    items: list[tuple[str, str]] = []
    for key, value in params.items():
        for one in value if isinstance(value, (list, tuple)) else (value,):
            items.append((key, _primitive(one)))
    return urlencode(items)


def _primitive(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def missing_extra(service: str, option: str, extra: str) -> ConfigurationError:
    """The one-line error for a transport option whose extra is not installed."""
    return ConfigurationError(
        f"{service}: {option}='{extra}' needs the {extra} extra "
        f"(pip install 'nilecare-clients[{extra}]')"
    )


def wrong_event_loop(service: str) -> ConfigurationError:
    """The one error for an async client used outside the event loop it was first used in.

    Both async transports hold connections (and futures) of that loop: reusing them from
    another loop fails deep inside the transport, or hangs.
    """
    return ConfigurationError(
        f"the async client for {service!r} was first used in another event loop, whose "
        "connections it holds: create one client per event loop (e.g. in the app's lifespan) "
        "and close it in that loop"
    )
