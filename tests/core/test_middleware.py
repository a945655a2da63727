"""Inbound correlation/deadline middleware for ASGI and WSGI apps."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from nilecare_clients import (
    CorrelationIdMiddleware,
    WSGICorrelationIdMiddleware,
    get_correlation_id,
)
from nilecare_clients._correlation import get_deadline


def asgi_app() -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        deadline = get_deadline()
        body = f"{get_correlation_id()}|{'none' if deadline is None else 'set'}".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return CorrelationIdMiddleware(app)


def wsgi_app() -> Any:
    def app(environ: Any, start_response: Any) -> list[bytes]:
        deadline = get_deadline()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{get_correlation_id()}|{'none' if deadline is None else 'set'}".encode()]

    return WSGICorrelationIdMiddleware(app)


@pytest.fixture(params=["asgi", "wsgi"])
def send(request: pytest.FixtureRequest) -> Any:
    """A function sending one request through the ASGI or the WSGI middleware."""

    async def via_asgi(headers: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi_app()), base_url="http://app"
        ) as c:
            return await c.get("/", headers=headers)

    async def via_wsgi(headers: dict[str, str]) -> httpx.Response:
        with httpx.Client(
            transport=httpx.WSGITransport(app=wsgi_app()), base_url="http://app"
        ) as c:
            return c.get("/", headers=headers)  # noqa: ASYNC212 - WSGI apps are sync

    return via_asgi if request.param == "asgi" else via_wsgi


async def test_valid_inbound_id_is_bound_and_echoed(send: Any) -> None:
    """A valid X-Correlation-ID is bound during the request and echoed on the response."""
    response = await send({"X-Correlation-ID": "abc-123:x.y"})
    assert response.text.startswith("abc-123:x.y|")
    assert response.headers["x-correlation-id"] == "abc-123:x.y"


async def test_request_id_is_the_fallback(send: Any) -> None:
    """Without X-Correlation-ID, X-Request-ID names the chain."""
    response = await send({"X-Request-ID": "req-9"})
    assert response.headers["x-correlation-id"] == "req-9"


async def test_invalid_id_is_replaced_and_logged_without_its_value(send: Any) -> None:
    """An invalid inbound id is replaced by a new UUID; the log names the replacement only."""
    bad = "Amna Osman <script>"
    with capture_logs() as logs:
        response = await send({"X-Correlation-ID": bad})
    new_id = response.headers["x-correlation-id"]
    assert new_id != bad and len(new_id) == 36
    assert response.text.startswith(new_id)
    events = [e for e in logs if e["event"] == "nilecare_clients.correlation_id_replaced"]
    assert events and events[0]["replacement"] == new_id
    assert bad not in repr(logs)


async def test_missing_id_gets_a_new_one(send: Any) -> None:
    """No inbound id: one is generated, bound and echoed, with nothing logged as replaced."""
    with capture_logs() as logs:
        response = await send({})
    assert len(response.headers["x-correlation-id"]) == 36
    assert not [e for e in logs if e["event"] == "nilecare_clients.correlation_id_replaced"]


async def test_deadline_header_opens_a_deadline_scope(send: Any) -> None:
    """X-Request-Deadline-Ms bounds the calls this request makes downstream."""
    assert (await send({"X-Request-Deadline-Ms": "1500"})).text.endswith("|set")
    assert (await send({})).text.endswith("|none")
    assert (await send({"X-Request-Deadline-Ms": "soon"})).text.endswith("|none")
