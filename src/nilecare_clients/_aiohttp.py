"""The ``aiohttp`` transport option of the async clients (the ``aiohttp`` extra).

httpx's API over an aiohttp session. It subclasses httpx-aiohttp's ``AiohttpTransport`` (its
TLS context and pool limits) and sends each request itself, reading the whole answer before
returning it (the clients never stream), so that every setting of a ``ServiceConfig`` holds as
it does on httpx's own transport:

- Timeouts: each request carries its per-attempt ``httpx.Timeout`` (already shortened to the
  time left before the deadline), turned into aiohttp's per-request ``ClientTimeout`` the way
  httpx-aiohttp 0.2.0 does: ``connect`` -> ``sock_connect``, ``read`` -> ``sock_read``
  (between two reads, as in httpx), ``pool`` -> ``connect`` (aiohttp's wait for a pooled
  connection plus the connect itself). aiohttp has no write timeout: its read timer starts
  once the body is written (NileCare bodies are small JSON, written in one go).
- Pool: ``max_connections`` -> ``limit``; ``keepalive_expiry`` -> ``keepalive_timeout``; no
  keep-alive at all (``max_keepalive_connections=0`` or ``keepalive_expiry=0``) ->
  ``force_close``. aiohttp has no separate cap on idle connections.
- TLS: the same ``SSLContext`` as httpx's transport (verification, CA bundle, client cert).
- Headers are httpx's, complete, so aiohttp adds none; httpx decodes bodies and keeps cookies.
- aiohttp silently re-sends an idempotent request once when the connection drops; that is
  turned off, so that only the retry layer repeats a call: within its budget, its deadline,
  and with ``X-Retry-Attempt`` on the wire.

Lifecycle: the session is created on the first request, inside the running loop, and closed by
the client's ``aclose()``. It belongs to that loop for good: a request from another loop raises
``ConfigurationError`` at once instead of hanging on futures of a loop that no longer runs.

Failures are re-raised as the httpx class httpx's own transport raises for them (not the one
httpx-aiohttp picks: it calls a reset after the body a ``ConnectTimeout``), with aiohttp's
exception as ``__cause__``, which is what ``_transport.map_transport_error`` judges.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiohttp
from httpx_aiohttp import AiohttpTransport

from nilecare_clients._config import ServiceConfig
from nilecare_clients._errors import ERROR_BODY_LIMIT
from nilecare_clients._http import httpx
from nilecare_clients._transport import aiohttp_failure_as_httpx, wrong_event_loop

__all__ = ["AiohttpServiceTransport"]


class AiohttpServiceTransport(AiohttpTransport):
    """An ``AiohttpTransport`` bound to one service's settings and to one event loop."""

    def __init__(
        self, config: ServiceConfig, *, verify: ssl.SSLContext | bool, limits: httpx.Limits
    ) -> None:
        super().__init__(verify=verify, trust_env=False, limits=limits)
        self._service = config.name
        self._max_bytes = config.max_response_bytes
        self._loop: asyncio.AbstractEventLoop | None = None

    def _open_session(self) -> aiohttp.ClientSession:
        """Called on the first request, so inside the loop that will use it."""
        self._loop = asyncio.get_running_loop()
        limits = self.limits
        limit = limits.max_connections or 0  # aiohttp: 0 is no limit, as None is for httpx
        if limits.max_keepalive_connections == 0 or limits.keepalive_expiry == 0:
            connector = aiohttp.TCPConnector(limit=limit, ssl=self.ssl_context, force_close=True)
        else:
            connector = aiohttp.TCPConnector(
                limit=limit, ssl=self.ssl_context, keepalive_timeout=limits.keepalive_expiry
            )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
        )
        # aiohttp's own resend-once of idempotent requests after a dropped connection (its
        # test client turns it off the same way); the retry layer owns every repeat.
        session._retry_connection = False
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send over the session and read the whole answer before returning it.

        The clients read every body at once, so nothing is streamed: the connection goes
        back to the pool here, and a failure while reading the body is mapped here too.
        """
        session = self.client
        if not isinstance(session, aiohttp.ClientSession):
            session = self.client = self._open_session()
        elif self._loop is not asyncio.get_running_loop():
            raise wrong_event_loop(self._service)  # the client checks first; this is a backstop
        timeout = request.extensions.get("timeout", {})
        body = request.content if isinstance(request.stream, httpx.ByteStream) else None
        if body is None:
            body = await request.aread()
        failure: httpx.TransportError | None = None
        unwritable = False
        try:
            async with session.request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                    connect=timeout.get("pool"),  # aiohttp: pool wait + connect
                ),
            ) as answer:
                content = await self._read(answer)
        except aiohttp.ClientError as exc:
            # Raised below as the httpx class httpx's own transport would raise (httpx-aiohttp
            # would call a reset after the body a ConnectTimeout), outside this block so that
            # aiohttp's exception, whose message holds the URL with its query, is not chained.
            failure = aiohttp_failure_as_httpx(exc, request)
        except (ValueError, UnicodeError):
            # aiohttp refused to write the request (a header it forbids): nothing was sent.
            # Its message may quote the header, so it is raised below, off the chain.
            unwritable = True
        if failure is not None:
            raise failure
        if unwritable:
            raise httpx.LocalProtocolError("request could not be written", request=request)
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if answer.reason:
            extensions["reason_phrase"] = answer.reason.encode()
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            content=content,
            request=request,
            extensions=extensions,
        )

    async def _read(self, answer: aiohttp.ClientResponse) -> bytes:
        """At most one byte past the client's limit, so it can refuse or truncate the body
        without this transport buffering an answer of any size. A success whose declared
        length is already too large is not read at all (the client refuses it by header)."""
        ok = 200 <= answer.status < 300
        limit = self._max_bytes if ok else ERROR_BODY_LIMIT
        if ok and answer.content_length is not None and answer.content_length > limit:
            return b""
        parts: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = await answer.content.read(limit + 1 - size)
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts)

    async def aclose(self) -> None:
        session = self.client
        if not isinstance(session, aiohttp.ClientSession) or session.closed:
            return
        await session.close()
