"""The circuit breaker seen through the clients: when it opens, what open means, how it heals.

Attempts are set to 1 unless a test is about retries, so "N calls" means "N requests". The
rules changed on purpose (issues 17 item 9 and 22): the service circuit opens on failures that
say the service is gone (here: 15 connection failures in a row), a route's 5xx opens only that
route's circuit (90 % of its last 100 calls, from 50 calls on); see ``test_route_circuits.py``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from resilience_helpers import ROUTE, Handler, Patient, get, make_config
from structlog.testing import capture_logs

from nilecare_clients import (
    AsyncBaseServiceClient,
    BaseServiceClient,
    CircuitOpenError,
    InvalidRequestError,
    NotFoundError,
    ServerError,
    ServiceError,
)
from nilecare_clients._resilience.registry import state_for
from support import FakeClock, call

ONE_ATTEMPT = {"max_attempts": 1}
GONE = 15  # BreakerPolicy().consecutive_failures


def refused() -> httpx.ConnectError:
    return httpx.ConnectError("scripted", request=httpx.Request("GET", "http://clinical.test"))


async def outcome(client: Any) -> str:
    """Run one GET; ``"ok"``, ``"open"`` or the error class name."""
    try:
        await get(client)
    except CircuitOpenError:
        return "open"
    except ServiceError as exc:
        return type(exc).__name__
    return "ok"


async def open_breaker(client: Any, handler: Handler) -> None:
    handler.script.extend([refused() for _ in range(GONE)])
    for _ in range(GONE):
        assert await outcome(client) == "ServiceUnreachableError"
    assert client.breaker_state == "open"


async def test_opens_after_consecutive_transport_failures(
    make_client: Any, clock: FakeClock
) -> None:
    """Fifteen refused connections in a row open the service; the next call makes no request."""
    handler = Handler(*[refused() for _ in range(GONE + 1)])
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    results = [await outcome(client) for _ in range(GONE + 1)]
    assert results == ["ServiceUnreachableError"] * GONE + ["open"]
    assert handler.count == GONE


async def test_a_success_resets_the_consecutive_count(make_client: Any, clock: FakeClock) -> None:
    """Fourteen refusals, a success, fourteen refusals: never fifteen in a row."""
    gone = [refused() for _ in range(GONE - 1)]
    handler = Handler(*gone, 200, *[refused() for _ in range(GONE - 1)])
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    for _ in range(2 * GONE - 1):
        await outcome(client)
    assert client.breaker_state == "closed"


async def test_a_route_opens_on_failure_rate_once_minimum_volume_is_reached(
    make_client: Any, clock: FakeClock
) -> None:
    """5 successes then 500s: the route opens at the 50th call (45/50 = 90 %), not before,
    and the service stays closed (one route's 5xx says the service is there)."""
    handler = Handler(*([200] * 5), default=500)
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    breaker = client._core.breaker
    for _ in range(49):
        await outcome(client)
    assert breaker.route_state(ROUTE) == "closed"
    await outcome(client)
    assert breaker.route_state(ROUTE) == "open"
    assert client.breaker_state == "closed"
    assert await outcome(client) == "open"
    assert handler.count == 50


async def test_rate_below_threshold_stays_closed(make_client: Any, clock: FakeClock) -> None:
    """40 % and then 80 % failures over many calls never open anything (threshold 90 %)."""
    handler = Handler(*([200, 500, 200, 500, 200] * 40 + [500, 500, 200, 500, 500] * 40))
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    for _ in range(400):
        await outcome(client)
    assert client.breaker_state == "closed"
    assert client._core.breaker.route_state(ROUTE) == "closed"


async def test_rate_is_measured_over_the_last_hundred_calls(
    make_client: Any, clock: FakeClock
) -> None:
    """After 100 successes, failures open the route once the last 100 hold 90 of them."""
    handler = Handler(*([200] * 100), default=500)
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    for _ in range(100 + 89):  # last 100: 89 failures
        await outcome(client)
    assert client._core.breaker.route_state(ROUTE) == "closed"
    await outcome(client)  # the 90th failure in the last 100
    assert client._core.breaker.route_state(ROUTE) == "open"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429])
async def test_4xx_never_count(make_client: Any, clock: FakeClock, status: int) -> None:
    """Fifty 4xx answers leave the breaker closed with a zero failure rate."""
    handler = Handler(default=status)
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    for _ in range(50):
        await outcome(client)
    assert client.breaker_state == "closed"
    assert state_for(client.config).breaker.failure_rate() == 0.0


async def test_4xx_between_failures_break_the_run(make_client: Any, clock: FakeClock) -> None:
    """A 404 is a healthy answer: it interrupts a run of consecutive failures."""
    run = GONE - 1
    handler = Handler(*[refused() for _ in range(run)], 404, *[refused() for _ in range(run)])
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    for _ in range(2 * run + 1):
        await outcome(client)
    assert client.breaker_state == "closed"


async def test_invalid_requests_never_count(make_client: Any, clock: FakeClock) -> None:
    """InvalidRequestError is raised before I/O and reaches neither server nor breaker."""
    handler = Handler(*[refused() for _ in range(GONE)])
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    for _ in range(GONE - 1):
        await outcome(client)
    for _ in range(10):
        with pytest.raises(InvalidRequestError):
            await call(
                client._request("GET", ROUTE, path_params={"id": "../x"}, response_model=Patient)
            )
    assert handler.count == GONE - 1
    assert await outcome(client) == "ServiceUnreachableError"  # the 15th real failure opens it
    assert client.breaker_state == "open"


async def test_open_breaker_fails_fast_without_io(make_client: Any, clock: FakeClock) -> None:
    """While open, calls raise CircuitOpenError at once, no request, retry_after to the probe."""
    handler = Handler()
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    await open_breaker(client, handler)
    clock.advance(10.0)
    with pytest.raises(CircuitOpenError) as info:
        await get(client)
    assert handler.count == GONE
    assert info.value.retry_after == pytest.approx(20.0)
    assert info.value.request_sent is False
    assert "retry_after=20s" in str(info.value)


async def test_circuit_open_rejections_never_count(make_client: Any, clock: FakeClock) -> None:
    """Many rejected calls neither extend the open period nor block the probe."""
    handler = Handler()
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    await open_breaker(client, handler)
    for _ in range(100):
        clock.advance(0.29)
        assert await outcome(client) == "open"
    clock.advance(1.01)  # 30 s after opening
    assert await outcome(client) == "ok"
    assert client.breaker_state == "closed"


async def test_breaker_counts_calls_not_attempts(make_client: Any, clock: FakeClock) -> None:
    """Each logical call is one verdict: 50 calls that exhaust their attempts open the route."""
    handler = Handler(default=500)
    client = make_client(make_config(clock), handler)  # 3 attempts per call
    breaker = client._core.breaker
    for _ in range(49):
        with pytest.raises(ServerError):
            await get(client)
    assert handler.count > 49  # retried attempts, but only 49 failed calls
    assert breaker.route_state(ROUTE) == "closed"
    with pytest.raises(ServerError) as info:
        await get(client)  # the 50th failed call opens the route, and raises its own 500
    assert not isinstance(info.value, CircuitOpenError)
    assert breaker.route_state(ROUTE) == "open"
    sent, sleeps = handler.count, len(clock.sleeps)
    with pytest.raises(CircuitOpenError) as refused_call:
        await get(client)
    assert refused_call.value.route_open is True
    assert handler.count == sent and len(clock.sleeps) == sleeps  # no I/O, no backoff


async def test_a_call_that_succeeds_on_retry_is_a_success(
    make_client: Any, clock: FakeClock
) -> None:
    """Transient failures that a retry absorbs never count against the breaker."""
    handler = Handler(*([500, 200] * 10))
    client = make_client(make_config(clock), handler)
    for _ in range(10):
        await get(client)
    assert handler.count == 20
    assert client.breaker_state == "closed"
    assert client._core.breaker.failure_rate() == 0.0


async def test_half_open_probe_success_closes(make_client: Any, clock: FakeClock) -> None:
    """After reset_timeout one probe goes through; its success closes the breaker."""
    handler = Handler()
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    await open_breaker(client, handler)
    clock.advance(30.0)
    assert await outcome(client) == "ok"
    assert client.breaker_state == "closed"
    assert [await outcome(client) for _ in range(3)] == ["ok"] * 3


async def test_half_open_probe_failure_reopens(make_client: Any, clock: FakeClock) -> None:
    """A probe that gets no answer reopens the service for a full reset_timeout."""
    handler = Handler()
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    await open_breaker(client, handler)
    clock.advance(30.0)
    handler.script.append(refused())
    assert await outcome(client) == "ServiceUnreachableError"
    assert client.breaker_state == "open"
    with pytest.raises(CircuitOpenError) as info:
        await get(client)
    assert info.value.retry_after == pytest.approx(30.0)
    assert handler.count == GONE + 1


async def test_a_probe_answered_with_a_5xx_closes_the_service(
    make_client: Any, clock: FakeClock
) -> None:
    """Changed rule: a 503 from the probe's route proves the service is there; only that
    route's window hears the failure (its circuit judges the route)."""
    handler = Handler()
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    await open_breaker(client, handler)
    clock.advance(30.0)
    handler.script.append(503)
    assert await outcome(client) == "ServiceUnavailableError"
    assert client.breaker_state == "closed"
    assert client._core.breaker.route_state(ROUTE) == "closed"


async def test_half_open_admits_only_max_probes(
    make_client: Any, clock: FakeClock, client_kind: str
) -> None:
    """With half_open_max_calls=2, a third call while two probes are in flight is refused."""
    seen: list[str] = []
    config = make_config(clock, retry=ONE_ATTEMPT, breaker={"half_open_max_calls": 2})

    def answer(request: httpx.Request) -> httpx.Response:
        if len(seen) <= GONE:
            raise refused()
        return httpx.Response(200, json={"success": True, "data": {"id": "p-1"}})

    # While probe n is in flight, the handler makes call n+1 (nested): that is concurrency
    # without threads, so the order of events is exact.
    if client_kind == "sync":

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append("request")
            if len(seen) in (GONE + 1, GONE + 2):
                try:
                    client._request("GET", "/nested")
                    seen.append("nested ok")
                except CircuitOpenError as exc:
                    seen.append(f"nested refused {exc.retry_after:g}")
            return answer(request)

        client = make_client(config, handler)
    else:

        async def async_handler(request: httpx.Request) -> httpx.Response:
            seen.append("request")
            if len(seen) in (GONE + 1, GONE + 2):
                try:
                    await client._request("GET", "/nested")
                    seen.append("nested ok")
                except CircuitOpenError as exc:
                    seen.append(f"nested refused {exc.retry_after:g}")
            return answer(request)

        client = make_client(config, transport=httpx.MockTransport(async_handler))
    for _ in range(GONE):
        await outcome(client)
    assert client.breaker_state == "open"
    clock.advance(30.0)
    assert await outcome(client) == "ok"
    assert seen[GONE:] == ["request", "request", "nested refused 0", "nested ok"]
    assert client.breaker_state == "closed"


async def test_state_changes_are_logged(make_client: Any, clock: FakeClock) -> None:
    """Opening, half-opening and closing each emit a namespaced structlog event."""
    handler = Handler()
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    with capture_logs() as logs:
        await open_breaker(client, handler)
        clock.advance(30.0)
        await outcome(client)
    changes = [
        (e["event"], e["previous_state"], e["state"], e["log_level"])
        for e in logs
        if e["event"].startswith("nilecare_clients.breaker_")
    ]
    assert changes == [
        ("nilecare_clients.breaker_opened", "closed", "open", "warning"),
        ("nilecare_clients.breaker_half_opened", "open", "half-open", "info"),
        ("nilecare_clients.breaker_closed", "half-open", "closed", "info"),
    ]
    assert all(e["service"] == "clinical" for e in logs if "breaker_" in e["event"])


async def test_listeners_see_the_new_state(make_client: Any, clock: FakeClock) -> None:
    """A listener is called on each transition and reads the state it is told about."""
    handler = Handler()
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    heard: list[tuple[str, str, str, str]] = []
    state_for(client.config).breaker.add_listener(
        lambda service, old, new: heard.append((service, old, new, client.breaker_state))
    )
    await open_breaker(client, handler)
    clock.advance(30.0)
    await outcome(client)
    assert heard == [
        ("clinical", "closed", "open", "open"),
        ("clinical", "open", "half-open", "half-open"),
        ("clinical", "half-open", "closed", "closed"),
    ]


async def test_breaker_state_on_client_and_health_check(make_client: Any, clock: FakeClock) -> None:
    """client.breaker_state and health_check().breaker_state both report the shared state."""
    handler = Handler()
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    health = await call(client.health_check())
    assert (client.breaker_state, health.breaker_state) == ("closed", "closed")
    await open_breaker(client, handler)
    health = await call(client.health_check())
    assert health.ok is True  # the probe itself bypasses the breaker
    assert health.breaker_state == "open"


async def test_breaker_is_shared_by_instances_of_one_service(
    make_client: Any, clock: FakeClock
) -> None:
    """A second client of the same service name sees the breaker the first one opened."""
    handler = Handler()
    first = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    await open_breaker(first, handler)
    second = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    assert second.breaker_state == "open"
    assert await outcome(second) == "open"
    other = make_client(
        make_config(clock, retry=ONE_ATTEMPT).model_copy(update={"name": "facility"}), handler
    )
    assert other.breaker_state == "closed"


async def test_breaker_is_shared_by_sync_and_async_clients(clock: FakeClock) -> None:
    """The sync and the async client of one service share one breaker, both ways round."""
    handler = Handler()
    config = make_config(clock, retry=ONE_ATTEMPT)
    sync_client = BaseServiceClient(config=config, transport=httpx.MockTransport(handler))
    async_client = AsyncBaseServiceClient(config=config, transport=httpx.MockTransport(handler))
    handler.script.extend([refused() for _ in range(GONE)])
    for _ in range(GONE):
        with pytest.raises(ServiceError):
            sync_client._request("GET", "/x")
    assert async_client.breaker_state == "open"
    with pytest.raises(CircuitOpenError):
        await async_client._request("GET", "/x")
    clock.advance(30.0)
    await async_client._request("GET", "/x")  # the async probe closes it for both
    assert sync_client.breaker_state == "closed"
    assert handler.count == GONE + 1
    sync_client.close()
    await async_client.aclose()


async def test_with_options_shares_the_breaker(make_client: Any, clock: FakeClock) -> None:
    """A with_options copy is the same service, so it shares the open breaker."""
    handler = Handler()
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    await open_breaker(client, handler)
    assert await outcome(client.with_options(read_timeout=1.0)) == "open"


async def test_disabled_breaker_never_opens(make_client: Any, clock: FakeClock) -> None:
    """BreakerPolicy(enabled=False) lets every call through however many fail."""
    handler = Handler(default=500)
    config = make_config(clock, retry=ONE_ATTEMPT, breaker={"enabled": False})
    client = make_client(config, handler)
    for _ in range(30):
        assert await outcome(client) == "ServerError"
    assert client.breaker_state == "closed"
    assert handler.count == 30


async def test_not_found_is_a_healthy_answer(make_client: Any, clock: FakeClock) -> None:
    """A 404 counts as a success for the breaker, even for a half-open probe."""
    handler = Handler()
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    await open_breaker(client, handler)
    clock.advance(30.0)
    handler.script.append(404)
    with pytest.raises(NotFoundError):
        await get(client)
    assert client.breaker_state == "closed"


async def test_a_failing_listener_never_fails_the_call(make_client: Any, clock: FakeClock) -> None:
    """A listener that raises is logged; the call that tripped the breaker raises its own error."""
    handler = Handler(*[refused() for _ in range(GONE)])
    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)

    def broken(service: str, old: str, new: str) -> None:
        raise RuntimeError("metrics backend down")

    state_for(client.config).breaker.add_listener(broken)
    with capture_logs() as logs:
        results = [await outcome(client) for _ in range(GONE)]
    assert results == ["ServiceUnreachableError"] * GONE
    assert client.breaker_state == "open"
    failed = [e for e in logs if e["event"] == "nilecare_clients.breaker_listener_failed"]
    assert [(e["state"], e["error"]) for e in failed] == [("open", "RuntimeError")]
