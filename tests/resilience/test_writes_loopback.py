"""Writes against a real socket: a POST that may have been applied is never sent twice.

The scripted server counts what actually arrived, so "exactly one request" is measured on the
wire, not inferred from the client's bookkeeping. Timeouts here are real but short.
"""

from __future__ import annotations

from typing import Any

import pytest
from resilience_helpers import make_config, send
from structlog.testing import capture_logs

from nilecare_clients import (
    OutcomeUnknownError,
    ServiceUnavailableError,
    ServiceUnreachableError,
)
from scripted_server import Action, free_port, scripted_server
from support import FakeClock

SLOW = Action(status=201, delay=0.4)
RESET = Action(reset=True)
CRASH = Action(status=500, body={"success": False, "error": {"code": "INTERNAL"}})


@pytest.mark.parametrize(("action", "status"), [(SLOW, None), (RESET, None), (CRASH, 500)])
async def test_post_without_key_that_may_have_been_applied_is_sent_once(
    loopback: Any, clock: FakeClock, action: Action, status: int | None
) -> None:
    """Read timeout, reset after the body, or 500 on a POST without key: one request, then
    OutcomeUnknownError."""
    with scripted_server() as server:
        server.default = action
        client = loopback(make_config(clock, server.url, read_timeout=0.15))
        with pytest.raises(OutcomeUnknownError) as info:
            await send(client, "POST")
        assert server.count("POST") == 1
        assert info.value.status_code == status
        assert info.value.idempotency_key is None
        assert clock.sleeps == []


@pytest.mark.parametrize("action", [SLOW, RESET, CRASH])
async def test_keyed_post_not_honoured_is_sent_once_and_carries_the_key(
    loopback: Any, clock: FakeClock, action: Action
) -> None:
    """A key the service does not honour makes no write repeatable; the error carries the key."""
    with scripted_server() as server:
        server.default = action
        config = make_config(clock, server.url, read_timeout=0.15)
        client = loopback(config)
        with pytest.raises(OutcomeUnknownError) as info:
            await send(client, "POST", "idem-1")
        assert server.count("POST") == 1
        assert info.value.idempotency_key == "idem-1"
        assert "idempotency_key=idem-1" in str(info.value)


@pytest.mark.parametrize("action", [SLOW, RESET, CRASH])
async def test_keyed_post_honoured_is_retried_with_the_same_key(
    loopback: Any, clock: FakeClock, action: Action
) -> None:
    """When the service honours Idempotency-Key, the same failures are retried with one key."""
    with scripted_server() as server:
        server.script(action)
        config = make_config(clock, server.url, read_timeout=0.15, idempotency_keys_honoured=True)
        client = loopback(config)
        assert (await send(client, "POST", "idem-2")).id == "p-1"
        assert server.count("POST") == 2
        assert {r.headers["idempotency-key"] for r in server.requests} == {"idem-2"}
        assert server.requests[1].headers["x-retry-attempt"] == "1"


@pytest.mark.parametrize("status", [429, 503])
async def test_post_without_key_refused_with_429_or_503_is_retried(
    loopback: Any, clock: FakeClock, status: int
) -> None:
    """A 429/503 proves the write was not processed, so even a POST without key is retried."""
    with scripted_server() as server:
        server.script(Action(status=status, body={}), Action(status=status, body={}))
        client = loopback(make_config(clock, server.url))
        assert (await send(client, "POST")).id == "p-1"
        assert server.count("POST") == 3


async def test_post_without_key_refused_connection_is_retried(
    loopback: Any, clock: FakeClock
) -> None:
    """Connection refused sent nothing, so a POST without key is retried to the last attempt."""
    client = loopback(make_config(clock, f"http://127.0.0.1:{free_port()}"))
    with capture_logs() as logs, pytest.raises(ServiceUnreachableError) as info:
        await send(client, "POST")
    assert not isinstance(info.value, OutcomeUnknownError)
    assert info.value.request_sent is False
    scheduled = [e for e in logs if e["event"] == "nilecare_clients.retry_scheduled"]
    assert [e["attempt"] for e in scheduled] == [2, 3]
    assert len(clock.sleeps) == 2


async def test_post_without_key_503_three_times_is_not_outcome_unknown(
    loopback: Any, clock: FakeClock
) -> None:
    """Three 503 refusals raise ServiceUnavailableError: the service said it did nothing."""
    with scripted_server() as server:
        server.default = Action(status=503, body={})
        client = loopback(make_config(clock, server.url))
        with pytest.raises(ServiceUnavailableError) as info:
            await send(client, "POST")
        assert not isinstance(info.value, OutcomeUnknownError)
        assert server.count("POST") == 3


async def test_503_then_500_stops_at_the_500(loopback: Any, clock: FakeClock) -> None:
    """A retried POST whose second attempt gets a 500 stops there with OutcomeUnknownError."""
    with scripted_server() as server:
        server.script(Action(status=503, body={}), CRASH)
        client = loopback(make_config(clock, server.url))
        with pytest.raises(OutcomeUnknownError):
            await send(client, "POST")
        assert server.count("POST") == 2
