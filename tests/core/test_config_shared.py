"""One rule for shared state: per-service settings must agree; client.config never lies."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from nilecare_clients import (
    AsyncBaseServiceClient,
    BaseServiceClient,
    BreakerPolicy,
    CachePolicy,
    ConfigurationError,
    RetryPolicy,
    ServiceConfig,
)
from nilecare_clients.facility import AsyncFacilityServiceClient, FacilityServiceClient

CLIENTS = {"sync": BaseServiceClient, "async": AsyncBaseServiceClient}


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": {"id": "t1"}})


def build(kind: str, **changes: Any) -> Any:
    config = ServiceConfig(name="clinical", base_url="http://clinical.test", **changes)
    transport = httpx.MockTransport(ok)
    if kind == "async":
        return AsyncBaseServiceClient(config=config, transport=transport)
    return BaseServiceClient(config=config, transport=transport)


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_in_flight": 2}, "max_in_flight"),
        ({"max_connections": 7}, "max_in_flight"),  # the default in-flight limit follows it
        ({"breaker": BreakerPolicy(consecutive_failures=2)}, "breaker"),
        ({"retry": RetryPolicy(budget_ratio=0.5)}, "retry.budget_ratio"),
        ({"retry": RetryPolicy(budget_window=3)}, "retry.budget_window"),
        ({"retry": RetryPolicy(budget_min_per_second=0)}, "retry.budget_min_per_second"),
        ({"retry": RetryPolicy(clock=lambda: 0.0)}, "retry.clock"),
    ],
)
def test_a_second_client_disagreeing_on_shared_state_is_refused(
    kind: str, changes: dict[str, Any], field: str
) -> None:
    """A later client of the same name with another per-service value raises, naming it."""
    build(kind)
    with pytest.raises(ConfigurationError) as info:
        build("sync" if kind == "async" else "async", **changes)
    assert str(info.value).startswith(f"clinical: {field} differs")


def test_per_client_settings_may_differ_between_clients(kind: str) -> None:
    """Timeouts, deadline, headers, attempts and credentials are per client: no conflict."""
    build(kind)
    other = build(
        kind,
        read_timeout=1.0,
        deadline=3.0,
        headers={"X-Tenant": "a"},
        retry=RetryPolicy(max_attempts=5),
    )
    assert other.config.deadline == 3.0 and other.config.retry.max_attempts == 5


def test_with_options_cannot_change_the_in_flight_limit(kind: str) -> None:
    """with_options(max_in_flight=...) raises instead of reporting a limit not in force."""
    client = build(kind, max_in_flight=4)
    with pytest.raises(ConfigurationError, match="max_in_flight differs"):
        client.with_options(max_in_flight=2)
    same = client.with_options(max_in_flight=4, read_timeout=1.0)
    assert same.config.in_flight_limit == same._core.bulkhead.limit == 4
    assert same.config.read_timeout == 1.0 and client.config.read_timeout == 5.0


@pytest.mark.parametrize(
    "changes",
    [
        {"max_connections": 3, "max_in_flight": 100},
        {"max_keepalive_connections": 1},
        {"keepalive_expiry": 1.0},
        {"verify": False},
        {"async_transport": "aiohttp"},
        {"sync_transport": "urllib3"},
    ],
)
def test_with_options_refuses_pool_settings(kind: str, changes: dict[str, Any]) -> None:
    """A copy shares its parent's pool, so it cannot change pool or TLS settings."""
    client = build(kind)
    with pytest.raises(ConfigurationError) as info:
        client.with_options(**changes)
    field = next(iter(changes))
    assert str(info.value).startswith(f"with_options cannot change {field}")


def test_with_options_rejects_unknown_fields(kind: str) -> None:
    """A typo in with_options is a one-line ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match="read_timout is not a known setting"):
        build(kind).with_options(read_timout=1)


def test_config_reports_what_the_shared_state_uses(kind: str) -> None:
    """Whatever client or copy exists, its config's shared values are the shared state's."""
    client = build(kind, max_in_flight=3, breaker=BreakerPolicy(consecutive_failures=2))
    for c in (
        client,
        client.with_options(deadline=2.0),
        build(kind, max_in_flight=3, breaker=BreakerPolicy(consecutive_failures=2)),
    ):
        assert c._core.bulkhead.limit == c.config.in_flight_limit == 3
        assert c._core.breaker.policy == c.config.breaker


def test_facility_cache_policy_mismatch_names_the_field(kind: str) -> None:
    """The Facility cache registry follows the same rule, naming the differing field."""
    cls = FacilityServiceClient if kind == "sync" else AsyncFacilityServiceClient
    config = ServiceConfig(name="facility", base_url="http://facility.test")
    cls(config=config, transport=httpx.MockTransport(ok), cache_policy=CachePolicy(max_stale=5))
    with pytest.raises(ConfigurationError, match=r"^facility: CachePolicy.max_stale differs"):
        cls(config=config, cache_policy=CachePolicy(max_stale=6))


def test_with_options_refuses_another_origin_but_not_another_prefix(kind: str) -> None:
    """The copy's requests go through the parent's pool: another scheme, host or port would
    send them (and their credentials) to the parent's host, so it is refused."""
    client = build(kind)
    origin = client.config.base_url.rstrip("/")
    for other in ("https://elsewhere.test", origin.replace("://", "://x"), origin + ":8443"):
        with pytest.raises(ConfigurationError, match="cannot change base_url's scheme, host"):
            client.with_options(base_url=other)
    assert client.with_options(base_url=origin + "/gw").config.base_url.endswith("/gw")
