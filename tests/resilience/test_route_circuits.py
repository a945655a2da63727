"""Per-route isolation and adaptive throttling, seen through the clients (issue 17 item 9,
issue 22): one broken route leaves the others working, the service circuit opens only for what
says the service is gone, and a degraded service is shed proportionally, never cut off.

One test body per behaviour, run for the sync and the async client (``client_kind``).
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from resilience_helpers import Handler, make_config
from structlog.testing import capture_logs

from nilecare_clients import (
    BreakerPolicy,
    CircuitOpenError,
    ConfigurationError,
    RejectedLocallyError,
    ServerError,
    ServiceError,
    ServiceUnavailableError,
    ThrottledError,
)
from nilecare_clients._decisions import is_final
from nilecare_clients.observability import (
    BreakerTransition,
    dependencies_health,
    register_hook,
    unregister_hook,
)
from nilecare_clients.observability.prometheus import PrometheusMetrics
from support import FakeClock, call

ONE_ATTEMPT = {"max_attempts": 1}
LIST = "/api/v1/patients"
ONE = "/api/v1/patients/{id}"


class Routed(Handler):
    """Answers 500 on the broken paths and 200 elsewhere."""

    def __init__(self, broken: set[str]) -> None:
        super().__init__()
        self.broken = broken

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path in self.broken:
            return httpx.Response(500, json={"success": False, "error": {"code": "E"}})
        return httpx.Response(200, json={"success": True, "data": {"id": "p-1"}})


async def list_patients(client: Any) -> str:
    try:
        await call(client._request("GET", LIST))
    except CircuitOpenError as exc:
        return "route open" if exc.route_open else "service open"
    except ThrottledError:
        return "throttled"
    except ServiceError as exc:
        return type(exc).__name__
    return "ok"


async def get_one(client: Any) -> str:
    try:
        await call(client._request("GET", ONE, path_params={"id": "p-1"}))
    except CircuitOpenError as exc:
        return "route open" if exc.route_open else "service open"
    except ServiceError as exc:
        return type(exc).__name__
    return "ok"


async def test_one_broken_route_leaves_the_others_working(
    make_client: Any, clock: FakeClock
) -> None:
    """GET /patients answering 500 every time opens its route after 50 calls; GET
    /patients/{id} keeps working, the service stays closed, and the event, the log line and
    the health report name the route (never a path)."""
    handler = Routed({LIST})
    client = make_client(
        make_config(clock, retry=ONE_ATTEMPT), transport=httpx.MockTransport(handler)
    )
    heard: list[Any] = []
    register_hook(heard.append)
    try:
        with capture_logs() as logs:
            results = [await list_patients(client) for _ in range(51)]
    finally:
        unregister_hook(heard.append)
    assert results == ["ServerError"] * 50 + ["route open"]
    assert await get_one(client) == "ok"
    assert client.breaker_state == "closed"
    assert [e for e in heard if isinstance(e, BreakerTransition)] == [
        BreakerTransition("clinical", "closed", "open", LIST)
    ]
    opened = [e for e in logs if e["event"] == "nilecare_clients.breaker_opened"]
    assert [(e["route"], e["scope"]) for e in opened] == [(LIST, "route")]
    report = dependencies_health()
    service = report["services"]["clinical"]
    assert report["status"] == "degraded"
    assert service["breaker_state"] == "closed"
    assert list(service["open_routes"]) == [LIST]
    assert service["open_routes"][LIST]["breaker_state"] == "open"
    assert service["open_routes"][LIST]["failure_rate"] == 1.0


async def test_5xx_across_routes_opens_the_service(make_client: Any, clock: FakeClock) -> None:
    """Every route failing is the service failing: with both routes answering 500 the service
    circuit opens (at 90 % of its last 50 calls) and refuses every route."""
    handler = Routed({LIST, "/api/v1/patients/p-1"})
    client = make_client(
        make_config(clock, retry=ONE_ATTEMPT), transport=httpx.MockTransport(handler)
    )
    for _ in range(25):
        assert await list_patients(client) == "ServerError"
        assert await get_one(client) == "ServerError"
    assert client.breaker_state == "open"
    assert await get_one(client) == "service open"
    assert await list_patients(client) == "service open"
    assert handler.count == 50


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError],
    ids=["refused", "timeout", "reset"],
)
async def test_no_answer_opens_the_service(
    make_client: Any, clock: FakeClock, failure: type[httpx.TransportError]
) -> None:
    """Refused, timed out or reset before an answer, 15 calls in a row: the service is gone."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise failure("scripted", request=request)

    client = make_client(make_config(clock, retry=ONE_ATTEMPT), handler)
    for _ in range(15):
        assert await list_patients(client) not in ("route open", "service open")
    assert client.breaker_state == "open"
    assert await get_one(client) == "service open"


async def test_throttled_calls_never_reach_the_wire(make_client: Any, clock: FakeClock) -> None:
    """With every call refused with 503, the throttle sheds (draw 0.0 sheds whenever p > 0):
    ThrottledError, request_sent False, no retry, no backoff, no verdict for the circuits."""
    handler = Handler(default=503)
    breaker = BreakerPolicy(throttle_random=lambda: 0.0)
    client = make_client(make_config(clock, retry=ONE_ATTEMPT, breaker=breaker), handler)
    results = [await list_patients(client) for _ in range(21)]
    assert results == ["ServiceUnavailableError"] * 20 + ["throttled"]
    assert handler.count == 20
    rate_before = client._core.breaker.failure_rate(LIST)
    sleeps = len(clock.sleeps)
    with pytest.raises(ThrottledError) as info:
        await call(client._request("GET", LIST))
    error = info.value
    assert isinstance(error, RejectedLocallyError) and isinstance(error, ServiceUnavailableError)
    assert error.request_sent is False and is_final(error)
    assert "throttled locally" in str(error)
    assert handler.count == 20 and len(clock.sleeps) == sleeps
    assert client._core.breaker.failure_rate(LIST) == rate_before  # neither success nor failure
    assert dependencies_health()["services"]["clinical"]["throttle_probability"] > 0.9


async def test_throttle_sheds_nothing_while_most_calls_are_accepted(
    make_client: Any, clock: FakeClock
) -> None:
    """At one 503 in three the service accepts more than 1/K of the calls: nothing is shed,
    even with the most eager draw."""
    handler = Handler(*([200, 200, 503] * 40))
    breaker = BreakerPolicy(throttle_random=lambda: 0.0)
    client = make_client(make_config(clock, retry=ONE_ATTEMPT, breaker=breaker), handler)
    results = [await list_patients(client) for _ in range(120)]
    assert "throttled" not in results
    assert handler.count == 120


async def test_a_probe_is_never_throttled(make_client: Any, clock: FakeClock) -> None:
    """After the reset timeout the route's probe goes out even while the throttle would shed."""
    handler = Handler(default=503)
    policy = BreakerPolicy(
        throttle_random=lambda: 0.0, window_size=5, minimum_calls=5, throttle_min_requests=1
    )
    client = make_client(make_config(clock, retry=ONE_ATTEMPT, breaker=policy), handler)
    breaker = client._core.breaker
    while breaker.route_state(LIST) != "open":
        clock.advance(3.0)  # lets the throttle's window drain between calls
        await list_patients(client)
    sent = handler.count
    clock.advance(30.0)
    handler.default = 200
    assert await list_patients(client) == "ok"
    assert handler.count == sent + 1
    assert breaker.route_state(LIST) == "closed"


def test_prometheus_names_the_route_and_counts_refusals(clock: FakeClock) -> None:
    """The route gauge reads 2 for the open route only; refused calls are counted by reason."""
    from nilecare_clients import BaseServiceClient

    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry).install()
    try:
        handler = Routed({LIST})
        client = BaseServiceClient(
            config=make_config(clock, retry=ONE_ATTEMPT), transport=httpx.MockTransport(handler)
        )
        for _ in range(52):
            with contextlib.suppress(ServiceError):
                client._request("GET", LIST)
        client._request("GET", ONE, path_params={"id": "p-1"})
        sample = registry.get_sample_value
        assert (
            sample("nilecare_client_route_breaker_state", {"service": "clinical", "route": LIST})
            == 2
        )
        assert (
            sample("nilecare_client_route_breaker_state", {"service": "clinical", "route": ONE})
            == 0
        )
        assert sample("nilecare_client_breaker_state", {"service": "clinical"}) == 0
        refused = {"service": "clinical", "route": LIST, "method": "GET", "reason": "circuit_open"}
        assert sample("nilecare_client_calls_refused_total", refused) == 2
        assert sample("nilecare_client_throttle_probability", {"service": "clinical"}) == 0.0
        client.close()
    finally:
        metrics.uninstall()


def test_a_failing_route_errors_are_server_errors() -> None:
    """Sanity of the tree: an open route's refusal is still a ServerError for callers that
    serve stale data on ServerError (the Facility cache), and never a retry."""
    error = CircuitOpenError(
        service="clinical", method="GET", path_template=LIST, route_open=True, retry_after=3.0
    )
    assert isinstance(error, ServerError) and is_final(error) and error.request_sent is False


def test_a_minimum_volume_larger_than_the_window_is_refused() -> None:
    """minimum_calls above window_size would never let the rate rule judge: a one-line
    ConfigurationError naming the rule, at construction."""
    with pytest.raises(ConfigurationError) as info:
        BreakerPolicy(window_size=10, minimum_calls=20)
    assert "minimum_calls must be at most window_size" in str(info.value)
    assert "\n" not in str(info.value)
