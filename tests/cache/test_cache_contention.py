"""The Facility cache under contention: exact statistics, and followers that keep their own deadline.

The deadline tests run the typed clients over a real loopback server whose answer is slow, for
the sync client and both async transports.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import pytest

from nilecare_clients import (
    AsyncFacilityServiceClient,
    FacilityServiceClient,
    ServiceConfig,
    ServiceTimeoutError,
    deadline_scope,
)
from nilecare_clients._cache import CachePolicy, FacilityCache
from scripted_server import Action, scripted_server

FACILITY_ID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
FACILITY = {
    "success": True,
    "data": {
        "id": 1,
        "facilityId": FACILITY_ID,
        "organizationId": "550e8400-e29b-41d4-a716-446655440001",
        "facilityCode": "KTH-001",
        "name": "Khartoum Teaching Hospital",
        "type": "hospital",
        "status": "active",
    },
}


def test_every_lookup_is_counted_exactly_once_under_threads() -> None:
    """16 threads racing lookups, loads and invalidations: hits + misses + coalesced waits +
    negative hits equals the number of lookups, with nothing lost between peek and lock."""
    cache = FacilityCache(CachePolicy(jitter=0, facility_ttl=3600), rng=random.Random(1))
    keys = [("facility", str(i)) for i in range(4)]
    lookups = 0
    lookups_lock = threading.Lock()
    stop = threading.Event()

    def load() -> str:
        time.sleep(0.0002)
        return "v"

    def reader(seed: int) -> None:
        nonlocal lookups
        rng = random.Random(seed)
        done = 0
        for _ in range(1500):
            cache.get_or_load(rng.choice(keys), 3600, load)
            done += 1
        with lookups_lock:
            lookups += done

    def invalidator() -> None:
        rng = random.Random(99)
        while not stop.is_set():
            cache.invalidate(rng.choice(keys))
            time.sleep(0.0001)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(16)]
    churn = threading.Thread(target=invalidator)
    churn.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    churn.join()
    stats = cache.stats()
    counted = stats.hits + stats.misses + stats.coalesced_waits + stats.negative_hits
    assert lookups == 16 * 1500
    assert counted == lookups, stats
    assert stats.misses > 4  # the invalidations really forced reloads


def test_a_lookup_filled_between_peek_and_lock_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The interleaving the thread test can only hit by chance, made certain: a lookup whose
    lock-free peek ran just before another thread stored the value is counted as a hit."""
    cache = FacilityCache(CachePolicy(jitter=0), rng=random.Random(1))
    key = ("facility", "f-1")
    cache.get_or_load(key, 3600, lambda: "v")  # one miss
    monkeypatch.setattr(cache, "peek", lambda key: None)  # the peek that lost the race
    result = cache.get_or_load(key, 3600, lambda: "reloaded")
    assert result.value == "v" and result.from_cache
    stats = cache.stats()
    assert (stats.misses, stats.hits) == (1, 1)


def _config(url: str, kind: str) -> ServiceConfig:
    extra: dict[str, Any] = {} if kind == "sync" else {"async_transport": kind}
    return ServiceConfig(name="facility", base_url=url, retry={"max_attempts": 1}, **extra)


def test_a_sync_follower_stops_at_its_own_deadline() -> None:
    """A thread that joins another thread's slow load inside ``deadline_scope(0.4)`` gives up
    after about 0.4 s with ServiceTimeoutError (nothing sent); the leader still gets its value."""
    with scripted_server() as server:
        server.default = Action(status=200, body=FACILITY, delay=1.5)
        client = FacilityServiceClient(config=_config(server.url, "sync"))
        results: list[Any] = []
        leader = threading.Thread(target=lambda: results.append(client.get_facility(FACILITY_ID)))
        leader.start()
        assert server.wait_for_requests(1, timeout=5)
        started = time.monotonic()
        with deadline_scope(0.4), pytest.raises(ServiceTimeoutError) as info:
            client.get_facility(FACILITY_ID)
        waited = time.monotonic() - started
        leader.join()
        client.close()
        assert results and results[0].facility_id == FACILITY_ID
        _check(info.value, waited, server.count())


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_an_async_follower_stops_at_its_own_deadline(transport: str) -> None:
    """The asyncio twin, on both transports: the follower task gives up at its own deadline
    without cancelling the leader's load."""
    with scripted_server() as server:
        server.default = Action(status=200, body=FACILITY, delay=1.5)
        client = AsyncFacilityServiceClient(config=_config(server.url, transport))
        lead = asyncio.create_task(client.get_facility(FACILITY_ID))
        await asyncio.to_thread(server.wait_for_requests, 1, 5)
        started = time.monotonic()
        with deadline_scope(0.4), pytest.raises(ServiceTimeoutError) as info:
            await client.get_facility(FACILITY_ID)
        waited = time.monotonic() - started
        assert (await lead).facility_id == FACILITY_ID
        await client.aclose()
        _check(info.value, waited, server.count())


def _check(error: ServiceTimeoutError, waited: float, requests: int) -> None:
    print(f"follower, deadline 0.4 s, leader 1.5 s: gave up after {waited:.3f} s")
    assert 0.3 <= waited < 0.9, waited
    assert error.request_sent is False
    assert "deadline" in str(error)
    assert requests == 1  # the follower never sent its own request
