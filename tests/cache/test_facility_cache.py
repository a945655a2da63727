"""FacilityCache rules with an injected clock: expiry, jitter, bounds, single-flight, stale-if-error."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import pytest
from structlog.testing import capture_logs

from nilecare_clients import (
    AuthenticationError,
    CircuitOpenError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    ServiceTimeoutError,
    ServiceUnreachableError,
)
from nilecare_clients._cache import CachePolicy, FacilityCache
from support import FakeClock

WHERE: dict[str, Any] = {
    "service": "facility",
    "method": "GET",
    "path_template": "/api/v1/facilities/{id}",
}


def cache(clock: FakeClock, **policy: Any) -> FacilityCache:
    return FacilityCache(CachePolicy(**policy), clock=clock, rng=random.Random(7))


def test_hit_until_ttl_then_refresh(clock: FakeClock) -> None:
    """A value is served from cache until its TTL, then loaded again."""
    c = cache(clock, jitter=0)
    loads: list[int] = []

    def load() -> str:
        loads.append(1)
        return f"v{len(loads)}"

    assert c.get_or_load("f1", 60, load).value == "v1"
    clock.advance(59)
    hit = c.get_or_load("f1", 60, load)
    assert (hit.value, hit.from_cache, hit.stale, hit.age_s) == ("v1", True, False, 59)
    clock.advance(2)
    assert c.get_or_load("f1", 60, load).value == "v2"
    stats = c.stats()
    assert (stats.hits, stats.misses, stats.size) == (1, 2, 1)


def test_ttl_jitter_stays_within_ten_percent(clock: FakeClock) -> None:
    """Each entry's TTL is spread within +-10 %, and not all entries expire together."""
    c = cache(clock)
    for i in range(200):
        c.get_or_load(i, 100, lambda: "x")
    expiries = [entry.fresh_until - clock.now for entry in c._store.values()]
    assert all(90 <= e <= 110 for e in expiries)
    assert max(expiries) - min(expiries) > 10


def test_size_is_bounded_and_evictions_counted(clock: FakeClock) -> None:
    """However many ids pass through, the cache holds max_entries and counts evictions."""
    c = cache(clock, max_entries=100)
    for i in range(1000):
        c.get_or_load(i, 60, lambda: "x")
    stats = c.stats()
    assert stats.size == 100 and stats.evictions == 900


def test_single_flight_for_100_threads() -> None:
    """100 threads missing one key at once make exactly one load and all get its value."""
    c = FacilityCache(CachePolicy())
    loads = 0
    release = threading.Event()

    def load() -> str:
        nonlocal loads
        loads += 1
        release.wait(5)
        return "facility"

    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(c.get_or_load("f", 60, load).value))
        for _ in range(100)
    ]
    for t in threads:
        t.start()
    time.sleep(0.2)
    release.set()
    for t in threads:
        t.join(5)
    assert loads == 1 and results == ["facility"] * 100
    assert c.stats().coalesced_waits + c.stats().hits == 99


async def test_single_flight_for_100_tasks() -> None:
    """100 asyncio tasks missing one key make exactly one load."""
    c = FacilityCache(CachePolicy())
    loads = 0

    async def load() -> str:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.05)
        return "facility"

    results = await asyncio.gather(*(c.aget_or_load("f", 60, load) for _ in range(100)))
    assert loads == 1 and {r.value for r in results} == {"facility"}
    assert c.stats().coalesced_waits == 99


async def test_single_flight_failure_reaches_every_waiter() -> None:
    """When the one load fails, every waiter gets that failure."""
    c = FacilityCache(CachePolicy())
    loads = 0

    async def load() -> str:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.02)
        raise ServiceTimeoutError(**WHERE)

    results = await asyncio.gather(
        *(c.aget_or_load("f", 60, load) for _ in range(20)), return_exceptions=True
    )
    assert loads == 1 and all(isinstance(r, ServiceTimeoutError) for r in results)


async def test_cancelled_leader_hands_over_to_a_waiter() -> None:
    """If the task making the request is cancelled, a waiter makes it instead of failing."""
    c = FacilityCache(CachePolicy())
    calls = 0

    async def load() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05 if calls == 1 else 0)
        return "ok"

    leader = asyncio.create_task(c.aget_or_load("f", 60, load))
    await asyncio.sleep(0.01)
    waiter = asyncio.create_task(c.aget_or_load("f", 60, load))
    await asyncio.sleep(0.01)
    leader.cancel()
    assert (await waiter).value == "ok"
    assert calls == 2


@pytest.mark.parametrize(
    "error",
    [
        ServerError(status_code=500, **WHERE),
        ServiceTimeoutError(**WHERE),
        ServiceUnreachableError(**WHERE),
        CircuitOpenError(**WHERE),
    ],
)
def test_stale_if_error_when_facility_is_unavailable(clock: FakeClock, error: Exception) -> None:
    """An expired value younger than max_stale is served, flagged and counted, when the refresh fails."""
    c = cache(clock, jitter=0, max_stale=3600)
    c.get_or_load("f", 60, lambda: "old")
    clock.advance(120)

    def failing() -> str:
        raise error

    with capture_logs() as logs:
        result = c.get_or_load("f", 60, failing)
    assert (result.value, result.stale, result.age_s) == ("old", True, 120)
    assert c.stats().stale_serves == 1
    assert [e["event"] for e in logs] == ["nilecare_clients.cache_stale_served"]
    clock.advance(3600)
    with pytest.raises(type(error)):
        c.get_or_load("f", 60, failing)


@pytest.mark.parametrize(
    "error",
    [
        NotFoundError(status_code=404, **WHERE),
        AuthenticationError(status_code=401, **WHERE),
        PermissionDeniedError(status_code=403, **WHERE),
    ],
)
def test_never_stale_on_client_errors(clock: FakeClock, error: Exception) -> None:
    """404/401/403 are answers, not outages: they are raised, never hidden by a stale value."""
    c = cache(clock, jitter=0)
    c.get_or_load("f", 60, lambda: "old")
    clock.advance(61)

    def failing() -> str:
        raise error

    with pytest.raises(type(error)):
        c.get_or_load("f", 60, failing)
    assert c.stats().stale_serves == 0


def test_not_found_is_remembered_briefly(clock: FakeClock) -> None:
    """A 404 is cached for negative_ttl, so a burst of lookups of a bad id makes one request."""
    c = cache(clock, jitter=0, negative_ttl=30)
    loads = 0

    def load() -> str:
        nonlocal loads
        loads += 1
        raise NotFoundError(status_code=404, **WHERE)

    for _ in range(50):
        with pytest.raises(NotFoundError):
            c.get_or_load("bad", 3600, load)
    assert loads == 1 and c.stats().negative_hits == 49
    clock.advance(31)
    with pytest.raises(NotFoundError):
        c.get_or_load("bad", 3600, load)
    assert loads == 2


def test_forbidden_is_not_negatively_cached(clock: FakeClock) -> None:
    """A 403 (contract I21) is never remembered: the next lookup asks again."""
    c = cache(clock)
    loads = 0

    def load() -> str:
        nonlocal loads
        loads += 1
        raise PermissionDeniedError(status_code=403, **WHERE)

    for _ in range(3):
        with pytest.raises(PermissionDeniedError):
            c.get_or_load("f", 60, load)
    assert loads == 3


def test_invalidate_drops_only_what_is_named(clock: FakeClock) -> None:
    """invalidate removes the named keys; invalidate_where removes a family; others stay."""
    c = cache(clock)
    for key in [("facility", "a"), ("facility", "b"), ("departments", "a")]:
        c.get_or_load(key, 60, lambda: "x")
    c.invalidate(("facility", "a"))
    assert c.peek(("facility", "a")) is None and c.peek(("facility", "b")) is not None
    c.invalidate_where(lambda k: isinstance(k, tuple) and k[1] == "a")
    assert c.peek(("departments", "a")) is None and c.stats().size == 1
