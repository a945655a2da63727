"""A call's deadline bounds all of its attempts and backoff, and travels downstream."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from resilience_helpers import Handler, get, make_config

from nilecare_clients import (
    ServiceConfig,
    ServiceTimeoutError,
    ServiceUnavailableError,
    deadline_scope,
)
from scripted_server import Action, scripted_server
from support import FakeClock


def slow_service(clock: FakeClock, seconds: float) -> Any:
    """An ``on_request`` hook: every answer takes ``seconds`` of fake time."""

    def hook(request: httpx.Request) -> None:
        clock.advance(seconds)

    return hook


async def test_deadline_covers_attempts_and_backoff(make_client: Any, clock: FakeClock) -> None:
    """Slow failing attempts plus backoff stop at the deadline, never after it."""
    handler = Handler(default=503)
    handler.on_request = slow_service(clock, 1.5)
    retry = {"backoff_base": 1.0, "jitter": lambda: 1.0}
    client = make_client(make_config(clock, deadline=4.0, retry=retry), handler)
    started = clock.now
    with pytest.raises(ServiceUnavailableError):
        await get(client)
    # 1.5 s attempt, 1 s backoff, 1.5 s attempt: a third would start after the deadline.
    assert handler.count == 2
    assert clock.sleeps == [1.0]
    assert clock.now - started <= 4.0


async def test_attempt_timeouts_shrink_to_the_time_left(make_client: Any, clock: FakeClock) -> None:
    """Each attempt's timeouts are the smaller of their own value and the time left."""
    handler = Handler(503, 503, 200)
    handler.on_request = slow_service(clock, 2.0)
    retry = {"backoff_base": 0.5, "jitter": lambda: 1.0}
    client = make_client(make_config(clock, deadline=6.0, read_timeout=5.0, retry=retry), handler)
    await get(client)
    reads = [r.extensions["timeout"]["read"] for r in handler.requests]
    # left: 6.0, then 6 - 2 - 0.5 = 3.5, then 3.5 - 2 - 1.0 = 0.5
    assert reads == pytest.approx([5.0, 3.5, 0.5])


async def test_deadline_header_decreases_across_attempts(
    make_client: Any, clock: FakeClock
) -> None:
    """X-Request-Deadline-Ms carries the time left, smaller on each retry."""
    handler = Handler(503, 503, 200)
    handler.on_request = slow_service(clock, 1.0)
    client = make_client(make_config(clock), handler)
    await get(client)
    sent = [int(r.headers["X-Request-Deadline-Ms"]) for r in handler.requests]
    # 10 s deadline; 1 s per attempt; backoff 0.05 s then 0.1 s (jitter 0.5).
    assert sent == [10000, 8950, 7850]


async def test_deadline_scope_shortens_the_call_deadline(
    make_client: Any, clock: FakeClock
) -> None:
    """Inside deadline_scope the call carries the scope's budget, not the configured one."""
    handler = Handler(200)
    client = make_client(make_config(clock), handler)
    with deadline_scope(2.0):
        await get(client)
    assert 1900 <= int(handler.requests[0].headers["X-Request-Deadline-Ms"]) <= 2000


async def test_expired_deadline_fails_before_any_io(make_client: Any, clock: FakeClock) -> None:
    """A call whose deadline already passed raises ServiceTimeoutError and sends nothing."""
    handler = Handler(200)
    client = make_client(make_config(clock), handler)
    with deadline_scope(0.0), pytest.raises(ServiceTimeoutError) as info:
        await get(client)
    assert handler.count == 0
    assert info.value.request_sent is False
    assert "deadline exceeded" in str(info.value)


async def test_deadline_reached_between_attempts_stops_retrying(
    make_client: Any, clock: FakeClock
) -> None:
    """When an attempt ends past the deadline, no further attempt is sent."""
    handler = Handler(default=503)
    handler.on_request = slow_service(clock, 11.0)
    client = make_client(make_config(clock), handler)
    with pytest.raises(ServiceUnavailableError):
        await get(client)
    assert handler.count == 1
    assert clock.sleeps == []


async def test_deadline_scope_bounds_a_call_to_a_slow_server(loopback: Any) -> None:
    """deadline_scope(0.05) ends a call to a 1 s server in about 50 ms, retries included."""
    with scripted_server() as server:
        server.default = Action(delay=1.0)
        # The real clock and real sleeps: this test is about wall time.
        client = loopback(ServiceConfig(name="clinical", base_url=server.url))
        started = time.monotonic()
        with deadline_scope(0.05), pytest.raises(ServiceTimeoutError):
            await get(client)
        elapsed = time.monotonic() - started
        assert elapsed < 0.5
        assert server.count() == 1
        assert int(server.requests[0].headers["x-request-deadline-ms"]) <= 50
