"""The shared tier's failure rules in one process, against a real ``redis-server``.

Redis is never a reason for a call to fail or hang; nothing read from Redis is trusted; the
tier needs a namespace; the core never imports redis. Sync and async (both transports).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from cache.redis_support import RedisServer, free_port
from nilecare_clients import (
    AsyncFacilityServiceClient,
    CachePolicy,
    ConfigurationError,
    FacilityServiceClient,
    InvalidRequestError,
    ServiceConfig,
    ServiceTimeoutError,
    deadline_scope,
)
from nilecare_clients._cache import all_caches
from nilecare_clients.observability.health import dependencies_health
from nilecare_clients.testing.fakes import FakeFacilityService

pytestmark = pytest.mark.slow

MODES = ["sync", "async", "aiohttp"]


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def facility() -> Iterator[tuple[FakeFacilityService, str]]:
    fake = FakeFacilityService()
    with fake.serve() as base_url:
        yield fake, base_url


@pytest.fixture(autouse=True)
def _namespace(monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer) -> None:
    monkeypatch.setenv("NILECARE_SERVICE_NAME", "billing")
    redis_server.client.flushall()


_open: list[Any] = []


@pytest.fixture(autouse=True)
async def _close_clients() -> Any:
    yield
    while _open:
        c = _open.pop()
        if isinstance(c, FacilityServiceClient):
            c.close()
        else:
            await c.aclose()


def client(mode: str, base_url: str, redis_url: str, **policy: Any) -> Any:
    config = ServiceConfig(
        name="facility",
        base_url=base_url,
        async_transport="aiohttp" if mode == "aiohttp" else "httpx",
        deadline=5,
    )
    kind = FacilityServiceClient if mode == "sync" else AsyncFacilityServiceClient
    made = kind(config=config, cache_policy=CachePolicy(redis_url=redis_url, jitter=0, **policy))
    _open.append(made)
    return made


async def lookup(c: Any, facility_id: str) -> Any:
    result = c.lookup_facility(facility_id)
    return result if isinstance(c, FacilityServiceClient) else await result


def forget_local() -> None:
    for cache in all_caches().values():
        cache.clear()


@pytest.mark.parametrize("mode", MODES)
async def test_refused_redis_costs_nothing_and_opens_the_tier_breaker(
    mode: str, facility: Any
) -> None:
    """Nothing listens on the Redis port: every call is served by Facility, fast."""
    fake, url = facility
    record = fake.create_facility(name="Kosti")
    c = client(mode, url, f"redis://127.0.0.1:{free_port()}/0")
    for _ in range(5):
        forget_local()
        started = time.perf_counter()
        assert (await lookup(c, record["facilityId"])).value.name == "Kosti"
        assert time.perf_counter() - started < 0.5
    tier = all_caches()["facility"].tier_stats()
    assert tier is not None and tier.state == "open" and tier.errors >= 3 and tier.skipped >= 1
    report = dependencies_health()["services"]["facility"]["cache"]["shared_tier"]
    assert report["state"] == "open"
    assert "redis://" not in json.dumps(dependencies_health())


@pytest.mark.parametrize("mode", MODES)
async def test_hung_redis_adds_at_most_its_timeout(
    mode: str, redis_server: RedisServer, facility: Any
) -> None:
    """A frozen Redis (no answers) bounds each command by the 50 ms timeout, then is skipped."""
    fake, url = facility
    record = fake.create_facility(name="Dongola")
    c = client(mode, url, redis_server.url)
    await lookup(c, record["facilityId"])  # connections open while Redis answers
    redis_server.pause()
    try:
        timings = []
        for _ in range(6):
            forget_local()
            started = time.perf_counter()
            assert (await lookup(c, record["facilityId"])).value.name == "Dongola"
            timings.append(time.perf_counter() - started)
    finally:
        redis_server.resume()
    # get + lease + put can each time out before the breaker opens (3 failures), then free.
    assert max(timings) < 0.4
    assert max(timings[-3:]) < 0.05
    tier = all_caches()["facility"].tier_stats()
    assert tier is not None and tier.state == "open"


@pytest.mark.parametrize("mode", MODES)
async def test_value_in_redis_is_validated_before_use(
    mode: str, redis_server: RedisServer, facility: Any
) -> None:
    """A corrupt or wrongly shaped Redis entry is never served: it is counted and replaced."""
    fake, url = facility
    record = fake.create_facility(name="Nyala")
    fid = record["facilityId"]
    key = f"nilecare:facility-cache:v1:billing:facility:facility:{fid}"
    c = client(mode, url, redis_server.url)
    now = time.time()
    redis_server.client.set(key, json.dumps({"s": now, "f": now + 60, "x": now + 90, "v": {}}))
    assert (await lookup(c, fid)).from_cache is False
    forget_local()
    redis_server.client.set(key, b"\xff not json")
    assert (await lookup(c, fid)).value.name == "Nyala"
    tier = all_caches()["facility"].tier_stats()
    assert tier is not None and tier.invalid == 2
    assert fake.journal.count("GET", "/api/v1/facilities/*") == 2
    forget_local()
    hit = await lookup(c, fid)  # the answer from Facility replaced the bad entry
    assert (hit.value.name, hit.from_cache) == ("Nyala", True)


@pytest.mark.parametrize("mode", MODES)
async def test_redis_that_disappears_mid_run_falls_back(mode: str, facility: Any) -> None:
    """Redis stops while the service runs: calls keep working on the in-process tier."""
    fake, url = facility
    record = fake.create_facility(name="El Obeid")
    server = RedisServer()
    try:
        c = client(mode, url, server.url)
        await lookup(c, record["facilityId"])
    finally:
        server.stop()
    assert (await lookup(c, record["facilityId"])).from_cache is True
    forget_local()
    assert (await lookup(c, record["facilityId"])).value.name == "El Obeid"


def test_shared_tier_needs_a_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a namespace (or the calling service's name) the tier refuses to start."""
    monkeypatch.delenv("NILECARE_SERVICE_NAME")
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    config = ServiceConfig(name="facility", base_url="http://facility.test")
    with pytest.raises(ConfigurationError, match="namespace"):
        FacilityServiceClient(config=config, cache_policy=CachePolicy(redis_url="redis://x:1"))


def test_from_env_reads_the_redis_url_and_hides_it(redis_server: RedisServer) -> None:
    """NILECARE_FACILITY_CACHE_REDIS_URL turns the tier on; the URL never shows in a repr."""
    secret_url = redis_server.url.replace("redis://", "redis://:hunter2@")
    env = {
        "NILECARE_FACILITY_URL": "http://facility.test",
        "NILECARE_FACILITY_CACHE_REDIS_URL": secret_url,
        "NILECARE_FACILITY_CACHE_REDIS_NAMESPACE": "pharmacy",
    }
    config = ServiceConfig.from_env("FACILITY", environ=env)
    assert "hunter2" not in repr(config)
    c = FacilityServiceClient(config=config)
    _open.append(c)
    cache = all_caches()["facility"]
    assert cache.policy.redis_namespace == "pharmacy" and "hunter2" not in repr(cache.policy)
    assert c.cache_stats().size == 0
    bad = {**env, "NILECARE_FACILITY_CACHE_REDIS_URL": "http://nope"}
    with pytest.raises(ConfigurationError, match="CACHE_REDIS_URL"):
        ServiceConfig.from_env("FACILITY", environ=bad)


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        b"[1, 2]",
        {"facilityId": "5b8f0000-0000-4000-8000-000000000001"},
        {"type": "facility.updated"},
        {"type": "facility.updated", "facilityId": "Amna Osman"},
        {"type": "facility.updated", "facilityId": 7},
        {"type": "department.created"},
        {
            "type": "facility.updated",
            "facilityId": "5b8f0000-0000-4000-8000-000000000001",
            "changes": "name",
        },
    ],
)
@pytest.mark.parametrize("mode", MODES)
async def test_malformed_event_raises_without_echoing_it(mode: str, payload: Any) -> None:
    """A malformed facility-events message raises InvalidRequestError naming no value."""
    config = ServiceConfig(name="facility", base_url="http://facility.test")
    kind = FacilityServiceClient if mode == "sync" else AsyncFacilityServiceClient
    c = kind(config=config)
    _open.append(c)
    with capture_logs() as logs, pytest.raises(InvalidRequestError) as caught:
        result = c.apply_event(payload)
        if mode != "sync":
            assert not isinstance(result, bool)
            await result
    assert "Amna" not in str(caught.value) and "Amna" not in repr(logs)
    assert caught.value.__cause__ is None


@pytest.mark.parametrize("mode", MODES)
async def test_event_drops_exactly_what_it_changes(mode: str, facility: Any) -> None:
    """department.updated drops that department and its facility's list, not the facility."""
    fake, url = facility
    department = fake.create_department(name="Radiology")
    fid, did = (
        department["facilityId"],
        department["departmentId"] if "departmentId" in department else department["id"],
    )
    config = ServiceConfig(name="facility", base_url=url)
    sync = mode == "sync"
    c = (FacilityServiceClient if sync else AsyncFacilityServiceClient)(config=config)
    _open.append(c)

    async def run(result: Any) -> Any:
        return result if sync else await result

    await run(c.get_facility(fid))
    await run(c.get_departments(fid))
    cache = all_caches()["facility"]
    assert cache.stats().size == 2
    event = {"type": "department.updated", "departmentId": did, "facilityId": fid}
    assert await run(c.apply_event(json.dumps(event))) is True
    assert [k for k in cache._store] == [("facility", fid)]
    assert await run(c.apply_event({"eventType": "bed.cleaned"})) is False
    stats = c.cache_stats()
    assert (stats.events_applied, stats.events_ignored) == (1, 1)


def test_core_import_loads_no_redis() -> None:
    """Without redis_url the tier module is never imported (nor does redis connect).

    (pybreaker itself imports ``redis`` when it is installed, for its optional storage.)
    """
    code = (
        "import sys, nilecare_clients as n\n"
        "n.FacilityServiceClient(config=n.ServiceConfig(name='facility', base_url='http://x'))\n"
        "assert 'nilecare_clients._redis_tier' not in sys.modules\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NILECARE_")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


@pytest.mark.parametrize("mode", MODES)
async def test_lease_waiter_is_bounded_by_its_own_deadline(
    mode: str, redis_server: RedisServer, facility: Any
) -> None:
    """Another process holds the lease and never answers: the waiter stops at its deadline."""
    fake, url = facility
    fid = fake.create_facility(name="Sennar")["facilityId"]
    lease = f"nilecare:facility-cache:v1:billing:facility:facility:{fid}:lease"
    redis_server.client.set(lease, "someone-else", px=10_000)
    c = client(mode, url, redis_server.url)
    started = time.perf_counter()
    with pytest.raises(ServiceTimeoutError), deadline_scope(0.3):
        await lookup(c, fid)
    assert 0.25 < time.perf_counter() - started < 1.0
    assert fake.journal.count("GET", "/api/v1/facilities/*") == 0
    tier = all_caches()["facility"].tier_stats()
    assert tier is not None and tier.lease_waits == 1


def test_malformed_redis_url_is_a_configuration_error_that_hides_it() -> None:
    """A URL redis-py cannot parse raises ConfigurationError without quoting it."""
    config = ServiceConfig(name="facility", base_url="http://facility.test")
    policy = CachePolicy(redis_url="redis://:hunter2@127.0.0.1:notaport/0")
    with pytest.raises(ConfigurationError) as caught:
        FacilityServiceClient(config=config, cache_policy=policy)
    assert "hunter2" not in str(caught.value) and caught.value.__cause__ is None
    assert caught.value.__suppress_context__
