"""The shared Redis tier across replicas: real ``redis-server``, replicas as OS processes.

Every behaviour runs for the sync client and both async transports (``REPLICA_MODE``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest

from cache.redis_support import RedisServer, Replica
from nilecare_clients.testing.fakes import FakeFacilityService

pytestmark = pytest.mark.slow

MODES = ["sync", "async", "aiohttp"]
FACILITY = "/api/v1/facilities/*"


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def facility() -> Iterator[tuple[FakeFacilityService, str]]:
    fake = FakeFacilityService()
    with fake.serve() as base_url:
        yield fake, base_url


@pytest.fixture
def replicas() -> Iterator[list[Replica]]:
    started: list[Replica] = []
    yield started
    for replica in started:
        replica.close()


def reads(fake: FakeFacilityService) -> int:
    return fake.journal.count("GET", FACILITY)


@pytest.mark.parametrize("mode", MODES)
def test_second_replica_is_served_from_redis(
    mode: str, redis_server: RedisServer, facility: Any, replicas: list[Replica]
) -> None:
    """A facility loaded by one replica is a Redis hit for another: one Facility request."""
    fake, url = facility
    record = fake.create_facility(name="Omdurman Teaching")
    a, b = (Replica(mode, url, redis_server.url) for _ in range(2))
    replicas += [a, b]
    assert a.call({"op": "get", "id": record["facilityId"]})["from_cache"] is False
    got = b.call({"op": "get", "id": record["facilityId"]})
    assert (got["name"], got["from_cache"], got["stale"]) == ("Omdurman Teaching", True, False)
    assert reads(fake) == 1
    assert b.call({"op": "stats"})["cache"]["shared_hits"] == 1
    keys = [k.decode() for k in cast("list[bytes]", redis_server.client.keys("*"))]
    assert keys == [f"nilecare:facility-cache:v1:billing:facility:facility:{record['facilityId']}"]


@pytest.mark.parametrize("mode", MODES)
def test_write_in_one_replica_drops_the_copy_of_another(
    mode: str, redis_server: RedisServer, facility: Any, replicas: list[Replica]
) -> None:
    """An update through replica A drops B's in-process copy: B sees the new name long before
    its TTL. How fast (goal <= 100 ms) is measured by ``make bench``, not asserted here."""
    fake, url = facility
    record = fake.create_facility(name="Old name")
    a, b = (Replica(mode, url, redis_server.url) for _ in range(2))
    replicas += [a, b]
    for replica in (a, b):
        assert replica.call({"op": "get", "id": record["facilityId"]})["name"] == "Old name"
    b.send({"op": "poll", "id": record["facilityId"], "name": "New name", "timeout": 2})
    time.sleep(0.05)  # B is now serving "Old name" from its own memory
    done_at = a.call({"op": "update", "id": record["facilityId"], "name": "New name"})["done_at"]
    seen_at = b.receive()["seen_at"]
    assert seen_at is not None
    assert seen_at - done_at < 1.0  # the drop, not the TTL (minutes): speed is in bench/
    assert b.call({"op": "stats"})["tier"]["drops_received"] == 1


@pytest.mark.parametrize("mode", MODES)
def test_facility_event_drops_the_entry_in_every_replica(
    mode: str, redis_server: RedisServer, facility: Any, replicas: list[Replica]
) -> None:
    """A facility.updated event applied by one replica refreshes the others and Redis."""
    fake, url = facility
    record = fake.create_facility(name="Before")
    a, b = (Replica(mode, url, redis_server.url) for _ in range(2))
    replicas += [a, b]
    assert a.call({"op": "get", "id": record["facilityId"]})["name"] == "Before"
    assert b.call({"op": "get", "id": record["facilityId"]})["name"] == "Before"
    # A write made outside this library (straight at the service), then its event.
    httpx.put(
        f"{url}/api/v1/facilities/{record['facilityId']}", json={"name": "After"}
    ).raise_for_status()
    event = {
        "type": "facility.updated",
        "facilityId": record["facilityId"],
        "changes": {"name": "After"},
    }
    assert a.call({"op": "event", "payload": event})["applied"] is True
    deadline = time.monotonic() + 1
    while b.call({"op": "get", "id": record["facilityId"]})["name"] != "After":
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert a.call({"op": "get", "id": record["facilityId"]})["name"] == "After"
    unknown = {"type": "ward.renamed", "facilityId": record["facilityId"]}
    assert a.call({"op": "event", "payload": unknown})["applied"] is False
    malformed = a.call({"op": "event", "payload": {"facilityId": record["facilityId"]}})
    assert malformed["error"] == "InvalidRequestError"
    stats = a.call({"op": "stats"})["cache"]
    assert (stats["events_applied"], stats["events_ignored"]) == (1, 1)


@pytest.mark.parametrize("mode", MODES)
def test_cold_start_of_eight_replicas_makes_one_facility_request(
    mode: str, redis_server: RedisServer, facility: Any, replicas: list[Replica]
) -> None:
    """Eight replicas asking for one cold facility at once: one holds the lease, one request."""
    fake, url = facility
    record = fake.create_facility(name="Kassala")
    fake.faults.latency(0.2, path=FACILITY)
    replicas += [Replica(mode, url, redis_server.url) for _ in range(8)]
    for replica in replicas:
        replica.send({"op": "get", "id": record["facilityId"]})
    answers = [replica.receive() for replica in replicas]
    assert {a.get("name") for a in answers} == {"Kassala"}
    assert reads(fake) == 1
    waits = sum(r.call({"op": "stats"})["tier"]["lease_waits"] for r in replicas)
    assert waits >= 1


@pytest.mark.parametrize("mode", MODES)
def test_lease_is_taken_over_when_its_holder_dies(
    mode: str, redis_server: RedisServer, facility: Any, replicas: list[Replica]
) -> None:
    """The replica holding the lease is killed mid-load: another takes over after the lease."""
    fake, url = facility
    record = fake.create_facility(name="Atbara")
    fake.faults.latency(1.5, path=FACILITY, n=1)
    holder = Replica(mode, url, redis_server.url, REPLICA_LEASE="0.3")
    waiter = Replica(mode, url, redis_server.url, REPLICA_LEASE="0.3")
    replicas += [waiter]
    holder.send({"op": "get", "id": record["facilityId"]})
    time.sleep(0.1)
    waiter.send({"op": "get", "id": record["facilityId"]})
    time.sleep(0.05)
    holder.kill()
    got = waiter.receive()
    assert got["name"] == "Atbara"
    assert got["ms"] < 1400  # did not wait for the dead holder's slow request
    tier = waiter.call({"op": "stats"})["tier"]
    assert (tier["lease_waits"], tier["lease_takeovers"]) == (1, 1)


@pytest.mark.parametrize("mode", MODES)
def test_replica_started_during_an_outage_serves_redis_stale(
    mode: str, redis_server: RedisServer, facility: Any, replicas: list[Replica]
) -> None:
    """A new process while Facility is down serves what Redis holds, flagged stale."""
    fake, url = facility
    record = fake.create_facility(name="Port Sudan")
    first = Replica(mode, url, redis_server.url, REPLICA_TTL="0.2")
    assert first.call({"op": "get", "id": record["facilityId"]})["from_cache"] is False
    first.close()
    time.sleep(0.3)  # the entry is now past its freshness, still within max_stale
    fake.faults.outage()
    late = Replica(mode, url, redis_server.url, REPLICA_TTL="0.2", REPLICA_DEADLINE="2")
    replicas += [late]
    got = late.call({"op": "get", "id": record["facilityId"]})
    assert (got["name"], got["stale"]) == ("Port Sudan", True)


@pytest.mark.parametrize("mode", MODES)
def test_namespaces_never_see_each_other(
    mode: str, redis_server: RedisServer, facility: Any, replicas: list[Replica]
) -> None:
    """Two calling services (two credentials) share nothing: no hits, no invalidations."""
    fake, url = facility
    record = fake.create_facility(name="Wad Madani")
    billing = Replica(mode, url, redis_server.url, namespace="billing")
    pharmacy = Replica(mode, url, redis_server.url, namespace="pharmacy")
    replicas += [billing, pharmacy]
    billing.call({"op": "get", "id": record["facilityId"]})
    assert pharmacy.call({"op": "get", "id": record["facilityId"]})["from_cache"] is False
    assert reads(fake) == 2
    namespaces = {
        k.decode().split(":")[3] for k in cast("list[bytes]", redis_server.client.keys("*"))
    }
    assert namespaces == {"billing", "pharmacy"}
    billing.call({"op": "update", "id": record["facilityId"], "name": "Renamed"})
    time.sleep(0.1)
    assert pharmacy.call({"op": "get", "id": record["facilityId"]})["name"] == "Wad Madani"
    assert pharmacy.call({"op": "stats"})["tier"]["drops_received"] == 0
