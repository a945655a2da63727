"""The Facility cache as the clients use it (contract §4.3), with the fake clock injected.

The engine's own rules are unit-tested in ``tests/cache``; here each rule is proven through
the public client methods and respx routes, for the sync and the async twin. The shared cache
takes its clock from ``config.retry.clock`` (the ``FakeClock``), so expiry is deterministic.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import respx
from client_payloads import (
    BED_ID,
    DEPARTMENT_ID,
    FACILITY_ID,
    FACILITY_URL,
    OTHER_DEPARTMENT_ID,
    OTHER_FACILITY_ID,
    PATIENT_ID,
    WARD_ID,
    analytics_row,
    bed_history_row,
    bed_row,
    capacity_row,
    department_row,
    facility_create,
    facility_error,
    facility_ok,
    facility_page,
    facility_row,
    occupancy_row,
    settings_row,
    ward_row,
)
from structlog.testing import capture_logs

from nilecare_clients import (
    BreakerPolicy,
    CachePolicy,
    ConfigurationError,
    FacilityCache,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    ServiceConfig,
    ServiceUnavailableError,
)
from support import FakeClock, call, retry_policy

HOST = FACILITY_URL.removeprefix("http://")
MISSING_ID = "00000000-0000-4000-8000-000000000404"
NO_JITTER = CachePolicy(jitter=0, facility_ttl=60, facility_list_ttl=60, department_ttl=30)


def facility_route(
    router: respx.MockRouter, facility_id: str = FACILITY_ID, **row: Any
) -> respx.Route:
    return router.get(host=HOST, path=f"/api/v1/facilities/{facility_id}").respond(
        json=facility_ok(facility_row(facility_id, **row))
    )


# --- hits, fresh, expiry --------------------------------------------------------------------------


async def test_get_facility_is_cached(facility: Any, router: respx.MockRouter) -> None:
    """Many get_facility calls for one id make one request; later lookups say they came from cache."""
    route = facility_route(router)
    for _ in range(5):
        assert (await call(facility.get_facility(FACILITY_ID))).facility_id == FACILITY_ID
    hit = await call(facility.lookup_facility(FACILITY_ID))
    assert (hit.from_cache, hit.stale) == (True, False)
    assert route.call_count == 1
    stats = facility.cache_stats()
    assert (stats.misses, stats.hits, stats.size) == (1, 5, 1)


async def test_fresh_bypasses_and_refills_the_cache(
    facility: Any, router: respx.MockRouter
) -> None:
    """fresh=True always asks the service, and what it gets replaces the cached copy."""
    route = facility_route(router, name="Old name")
    await call(facility.get_facility(FACILITY_ID))
    route.respond(json=facility_ok(facility_row(name="New name")))
    fresh = await call(facility.lookup_facility(FACILITY_ID, fresh=True))
    assert (fresh.value.name, fresh.from_cache) == ("New name", False)
    assert (await call(facility.get_facility(FACILITY_ID))).name == "New name"
    assert route.call_count == 2


async def test_a_failed_fresh_read_keeps_the_cached_copy(
    make_facility: Any, router: respx.MockRouter, clock: FakeClock
) -> None:
    """A fresh read during an outage raises, and leaves the cached copy and its stale fallback in place."""
    facility = make_facility(cache_policy=NO_JITTER)
    route = facility_route(router)
    await call(facility.get_facility(FACILITY_ID))
    route.respond(503, json=facility_error(503, "down"))
    with pytest.raises(ServiceUnavailableError):
        await call(facility.get_facility(FACILITY_ID, fresh=True))
    calls = route.call_count
    assert (await call(facility.lookup_facility(FACILITY_ID))).from_cache is True
    clock.advance(61)
    assert (await call(facility.lookup_facility(FACILITY_ID))).stale is True
    assert route.call_count > calls


async def test_a_fresh_read_that_finds_nothing_drops_the_copy(
    facility: Any, router: respx.MockRouter
) -> None:
    """A fresh read answered 404 raises NotFoundError and the cached copy is gone."""
    route = facility_route(router)
    await call(facility.get_facility(FACILITY_ID))
    route.respond(404, json=facility_error(404, "Facility not found"))
    with pytest.raises(NotFoundError):
        await call(facility.get_facility(FACILITY_ID, fresh=True))
    with pytest.raises(NotFoundError):
        await call(facility.get_facility(FACILITY_ID))
    assert route.call_count == 3


async def test_entries_expire_after_their_ttl(
    make_facility: Any, router: respx.MockRouter, clock: FakeClock
) -> None:
    """A facility is served from cache until its TTL (here 60 s), then fetched again."""
    facility = make_facility(cache_policy=NO_JITTER)
    route = facility_route(router)
    await call(facility.get_facility(FACILITY_ID))
    clock.advance(59)
    hit = await call(facility.lookup_facility(FACILITY_ID))
    assert (hit.from_cache, hit.age_s) == (True, 59)
    clock.advance(2)
    assert (await call(facility.lookup_facility(FACILITY_ID))).from_cache is False
    assert route.call_count == 2


async def test_default_ttls_are_one_hour_and_ten_minutes_with_jitter(
    facility: Any, router: respx.MockRouter, clock: FakeClock
) -> None:
    """By default a facility lives 1 h and departments 10 min, each within +-10 % jitter."""
    f_route = facility_route(router)
    d_route = router.get(host=HOST, path=f"/api/v1/facilities/{FACILITY_ID}/departments").respond(
        json=facility_ok([department_row()])
    )
    await call(facility.get_facility(FACILITY_ID))
    await call(facility.get_departments(FACILITY_ID))
    clock.advance(539)  # < 600 * 0.9
    await call(facility.get_departments(FACILITY_ID))
    assert d_route.call_count == 1
    clock.advance(661 - 539)  # > 600 * 1.1
    await call(facility.get_departments(FACILITY_ID))
    assert d_route.call_count == 2
    clock.advance(3239 - 661)  # < 3600 * 0.9 since the facility was stored
    await call(facility.get_facility(FACILITY_ID))
    assert f_route.call_count == 1
    clock.advance(3961 - 3239)  # > 3600 * 1.1
    await call(facility.get_facility(FACILITY_ID))
    assert f_route.call_count == 2


async def test_the_facility_list_is_cached_per_query(
    facility: Any, router: respx.MockRouter
) -> None:
    """list_facilities is cached per distinct query: the same page again is a hit, another page a miss."""
    route = router.get(host=HOST, path="/api/v1/facilities").respond(
        json=facility_page([facility_row()], 1, 20, 1)
    )
    await call(facility.list_facilities())
    await call(facility.list_facilities())
    await call(facility.list_facilities(page=1, limit=20))
    assert route.call_count == 1
    await call(facility.list_facilities(facility_type="clinic"))
    await call(facility.list_facilities(fresh=True))
    assert route.call_count == 3


# --- single-flight ------------------------------------------------------------------------------


async def test_a_cold_burst_for_one_facility_makes_one_request(
    facility: Any, router: respx.MockRouter, client_kind: str
) -> None:
    """100 threads (sync) or 100 tasks (async) asking for one cold facility at once make exactly one request."""
    body = facility_ok(facility_row())
    if client_kind == "sync":

        def slow(request: httpx.Request) -> httpx.Response:
            time.sleep(0.05)
            return httpx.Response(200, json=body)

        route = router.get(host=HOST, path=f"/api/v1/facilities/{FACILITY_ID}").mock(
            side_effect=slow
        )
        start = threading.Barrier(100)

        def one(_: int) -> Any:
            start.wait(5)
            return facility.get_facility(FACILITY_ID)

        with ThreadPoolExecutor(max_workers=100) as pool:
            results = list(pool.map(one, range(100)))
    else:

        async def aslow(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0.05)
            return httpx.Response(200, json=body)

        route = router.get(host=HOST, path=f"/api/v1/facilities/{FACILITY_ID}").mock(
            side_effect=aslow
        )
        results = await asyncio.gather(*(facility.get_facility(FACILITY_ID) for _ in range(100)))
    assert route.call_count == 1
    assert {r.facility_id for r in results} == {FACILITY_ID}
    stats = facility.cache_stats()
    assert stats.misses == 1 and stats.coalesced_waits > 0


# --- stale-if-error -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "outage",
    [
        pytest.param({"status_code": 503}, id="503"),
        pytest.param({"status_code": 500}, id="500"),
        pytest.param({"side_effect": httpx.ConnectError("refused")}, id="unreachable"),
        pytest.param({"side_effect": httpx.ReadTimeout("timed out")}, id="timeout"),
    ],
)
async def test_an_expired_facility_is_served_stale_during_an_outage(
    make_facility: Any, router: respx.MockRouter, clock: FakeClock, outage: dict[str, Any]
) -> None:
    """When the refresh fails because Facility is down, the old value is returned, flagged stale, counted and logged."""
    facility = make_facility(cache_policy=NO_JITTER)
    route = facility_route(router, name="Khartoum Teaching Hospital")
    await call(facility.get_facility(FACILITY_ID))
    clock.advance(120)
    if "side_effect" in outage:
        route.side_effect = outage["side_effect"]
    else:
        route.respond(outage["status_code"], json=facility_error(outage["status_code"], "down"))
    with capture_logs() as logs:
        value = await call(facility.get_facility(FACILITY_ID))
        looked_up = await call(facility.lookup_facility(FACILITY_ID))
    assert value.name == "Khartoum Teaching Hospital"
    assert (looked_up.stale, looked_up.from_cache) == (True, True)
    assert looked_up.age_s >= 120
    assert facility.cache_stats().stale_serves == 2
    events = [e["event"] for e in logs if e["event"].startswith("nilecare_clients.cache")]
    assert events == ["nilecare_clients.cache_stale_served"] * 2
    assert await call(facility.facility_exists(FACILITY_ID)) is True  # an outage is not "gone"


async def test_an_expired_facility_is_served_stale_while_the_breaker_is_open(
    make_facility: Any,
    facility_config: ServiceConfig,
    router: respx.MockRouter,
    clock: FakeClock,
) -> None:
    """With Facility's breaker open no request is made, and the expired value is served stale."""
    config = facility_config.model_copy(
        update={
            "breaker": BreakerPolicy(consecutive_failures=2, reset_timeout=600),
            "retry": retry_policy(clock, max_attempts=1),
        }
    )
    facility = make_facility(config, cache_policy=NO_JITTER)
    route = facility_route(router)
    await call(facility.get_facility(FACILITY_ID))
    # Refused connections say the service is gone (a 503 from one route opens only that route).
    router.get(host=HOST, path=f"/api/v1/beds/{BED_ID}").mock(side_effect=httpx.ConnectError)
    for _ in range(2):
        with pytest.raises(ServiceUnavailableError):
            await call(facility.get_bed(BED_ID))
    assert facility.breaker_state == "open"
    clock.advance(61)
    result = await call(facility.lookup_facility(FACILITY_ID))
    assert (result.value.facility_id, result.stale) == (FACILITY_ID, True)
    assert route.call_count == 1
    assert facility.cache_stats().stale_serves == 1


async def test_nothing_older_than_max_stale_is_served(
    make_facility: Any, router: respx.MockRouter, clock: FakeClock
) -> None:
    """Past max_stale an outage raises instead of serving the old value."""
    policy = NO_JITTER.model_copy(update={"max_stale": 300})
    facility = make_facility(cache_policy=policy)
    route = facility_route(router)
    await call(facility.get_facility(FACILITY_ID))
    clock.advance(301)
    route.respond(503, json=facility_error(503, "down"))
    with pytest.raises(ServiceUnavailableError):
        await call(facility.get_facility(FACILITY_ID))
    assert facility.cache_stats().stale_serves == 0


async def test_a_403_is_not_served_stale_nor_cached_nor_held_against_the_breaker(
    make_facility: Any, router: respx.MockRouter, clock: FakeClock
) -> None:
    """A 403 (contract I21) is raised even with an expired copy, is asked again every time, and leaves the breaker closed."""
    facility = make_facility(cache_policy=NO_JITTER)
    route = facility_route(router)
    await call(facility.get_facility(FACILITY_ID))
    clock.advance(61)
    route.respond(
        403, json={"success": False, "error": {"code": "FORBIDDEN", "message": "Access denied"}}
    )
    for _ in range(20):
        with pytest.raises(PermissionDeniedError):
            await call(facility.get_facility(FACILITY_ID))
    with pytest.raises(PermissionDeniedError):
        await call(facility.facility_exists(FACILITY_ID))
    assert route.call_count == 1 + 21
    stats = facility.cache_stats()
    assert (stats.stale_serves, stats.negative_hits) == (0, 0)
    assert facility.breaker_state == "closed"


async def test_a_404_is_remembered_briefly(
    facility: Any, router: respx.MockRouter, clock: FakeClock
) -> None:
    """A burst of lookups of an unknown facility makes one request; after the negative TTL (30 s) it asks again."""
    route = router.get(host=HOST, path=f"/api/v1/facilities/{MISSING_ID}").respond(
        404, json=facility_error(404, "Facility not found")
    )
    for _ in range(10):
        with pytest.raises(NotFoundError):
            await call(facility.get_facility(MISSING_ID))
    assert [await call(facility.facility_exists(MISSING_ID)) for _ in range(5)] == [False] * 5
    assert route.call_count == 1
    assert facility.cache_stats().negative_hits == 14
    clock.advance(34)  # > 30 s + 10 % jitter
    assert await call(facility.facility_exists(MISSING_ID)) is False
    assert route.call_count == 2


# --- what writes invalidate ---------------------------------------------------------------------


class Reads:
    """Routes for every cached read of two facilities, and a way to see which were asked again."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.routes: dict[str, respx.Route] = {}
        for fid, tag in ((FACILITY_ID, "f1"), (OTHER_FACILITY_ID, "f2")):
            base = f"/api/v1/facilities/{fid}"
            self._add(router, f"facility:{tag}", base, facility_row(fid))
            self._add(
                router,
                f"departments:{tag}",
                base + "/departments",
                [department_row(facility_id=fid)],
            )
            self._add(
                router, f"settings:{tag}", f"/api/v1/settings/facility/{fid}", settings_row(fid)
            )
        for did, fid, tag in (
            (DEPARTMENT_ID, FACILITY_ID, "d1"),
            (OTHER_DEPARTMENT_ID, OTHER_FACILITY_ID, "d2"),
        ):
            self._add(
                router, f"department:{tag}", f"/api/v1/departments/{did}", department_row(did, fid)
            )
        self.routes["list"] = router.get(host=HOST, path="/api/v1/facilities").respond(
            json=facility_page([facility_row()], 1, 20, 1)
        )

    def _add(self, router: respx.MockRouter, name: str, path: str, data: Any) -> None:
        self.routes[name] = router.get(host=HOST, path=path).respond(json=facility_ok(data))

    async def read_all(self, facility: Any) -> None:
        for fid in (FACILITY_ID, OTHER_FACILITY_ID):
            await call(facility.get_facility(fid))
            await call(facility.get_departments(fid))
            await call(facility.get_facility_settings(fid))
        for did in (DEPARTMENT_ID, OTHER_DEPARTMENT_ID):
            await call(facility.get_department(did))
        await call(facility.list_facilities())

    def counts(self) -> dict[str, int]:
        return {name: route.call_count for name, route in self.routes.items()}

    async def refetched_after(self, facility: Any, write: Callable[[], Any]) -> set[str]:
        await self.read_all(facility)
        before = self.counts()
        await call(write())
        await self.read_all(facility)
        return {name for name, count in self.counts().items() if count != before[name]}


def _write(router: respx.MockRouter, method: str, path: str, status: int, data: Any) -> None:
    body = facility_ok(data, "done") if data is not None else {"success": True, "message": "done"}
    router.route(method=method, host=HOST, path=path).respond(status, json=body)


WRITES = [
    pytest.param(
        "update_facility",
        (FACILITY_ID, {"name": "KTH"}),
        ("PUT", f"/api/v1/facilities/{FACILITY_ID}", 200, facility_row()),
        {"facility:f1", "list"},
        id="update_facility",
    ),
    pytest.param(
        "delete_facility",
        (FACILITY_ID,),
        ("DELETE", f"/api/v1/facilities/{FACILITY_ID}", 200, None),
        {"facility:f1", "departments:f1", "settings:f1", "list"},
        id="delete_facility",
    ),
    pytest.param(
        "create_facility",
        (facility_create(),),
        ("POST", "/api/v1/facilities", 201, facility_row("f0000000-0000-4000-8000-00000000000f")),
        {"list"},
        id="create_facility",
    ),
    pytest.param(
        "update_facility_settings",
        (FACILITY_ID, {"currency": "USD"}),
        ("PUT", f"/api/v1/settings/facility/{FACILITY_ID}", 200, settings_row(currency="USD")),
        {"settings:f1"},
        id="update_facility_settings",
    ),
    pytest.param(
        "create_department",
        (
            {
                "facility_id": FACILITY_ID,
                "name": "Oncology",
                "code": "ONC",
                "specialization": "oncology",
            },
        ),
        (
            "POST",
            "/api/v1/departments",
            201,
            department_row("b0000000-0000-4000-8000-00000000000b"),
        ),
        {"departments:f1"},
        id="create_department",
    ),
    pytest.param(
        "update_department",
        (DEPARTMENT_ID, {"name": "Cardiac care"}),
        ("PUT", f"/api/v1/departments/{DEPARTMENT_ID}", 200, department_row()),
        {"department:d1", "departments:f1"},
        id="update_department",
    ),
    pytest.param(
        "update_bed_status",
        (BED_ID, "cleaning"),
        ("PUT", f"/api/v1/beds/{BED_ID}/status", 200, bed_row(bedStatus="cleaning")),
        set(),
        id="bed_status",
    ),
    pytest.param(
        "assign_bed",
        (BED_ID, {"patient_id": PATIENT_ID}),
        (
            "POST",
            f"/api/v1/beds/{BED_ID}/assign",
            200,
            bed_row(bedStatus="occupied", patientId=PATIENT_ID),
        ),
        set(),
        id="assign_bed",
    ),
    pytest.param(
        "release_bed",
        (BED_ID,),
        ("POST", f"/api/v1/beds/{BED_ID}/release", 200, bed_row(bedStatus="cleaning")),
        set(),
        id="release_bed",
    ),
]


@pytest.mark.parametrize(("method", "args", "answer", "dropped"), WRITES)
async def test_writes_invalidate_exactly_what_they_change(
    facility: Any,
    router: respx.MockRouter,
    method: str,
    args: tuple[Any, ...],
    answer: tuple[str, str, int, Any],
    dropped: set[str],
) -> None:
    """Each write drops exactly the entries it changes; other facilities and departments stay cached, and bed writes drop nothing."""
    reads = Reads(router)
    _write(router, *answer)
    refetched = await reads.refetched_after(facility, lambda: getattr(facility, method)(*args))
    assert refetched == dropped


# --- live data is never cached ----------------------------------------------------------------------

LIVE = [
    ("get_bed", (BED_ID,), f"/api/v1/beds/{BED_ID}", bed_row(), {}),
    ("get_available_beds", (FACILITY_ID,), "/api/v1/beds/available", [bed_row()], {"count": 1}),
    ("get_bed_history", (BED_ID,), f"/api/v1/beds/{BED_ID}/history", [bed_history_row()], {}),
    (
        "get_capacity",
        (FACILITY_ID,),
        f"/api/v1/facilities/{FACILITY_ID}/capacity",
        capacity_row(),
        {},
    ),
    (
        "get_facility_analytics",
        (FACILITY_ID,),
        f"/api/v1/facilities/{FACILITY_ID}/analytics",
        analytics_row(),
        {},
    ),
    ("get_wards", (DEPARTMENT_ID,), f"/api/v1/departments/{DEPARTMENT_ID}/wards", [ward_row()], {}),
    ("get_ward", (WARD_ID,), f"/api/v1/wards/{WARD_ID}", ward_row(), {}),
    ("get_ward_beds", (WARD_ID,), f"/api/v1/wards/{WARD_ID}/beds", [bed_row()], {}),
    ("get_ward_occupancy", (WARD_ID,), f"/api/v1/wards/{WARD_ID}/occupancy", occupancy_row(), {}),
]


@pytest.mark.parametrize(
    ("method", "args", "path", "data", "extra"), LIVE, ids=[c[0] for c in LIVE]
)
async def test_live_data_is_never_cached(
    facility: Any,
    router: respx.MockRouter,
    method: str,
    args: tuple[Any, ...],
    path: str,
    data: Any,
    extra: dict[str, Any],
) -> None:
    """Beds, availability, bed history, capacity, analytics and wards make a request on every call and store nothing."""
    route = router.get(host=HOST, path=path).respond(json=facility_ok(data, **extra))
    for _ in range(3):
        await call(getattr(facility, method)(*args))
    assert route.call_count == 3
    stats = facility.cache_stats()
    assert (stats.size, stats.hits, stats.misses) == (0, 0, 0)


# --- sharing, opting out, invalidate, preload -------------------------------------------------------


async def test_sync_and_async_clients_of_one_service_share_the_cache(
    make_facility: Any, router: respx.MockRouter, client_kind: str
) -> None:
    """A facility loaded by one twin is a hit for the other twin of the same service name."""
    other_kind = "async" if client_kind == "sync" else "sync"
    loader = make_facility(kind=client_kind)
    reader = make_facility(kind=other_kind)
    route = facility_route(router)
    await call(loader.get_facility(FACILITY_ID))
    assert (await call(reader.lookup_facility(FACILITY_ID))).from_cache is True
    assert route.call_count == 1
    assert reader.cache_stats() == loader.cache_stats()
    reader.invalidate(FACILITY_ID)
    await call(loader.get_facility(FACILITY_ID))
    assert route.call_count == 2


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"cache": False}, id="cache=False"),
        pytest.param({"cache_policy": CachePolicy(enabled=False)}, id="policy-disabled"),
    ],
)
async def test_caching_can_be_turned_off(
    make_facility: Any, router: respx.MockRouter, options: dict[str, Any]
) -> None:
    """With caching disabled every read makes a request, and invalidate/cache_stats still work."""
    facility = make_facility(**options)
    route = facility_route(router)
    for _ in range(3):
        result = await call(facility.lookup_facility(FACILITY_ID))
        assert result.from_cache is False
    await call(facility.get_facility(FACILITY_ID, fresh=True))
    assert route.call_count == 4
    facility.invalidate(FACILITY_ID)
    facility.invalidate()
    stats = facility.cache_stats()
    assert (stats.hits, stats.size) == (0, 0)


async def test_an_injected_cache_is_used_instead_of_the_shared_one(
    make_facility: Any, router: respx.MockRouter, clock: FakeClock
) -> None:
    """A FacilityCache passed as cache= serves that client alone, on its own clock and policy."""
    own = FacilityCache(NO_JITTER, clock=clock)
    private = make_facility(cache=own)
    shared = make_facility()
    route = facility_route(router)
    await call(private.get_facility(FACILITY_ID))
    await call(private.get_facility(FACILITY_ID))
    assert own.stats().hits == 1 and route.call_count == 1
    await call(shared.get_facility(FACILITY_ID))
    assert route.call_count == 2  # the shared cache is another cache
    clock.advance(61)
    await call(private.get_facility(FACILITY_ID))
    assert route.call_count == 3


async def test_invalidate_forgets_one_facility_or_everything(
    facility: Any, router: respx.MockRouter
) -> None:
    """invalidate(id) forgets that facility (record, departments, settings, lists); invalidate() forgets all."""
    reads = Reads(router)
    refetched = await reads.refetched_after(facility, lambda: facility.invalidate(FACILITY_ID))
    assert refetched == {"facility:f1", "departments:f1", "settings:f1", "list"}
    refetched = await reads.refetched_after(facility, lambda: facility.invalidate())
    assert refetched == set(reads.routes)


async def test_preload_warms_the_cache_and_skips_unknown_ids(
    facility: Any, router: respx.MockRouter
) -> None:
    """preload fetches each facility once, ignores a 404, and later reads are hits."""
    first = facility_route(router)
    second = facility_route(router, OTHER_FACILITY_ID, row_id=2)
    missing = router.get(host=HOST, path=f"/api/v1/facilities/{MISSING_ID}").respond(
        404, json=facility_error(404, "Facility not found")
    )
    await call(facility.preload([FACILITY_ID, OTHER_FACILITY_ID, MISSING_ID]))
    await call(facility.get_facility(FACILITY_ID))
    await call(facility.get_facility(OTHER_FACILITY_ID))
    assert await call(facility.facility_exists(MISSING_ID)) is False
    assert (first.call_count, second.call_count, missing.call_count) == (1, 1, 1)


async def test_a_successful_create_never_raises_while_invalidating(
    facility: Any, router: respx.MockRouter
) -> None:
    """A create answered with an id from a drifted storage schema (contract I3, I24) is returned, not turned into an error by cache bookkeeping."""
    router.post(host=HOST, path="/api/v1/facilities").respond(
        201, json=facility_ok(facility_row("FAC-17"), "Facility created successfully")
    )
    created = await call(facility.create_facility(facility_create()))
    assert created.facility_id == "FAC-17"


async def test_a_client_cannot_silently_get_other_ttls_than_it_asked_for(
    make_facility: Any, router: respx.MockRouter
) -> None:
    """The first client fixes the shared cache's policy; a later client asking for another policy is refused, the same one or none is fine."""
    first = make_facility(cache_policy=NO_JITTER)
    assert make_facility(cache_policy=NO_JITTER.model_copy()).cache_stats() == first.cache_stats()
    make_facility()
    with pytest.raises(ConfigurationError, match=r"CachePolicy.facility_ttl differs"):
        make_facility(cache_policy=CachePolicy(facility_ttl=5))
    own = make_facility(cache=FacilityCache(CachePolicy(facility_ttl=5)))
    assert own.cache_stats().size == 0


async def test_preload_tries_every_id_before_raising_a_failure(
    facility: Any, router: respx.MockRouter
) -> None:
    """One facility failing does not stop the others loading; the failure is raised once all were tried."""
    failing = router.get(host=HOST, path=f"/api/v1/facilities/{OTHER_FACILITY_ID}").respond(
        500, json=facility_error(500, "boom")
    )
    loaded = facility_route(router)
    with pytest.raises(ServerError):
        await call(facility.preload([OTHER_FACILITY_ID, FACILITY_ID, FACILITY_ID]))
    assert failing.called and loaded.call_count == 1
    assert (await call(facility.lookup_facility(FACILITY_ID))).from_cache is True


async def test_preload_checks_every_id_before_any_io(
    facility: Any, router: respx.MockRouter
) -> None:
    """A non-UUID anywhere in the list is refused before a single request is sent."""
    anything = router.route()
    with pytest.raises(InvalidRequestError):
        await call(facility.preload([FACILITY_ID, "not-a-uuid"]))
    assert not anything.called


@pytest.mark.parametrize(
    ("method", "args", "path", "dropped"),
    [
        pytest.param(
            "update_facility",
            (FACILITY_ID, {"name": "KTH"}),
            f"/api/v1/facilities/{FACILITY_ID}",
            {"facility:f1", "list"},
            id="update_facility",
        ),
        pytest.param(
            "delete_facility",
            (FACILITY_ID,),
            f"/api/v1/facilities/{FACILITY_ID}",
            {"facility:f1", "departments:f1", "settings:f1", "list"},
            id="delete_facility",
        ),
        pytest.param(
            "update_facility_settings",
            (FACILITY_ID, {"currency": "USD"}),
            f"/api/v1/settings/facility/{FACILITY_ID}",
            {"settings:f1"},
            id="update_facility_settings",
        ),
        pytest.param(
            "update_department",
            (DEPARTMENT_ID, {"name": "Cardiac care"}),
            f"/api/v1/departments/{DEPARTMENT_ID}",
            {"department:d1"},
            id="update_department",
        ),
    ],
)
async def test_a_write_that_may_have_been_applied_still_drops_what_it_changes(
    facility: Any,
    router: respx.MockRouter,
    method: str,
    args: tuple[Any, ...],
    path: str,
    dropped: set[str],
) -> None:
    """A write that timed out may have been applied, so the entries it would change are dropped anyway."""
    reads = Reads(router)
    verb = "DELETE" if method.startswith("delete") else "PUT"
    router.route(method=verb, host=HOST, path=path).side_effect = httpx.ReadTimeout("timed out")

    async def write() -> None:
        with pytest.raises(ServiceUnavailableError):
            await call(getattr(facility, method)(*args))

    assert await reads.refetched_after(facility, write) == dropped
