"""Inbound middleware: bind the caller's correlation id and deadline for the whole request.

``CorrelationIdMiddleware`` (ASGI: FastAPI, Starlette) and ``WSGICorrelationIdMiddleware``
(Flask, Django) read ``X-Correlation-ID`` (falling back to ``X-Request-ID``), validate it
(at most 128 characters of ``[A-Za-z0-9._:-]``; anything else is replaced by a new id and the
replacement logged, never the rejected value), bind it in the context variable and in
structlog's contextvars, and echo it on the response. An ``X-Request-Deadline-Ms`` header opens
a ``deadline_scope``, so this service stops calling downstream once its caller has given up.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from contextlib import ExitStack
from typing import Any

from nilecare_clients._correlation import (
    correlation_scope,
    deadline_scope,
    is_valid_correlation_id,
    new_correlation_id,
)
from nilecare_clients._log import emit

__all__ = ["CorrelationIdMiddleware", "WSGICorrelationIdMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_MAX_DEADLINE_MS = 24 * 3600 * 1000


def _choose_id(correlation: str | None, request_id: str | None) -> str:
    received = correlation or request_id
    if received is not None and is_valid_correlation_id(received):
        return received
    replacement = new_correlation_id()
    if received is not None:
        emit(
            "warning",
            "nilecare_clients.correlation_id_replaced",
            replacement=replacement,
            reason="invalid inbound correlation id",
        )
    return replacement


def _deadline_seconds(raw: str | None) -> float | None:
    if raw is None or not raw.strip().isdigit():
        return None
    return min(int(raw.strip()), _MAX_DEADLINE_MS) / 1000.0


class _Binding:
    """Context for one inbound request: correlation id, structlog binding, optional deadline."""

    def __init__(self, correlation_id: str, deadline_s: float | None) -> None:
        self.correlation_id = correlation_id
        self._deadline_s = deadline_s
        self._stack = ExitStack()

    def __enter__(self) -> str:
        self._stack.enter_context(correlation_scope(self.correlation_id))
        # structlog only when the application uses it (it imported it): the core never loads it.
        structlog = sys.modules.get("structlog")
        if structlog is not None:
            self._stack.enter_context(
                structlog.contextvars.bound_contextvars(correlation_id=self.correlation_id)
            )
        if self._deadline_s is not None:
            self._stack.enter_context(deadline_scope(self._deadline_s))
        return self.correlation_id

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


class CorrelationIdMiddleware:
    """ASGI middleware; ``header_name`` is the header echoed on responses."""

    def __init__(self, app: ASGIApp, header_name: str = "X-Correlation-ID") -> None:
        self.app = app
        self.header_name = header_name
        self._echo = header_name.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        found: dict[bytes, str] = {}
        for name, value in scope.get("headers", []):
            if name in (b"x-correlation-id", b"x-request-id", b"x-request-deadline-ms"):
                found[name] = value.decode("latin-1")
        cid = _choose_id(found.get(b"x-correlation-id"), found.get(b"x-request-id"))
        deadline = _deadline_seconds(found.get(b"x-request-deadline-ms"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != self._echo]
                headers.append((self._echo, cid.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        with _Binding(cid, deadline):
            await self.app(scope, receive, send_with_id)


class WSGICorrelationIdMiddleware:
    """WSGI middleware (Flask: ``app.wsgi_app = WSGICorrelationIdMiddleware(app.wsgi_app)``)."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], header_name: str = "X-Correlation-ID"
    ) -> None:
        self.app = app
        self.header_name = header_name

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        cid = _choose_id(environ.get("HTTP_X_CORRELATION_ID"), environ.get("HTTP_X_REQUEST_ID"))
        deadline = _deadline_seconds(environ.get("HTTP_X_REQUEST_DEADLINE_MS"))
        echo = self.header_name

        def start_with_id(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() != echo.lower()]
            headers.append((echo, cid))
            return start_response(status, headers, *args)

        with _Binding(cid, deadline):
            # Consume the body inside the binding so streamed responses still see the id.
            return list(self.app(environ, start_with_id))
