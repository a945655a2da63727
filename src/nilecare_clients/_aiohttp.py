"""The ``aiohttp`` transport option of the async clients (the ``aiohttp`` extra).

``ServiceConfig.async_transport="aiohttp"``: one aiohttp session per client, used directly (no
httpx request or response objects). Every setting of a ``ServiceConfig`` holds as on httpx's
transport:

- Timeouts: per attempt, already shortened to the time left before the deadline, as
  aiohttp's per-request ``ClientTimeout``: ``connect`` -> ``sock_connect``, ``read`` ->
  ``sock_read`` (between two reads, as in httpx), ``pool`` -> ``connect`` (aiohttp's wait for
  a pooled connection plus the connect itself). aiohttp has no write timeout: its read timer
  starts once the body is written (NileCare bodies are small JSON, written in one go). The
  deadline bounds the whole attempt (one timer in the client).
- Pool: ``max_connections`` -> ``limit``; ``keepalive_expiry`` -> ``keepalive_timeout``; no
  keep-alive at all (``max_keepalive_connections=0`` or ``keepalive_expiry=0``) ->
  ``force_close``. aiohttp has no separate cap on idle connections.
- TLS: the same ``SSLContext`` as httpx's transport (verification, CA bundle, client cert).
- No redirect is followed; no cookie is kept; no proxy is read from the environment.
- aiohttp silently re-sends an idempotent request once when the connection drops; that is
  turned off, so that only the retry layer repeats a call: within its budget, its deadline,
  and with ``X-Retry-Attempt`` on the wire.

Lifecycle: the session is created on the first request, inside the running loop, and closed by
the client's ``aclose()``. It belongs to that loop for good: a request from another loop raises
``ConfigurationError`` at once instead of hanging on futures of a loop that no longer runs.

Failures are classified by cause (``_wire.Failure``) and raised as a ``WireFailure`` naming
only aiohttp's class: aiohttp's exceptions quote the URL with its query. aiohttp's client
logs no request lines, so it needs no log filter.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
from yarl import URL

from nilecare_clients._config import ServiceConfig
from nilecare_clients._errors import ERROR_BODY_LIMIT
from nilecare_clients._wire import (
    CONNECT_FAILED,
    CONNECT_TIMEOUT,
    LOST,
    READ_TIMEOUT,
    TIMEOUT,
    Failure,
    WireFailure,
    query_string,
    wrong_event_loop,
)

__all__ = ["AiohttpWire"]

_HEALTH_BODY_LIMIT = 64 * 1024


class AiohttpWire:
    """One service's aiohttp session, bound to the event loop of its first request."""

    def __init__(self, config: ServiceConfig, verify: ssl.SSLContext | bool) -> None:
        self._service = config.name
        self._ssl = verify
        self._limit = config.max_connections or 0  # aiohttp: 0 is no limit, as None for httpx
        keepalive = config.max_keepalive_connections != 0 and config.keepalive_expiry != 0
        self._keepalive_expiry = config.keepalive_expiry if keepalive else None
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._timeouts: dict[tuple[float, float, float], aiohttp.ClientTimeout] = {}

    @property
    def is_closed(self) -> bool:
        return self._closed

    def _open_session(self) -> aiohttp.ClientSession:
        """Called on the first request, so inside the loop that will use it."""
        self._loop = asyncio.get_running_loop()
        if self._keepalive_expiry is None:
            connector = aiohttp.TCPConnector(limit=self._limit, ssl=self._ssl, force_close=True)
        else:
            connector = aiohttp.TCPConnector(
                limit=self._limit, ssl=self._ssl, keepalive_timeout=self._keepalive_expiry
            )
        session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
        )
        # aiohttp's own resend-once of idempotent requests after a dropped connection (its
        # test client turns it off the same way); the retry layer owns every repeat.
        session._retry_connection = False
        self._session = session
        return session

    def _session_here(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None:
            return self._open_session()
        if self._loop is not asyncio.get_running_loop():
            raise wrong_event_loop(self._service)  # the client checks first; this is a backstop
        return session

    def _timeout(self, connect: float, read: float, pool: float) -> aiohttp.ClientTimeout:
        key = (connect, read, pool)
        timeout = self._timeouts.get(key)
        if timeout is None:
            # aiohttp's ``connect`` is the pool wait plus the connect itself.
            timeout = aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=pool)
            if len(self._timeouts) < 64:  # the full timeouts, and a few capped ones
                self._timeouts[key] = timeout
        return timeout

    async def exchange(
        self, core: Any, call: Any, attempt: int, token: str | None, started: float
    ) -> tuple[int, Mapping[str, str], bytes]:
        session = self._session_here()
        config = core.config  # a with_options copy may carry other timeouts than the session
        left = core.prepare_attempt(call, attempt, token)
        if left >= core.longest_timeout:
            timeout = self._timeout(
                config.connect_timeout, config.read_timeout, config.pool_timeout
            )
        else:
            timeout = aiohttp.ClientTimeout(
                sock_connect=min(config.connect_timeout, left),
                sock_read=min(config.read_timeout, left),
                connect=min(config.pool_timeout, left),
            )
        url = call.url
        if call.params:
            url += "?" + query_string(call.params)
        failure: WireFailure | None = None
        unwritable = False
        try:
            async with session.request(
                call.method,
                URL(url, encoded=True),  # the path and query are encoded already
                headers=call.headers,
                data=call.content,
                allow_redirects=False,
                timeout=timeout,
            ) as answer:
                status = answer.status
                headers = answer.headers
                content = await core.aread_body(
                    call, status, headers, _chunks(answer), attempt, started
                )
        except aiohttp.ClientError as exc:
            failure = _classified(exc)  # raised below, off the chain: its message has the URL
        except (ValueError, UnicodeError):
            unwritable = True  # aiohttp refused a header; its message may quote it
        if failure is not None:
            raise core.on_transport_error(call, failure, attempt, started) from failure
        if unwritable:
            raise core.unwritable(call)
        return status, headers, content

    async def health(
        self, core: Any, url: str, headers: dict[str, str]
    ) -> tuple[int | None, str | None, bytes]:
        session = self._session_here()
        config = core.config
        failure: WireFailure | None = None
        try:
            async with session.get(
                URL(url, encoded=True),
                headers=headers,
                allow_redirects=False,
                timeout=self._timeout(
                    config.connect_timeout, config.read_timeout, config.pool_timeout
                ),
            ) as answer:
                body = await answer.content.read(_HEALTH_BODY_LIMIT)
                status = answer.status
        except aiohttp.ClientError as exc:
            failure = _classified(exc)
        if failure is not None:
            return None, failure.failure.name, b""
        return status, None, body

    async def aclose(self) -> None:
        self._closed = True
        session = self._session
        if session is not None and not session.closed:
            await session.close()


async def _chunks(answer: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The body as it arrives (the reader stops one byte past its limit).

    A body whose declared length is at most ``ERROR_BODY_LIMIT`` is read in one call: that
    is within every limit (a success declared larger than ``max_response_bytes`` was refused
    before any read), and the deadline's timer bounds the read.
    """
    length = answer.content_length
    if length is not None and length <= ERROR_BODY_LIMIT:
        yield await answer.read()
        return
    async for chunk in answer.content.iter_any():
        yield chunk


# (aiohttp classes, failure). First match wins. Only what fails inside aiohttp's connector
# (refused, DNS, TLS handshake, connect or pool-wait timeout) happened before a byte was
# written; everything after that, a reset (``ClientOSError``), a close without an answer
# (``ServerDisconnectedError``), a read timeout, a malformed answer, may have reached the
# service. aiohttp raises one ``ConnectionTimeoutError`` for a connect timeout and a pool-wait
# timeout alike; it is reported as a connect timeout (the bulkhead, in front of the pool,
# makes pool waits rare).
_FAILURES: tuple[tuple[tuple[type[BaseException], ...], Failure], ...] = (
    ((aiohttp.ConnectionTimeoutError,), CONNECT_TIMEOUT),
    ((aiohttp.ClientConnectorError,), CONNECT_FAILED),
    ((aiohttp.SocketTimeoutError,), READ_TIMEOUT),
    ((aiohttp.ServerTimeoutError,), TIMEOUT),
)


def _classified(exc: BaseException) -> WireFailure:
    failure = next((f for kinds, f in _FAILURES if isinstance(exc, kinds)), LOST)
    return WireFailure(failure, type(exc).__name__)
