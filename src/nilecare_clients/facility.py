"""``FacilityServiceClient`` and ``AsyncFacilityServiceClient`` (contract §3), with the cache.

Every route is declared once in the table below, with its cache kind and what it
invalidates. Reference data is cached (contract §4.3): a facility, the facility list and a
facility's settings for 1 h, departments for 10 min. Live data is never cached: beds,
availability, ward records (their counters are live), capacity, analytics, bed history.
Writes invalidate exactly what they change. The cache is shared per service per process by
both twins.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, TypeVar

from nilecare_clients._cache import (
    CachePolicy,
    CacheResult,
    CacheStats,
    FacilityCache,
    shared_cache,
)
from nilecare_clients._cache import Drop as CacheDrop
from nilecare_clients._client import AsyncBaseServiceClient, BaseServiceClient
from nilecare_clients._config import ServiceConfig
from nilecare_clients._endpoint import (
    Bound,
    CacheKind,
    Endpoint,
    Param,
    Safety,
    check_uuid,
    page_params,
    uuid_param,
)
from nilecare_clients._errors import (
    ConfigurationError,
    InvalidRequestError,
    NileCareError,
    NotFoundError,
)
from nilecare_clients._facility_events import event_drop
from nilecare_clients._http import httpx
from nilecare_clients.models.common import Page
from nilecare_clients.models.facility import (
    AnalyticsPeriod,
    Bed,
    BedAssign,
    BedHistoryEntry,
    BedRelease,
    BedStatus,
    BedStatusUpdate,
    BedType,
    Department,
    DepartmentCreate,
    DepartmentUpdate,
    Facility,
    FacilityAnalytics,
    FacilityCapacity,
    FacilityCreate,
    FacilitySettings,
    FacilitySettingsUpdate,
    FacilityUpdate,
    Ward,
    WardOccupancy,
)

__all__ = ["AsyncFacilityServiceClient", "FacilityServiceClient"]

T = TypeVar("T")

#: The Facility service's largest page (contract I12); a larger ``limit`` is refused.
MAX_LIMIT = 100

#: How many facilities the async ``preload`` fetches at once (well inside the bulkhead).
_PRELOAD_CONCURRENCY = 8

# What is cached, under which key prefix and for how long (a ``CachePolicy`` field).
FACILITY_KIND = CacheKind("facility", "facility_ttl")
FACILITY_LIST_KIND = CacheKind("facilities", "facility_list_ttl")
SETTINGS_KIND = CacheKind("settings", "facility_ttl")
DEPARTMENTS_KIND = CacheKind("departments", "department_ttl")
DEPARTMENT_KIND = CacheKind("department", "department_ttl")


class Drop(enum.Enum):
    """What a write makes wrong in the cache.

    Drops keyed by the call's id happen even when the write failed (a write that timed out
    or answered 5xx may still have been applied); drops keyed by the answer happen after it.
    """

    #: The facility's record and every facility list (by the call's id).
    FACILITY_RECORD = "facility_record"
    #: Everything cached for the facility (record, departments, settings) and every list.
    FACILITY = "facility"
    #: The same, for the facility the answer names (a created facility).
    ANSWERED_FACILITY = "answered_facility"
    #: The facility's settings (by the call's id).
    SETTINGS = "settings"
    #: The department (by the call's id).
    DEPARTMENT = "department"
    #: The department list of the facility the answer names.
    ANSWERED_DEPARTMENTS = "answered_departments"

    @property
    def from_answer(self) -> bool:
        return self in (Drop.ANSWERED_FACILITY, Drop.ANSWERED_DEPARTMENTS)

    def for_id(self, ident: str) -> CacheDrop:
        """What this drop removes for ``ident``, as data every replica can apply."""
        if self in (Drop.FACILITY, Drop.ANSWERED_FACILITY):
            return CacheDrop(facilities=(ident,), lists=True)
        if self is Drop.FACILITY_RECORD:
            return CacheDrop(keys=(("facility", ident),), lists=True)
        prefix = {
            Drop.SETTINGS: "settings",
            Drop.DEPARTMENT: "department",
            Drop.ANSWERED_DEPARTMENTS: "departments",
        }[self]
        return CacheDrop(keys=((prefix, ident),))


def _period(name: str, period: object) -> str:
    """The analytics period, checked before any I/O (the service answers 400 otherwise)."""
    if isinstance(period, str):
        try:
            return AnalyticsPeriod(period).value
        except ValueError:
            pass
    raise InvalidRequestError(
        f"{name} must be one of: " + ", ".join(p.value for p in AnalyticsPeriod)
    )


def _bed_status_rules(values: Mapping[str, Any]) -> None:
    # contract I20: the status route would leave an occupied bed with no patient; assign decides.
    if values.get("patient_id") is not None:
        raise InvalidRequestError("update_bed_status does not take a patient: use assign_bed")
    if values.get("status") == BedStatus.OCCUPIED:
        raise InvalidRequestError("a bed becomes occupied only through assign_bed")


def _by_id(route: str, returns: Any, id_name: str, **extra: Any) -> Endpoint[Any]:
    """A get-by-id: ``data: null`` means not found (contract I11)."""
    return Endpoint(
        "GET", route, Safety.READ, returns=returns, ids=(id_name,), null_is_not_found=True, **extra
    )


# -- the routes (contract §3), each declared once -------------------------------------------
GET_FACILITY: Endpoint[Facility] = _by_id(
    "/api/v1/facilities/{id}", Facility, "facility_id", cache=FACILITY_KIND
)
LIST_FACILITIES: Endpoint[Page[Facility]] = Endpoint(
    "GET",
    "/api/v1/facilities",
    Safety.READ,
    returns=Page[Facility],
    query=(
        *page_params(MAX_LIMIT),
        Param("facility_type", "type"),
        Param("search"),
        uuid_param("organization_id", "organizationId"),
        Param("city"),
    ),
    cache=FACILITY_LIST_KIND,
)
CREATE_FACILITY: Endpoint[Facility] = Endpoint(
    "POST",
    "/api/v1/facilities",
    Safety.KEYED,
    returns=Facility,
    body=FacilityCreate,
    invalidates=(Drop.ANSWERED_FACILITY,),
)
UPDATE_FACILITY: Endpoint[Facility] = Endpoint(
    "PUT",
    "/api/v1/facilities/{id}",
    Safety.IDEMPOTENT,
    returns=Facility,
    ids=("facility_id",),
    body=FacilityUpdate,
    invalidates=(Drop.FACILITY_RECORD,),
)
DELETE_FACILITY: Endpoint[None] = Endpoint(
    "DELETE",
    "/api/v1/facilities/{id}",
    Safety.IDEMPOTENT,
    ids=("facility_id",),
    invalidates=(Drop.FACILITY,),
)
GET_SETTINGS: Endpoint[FacilitySettings] = _by_id(
    "/api/v1/settings/facility/{id}", FacilitySettings, "facility_id", cache=SETTINGS_KIND
)
UPDATE_SETTINGS: Endpoint[FacilitySettings] = Endpoint(
    "PUT",
    "/api/v1/settings/facility/{id}",
    Safety.IDEMPOTENT,
    returns=FacilitySettings,
    ids=("facility_id",),
    body=FacilitySettingsUpdate,
    invalidates=(Drop.SETTINGS,),
)
GET_DEPARTMENTS: Endpoint[list[Department]] = _by_id(
    "/api/v1/facilities/{id}/departments",
    list[Department],
    "facility_id",
    cache=DEPARTMENTS_KIND,
)
GET_DEPARTMENT: Endpoint[Department] = _by_id(
    "/api/v1/departments/{id}", Department, "department_id", cache=DEPARTMENT_KIND
)
CREATE_DEPARTMENT: Endpoint[Department] = Endpoint(
    "POST",
    "/api/v1/departments",
    Safety.KEYED,
    returns=Department,
    body=DepartmentCreate,
    invalidates=(Drop.ANSWERED_DEPARTMENTS,),
)
UPDATE_DEPARTMENT: Endpoint[Department] = Endpoint(
    "PUT",
    "/api/v1/departments/{id}",
    Safety.IDEMPOTENT,
    returns=Department,
    ids=("department_id",),
    body=DepartmentUpdate,
    invalidates=(Drop.DEPARTMENT, Drop.ANSWERED_DEPARTMENTS),
)
GET_WARDS: Endpoint[list[Ward]] = _by_id(
    "/api/v1/departments/{id}/wards", list[Ward], "department_id"
)
GET_WARD: Endpoint[Ward] = _by_id("/api/v1/wards/{id}", Ward, "ward_id")
GET_WARD_BEDS: Endpoint[list[Bed]] = _by_id("/api/v1/wards/{id}/beds", list[Bed], "ward_id")
GET_WARD_OCCUPANCY: Endpoint[WardOccupancy] = _by_id(
    "/api/v1/wards/{id}/occupancy", WardOccupancy, "ward_id"
)
GET_BED: Endpoint[Bed] = _by_id("/api/v1/beds/{id}", Bed, "bed_id")
AVAILABLE_BEDS: Endpoint[list[Bed]] = Endpoint(
    "GET",
    "/api/v1/beds/available",
    Safety.READ,
    returns=list[Bed],
    query=(
        uuid_param("facility_id", "facilityId", required=True),
        uuid_param("ward_id", "wardId"),
        Param("bed_type", "bedType"),
        Param("has_oxygen", "hasOxygen"),
        Param("has_monitor", "hasMonitor"),
        Param("has_ventilator", "hasVentilator"),
        Param("isolation_capable", "isolationCapable"),
    ),
)
UPDATE_BED_STATUS: Endpoint[Bed] = Endpoint(
    "PUT",
    "/api/v1/beds/{id}/status",
    Safety.IDEMPOTENT,
    returns=Bed,
    ids=("bed_id",),
    body=BedStatusUpdate,
    body_from=("status",),
    check=_bed_status_rules,
    extra=("patient_id",),
)
# contract I19: no idempotency key, so never repeated once the request may have been read.
ASSIGN_BED: Endpoint[Bed] = Endpoint(
    "POST", "/api/v1/beds/{id}/assign", Safety.ONCE, returns=Bed, ids=("bed_id",), body=BedAssign
)
RELEASE_BED: Endpoint[Bed] = Endpoint(
    "POST",
    "/api/v1/beds/{id}/release",
    Safety.ONCE,
    returns=Bed,
    ids=("bed_id",),
    body=BedRelease,
    body_from=("release_reason",),
)
BED_HISTORY: Endpoint[list[BedHistoryEntry]] = _by_id(
    "/api/v1/beds/{id}/history", list[BedHistoryEntry], "bed_id"
)
CAPACITY: Endpoint[FacilityCapacity] = _by_id(
    "/api/v1/facilities/{id}/capacity", FacilityCapacity, "facility_id"
)
ANALYTICS: Endpoint[FacilityAnalytics] = _by_id(
    "/api/v1/facilities/{id}/analytics",
    FacilityAnalytics,
    "facility_id",
    query=(Param("period", check=_period),),
)


def _preload_ids(facility_ids: Iterable[str]) -> list[str]:
    """The distinct ids to preload, in order, every one checked before any I/O."""
    ids = list(dict.fromkeys(facility_ids))
    for facility_id in ids:
        check_uuid("facility_id", facility_id)
    return ids


class _FacilityCacheOwner:
    """Cache plumbing shared by both twins (no I/O)."""

    _cache: FacilityCache | None

    def _setup_cache(
        self, config: ServiceConfig, cache: FacilityCache | bool, cache_policy: CachePolicy | None
    ) -> None:
        if isinstance(cache, FacilityCache):
            self._cache = cache
        elif cache:
            policy = cache_policy or CachePolicy()
            if config.cache_redis_url is not None and policy.redis_url is None:
                # NILECARE_FACILITY_CACHE_REDIS_URL: the shared tier, unless the policy names one.
                policy = policy.model_copy(
                    update={
                        "redis_url": config.cache_redis_url,
                        "redis_namespace": policy.redis_namespace or config.cache_redis_namespace,
                    }
                )
                cache_policy = policy if cache_policy is not None else None
            shared = shared_cache(config.name, policy, config.retry.clock)
            if cache_policy is not None and shared.policy != policy:
                # The first client of a service fixes the shared cache's policy (per service
                # and process, like the breaker); other TTLs than asked for would be a trap.
                # No policy given means "the shared cache as it is".
                field = next(
                    (
                        f
                        for f in type(policy).model_fields
                        if getattr(shared.policy, f) != getattr(policy, f)
                    ),
                    "cache_policy",
                )
                raise ConfigurationError(
                    f"{config.name}: CachePolicy.{field} differs from the shared cache's (a "
                    "FacilityCache is per service and process): pass the same policy to every "
                    "client of this name, or cache=FacilityCache(policy) for a cache of its own"
                )
            self._cache = shared
        else:
            self._cache = None

    @property
    def _live_cache(self) -> FacilityCache | None:
        cache = self._cache
        return cache if cache is not None and cache.policy.enabled else None

    @staticmethod
    def _entry(cache: FacilityCache, bound: Bound[Any]) -> tuple[Hashable, float]:
        """A cached call's key (kind and id, or kind and query) and TTL."""
        kind = bound.endpoint.cache
        assert kind is not None  # only cached endpoints get here
        if bound.path_params:
            key: Hashable = (kind.prefix, *bound.path_params.values())
        else:
            key = (kind.prefix, tuple(sorted((bound.params or {}).items())))
        return key, float(getattr(cache.policy, kind.ttl))

    def _forget(self, bound: Bound[Any], answer: Any, *, answered: bool) -> None:
        """Drop what a write changes: by the call's id, or (once ``answered``) by its answer.

        Ids come from the answer or were checked before the call, so nothing here raises: a
        write that succeeded must not fail afterwards.
        """
        if self._cache is None:
            return
        for drop in bound.endpoint.invalidates:
            assert isinstance(drop, Drop)
            if drop.from_answer != answered:
                continue
            if answered:
                ident = str(answer.facility_id)
            elif bound.path_params:
                ident = str(next(iter(bound.path_params.values())))
            else:
                continue
            self._cache.drop(drop.for_id(ident))

    def invalidate(self, facility_id: str | None = None) -> None:
        """Forget one facility (its record, departments, settings, and every list), or all."""
        if facility_id is not None:
            check_uuid("facility_id", facility_id)
        if self._cache is None:
            return
        if facility_id is None:
            self._cache.drop(CacheDrop(everything=True))
        else:
            self._cache.drop(Drop.FACILITY.for_id(facility_id))

    def _apply_event(self, payload: Any) -> bool:
        """Drop what one ``facility-events`` message changes; False if its type is ignored."""
        _, drop = event_drop(payload)
        if self._cache is not None:
            self._cache.count_event(drop is not None)
            if drop is not None:
                self._cache.drop(drop)
        return drop is not None

    def cache_stats(self) -> CacheStats:
        """Hits, misses, stale serves, coalesced waits, negative hits, evictions and size."""
        if self._cache is None:
            return CacheStats(0, 0, 0, 0, 0, 0, 0, 0)
        return self._cache.stats()


class FacilityServiceClient(_FacilityCacheOwner, BaseServiceClient):
    """Synchronous client of the Facility service, with the shared reference-data cache.

    ``cache=False`` disables caching; a ``FacilityCache`` instance replaces the shared one.
    """

    def __init__(
        self,
        *,
        config: ServiceConfig,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        cache: FacilityCache | bool = True,
        cache_policy: CachePolicy | None = None,
    ) -> None:
        super().__init__(config=config, http_client=http_client, transport=transport)
        self._setup_cache(config, cache, cache_policy)

    def _send(self, bound: Bound[T]) -> T:
        """A write drops what it changes (``Drop``), by id even when it failed."""
        if not bound.endpoint.invalidates:
            return super()._send(bound)
        try:
            answer = super()._send(bound)
        finally:
            self._forget(bound, None, answered=False)
        self._forget(bound, answer, answered=True)
        return answer

    def _lookup(
        self, endpoint: Endpoint[T], *ids: str, fresh: bool = False, **values: Any
    ) -> CacheResult[T]:
        """A cached route's value and where it came from.

        ``fresh=True`` asks the service first and replaces the entry only once it answered,
        so a failed fresh read leaves the cached copy (and its stale-if-error use) alone.
        """
        bound = endpoint.bind(ids, values)
        self._ensure_open()  # a cache hit on a closed client is still use after close
        cache = self._live_cache
        if cache is None:
            return CacheResult(self._send(bound), False, 0.0, False)
        key, ttl = self._entry(cache, bound)
        if not fresh:
            return cache.get_or_load(key, ttl, lambda: self._send(bound), wait=self.config.deadline)
        try:
            value = self._send(bound)
        except NotFoundError:
            cache.invalidate(key)  # the entity is gone: no stale copy of it either
            raise
        cache.invalidate(key)
        return cache.get_or_load(key, ttl, lambda: value)

    # -- facilities (reference data: cached) ----------------------------------------------
    def lookup_facility(self, facility_id: str, *, fresh: bool = False) -> CacheResult[Facility]:
        """The facility with where it came from (``stale=True`` when Facility was down)."""
        return self._lookup(GET_FACILITY, facility_id, fresh=fresh)

    def get_facility(self, facility_id: str, *, fresh: bool = False) -> Facility:
        """The facility (cached 1 h; an expired copy is served if Facility is down)."""
        return self._lookup(GET_FACILITY, facility_id, fresh=fresh).value

    def facility_exists(self, facility_id: str) -> bool:
        """True if found, False only on a 404: a 403 (contract I21) or an outage raises."""
        try:
            self._lookup(GET_FACILITY, facility_id)
        except NotFoundError:
            return False
        return True

    def list_facilities(
        self,
        page: int = 1,
        limit: int = 20,
        *,
        facility_type: str | None = None,
        search: str | None = None,
        organization_id: str | None = None,
        city: str | None = None,
        fresh: bool = False,
    ) -> Page[Facility]:
        """A page of facilities (cached 1 h per distinct query).

        ``page`` >= 1 and ``limit`` 1-100 (the service's cap), else ``InvalidRequestError``.
        """
        return self._lookup(
            LIST_FACILITIES,
            fresh=fresh,
            page=page,
            limit=limit,
            facility_type=facility_type,
            search=search,
            organization_id=organization_id,
            city=city,
        ).value

    def preload(self, facility_ids: Iterable[str]) -> None:
        """Warm the cache with these facilities (e.g. at start-up).

        Every id is tried: a 404 is skipped, and the first other failure (an outage, a
        malformed answer) is raised only after the rest were loaded, so one bad answer does
        not leave the cache cold.
        """
        failures: list[NileCareError] = []
        for facility_id in _preload_ids(facility_ids):
            try:
                self._lookup(GET_FACILITY, facility_id)
            except NotFoundError:
                continue
            except NileCareError as error:
                failures.append(error)
        if failures:
            raise failures[0]

    def apply_event(self, payload: Any) -> bool:
        """Apply a ``facility-events`` message (as consumed from the topic, dict or JSON).

        Drops exactly the entries it changes, here, in Redis and in every replica, so writes
        made outside this library do not leave replicas stale. Returns False (and counts it)
        for an event type this library ignores; a malformed message raises
        ``InvalidRequestError``.
        """
        return self._apply_event(payload)

    def create_facility(
        self, body: FacilityCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Facility:
        """Create a facility; sends ``contact`` and ``contactInfo`` (contract I5) and an
        ``Idempotency-Key``.

        Drops the cached facility lists.
        """
        return self._run(CREATE_FACILITY, body=body, idempotency_key=idempotency_key)

    def update_facility(
        self, facility_id: str, body: FacilityUpdate | Mapping[str, Any]
    ) -> Facility:
        """Partial update; drops this facility's cached record and the facility lists."""
        return self._run(UPDATE_FACILITY, facility_id, body=body)

    def delete_facility(self, facility_id: str) -> None:
        """Soft-delete; drops everything cached for this facility and the facility lists."""
        return self._run(DELETE_FACILITY, facility_id)

    def get_facility_settings(self, facility_id: str, *, fresh: bool = False) -> FacilitySettings:
        """The facility's settings (cached 1 h; the first read creates them upstream)."""
        return self._lookup(GET_SETTINGS, facility_id, fresh=fresh).value

    def update_facility_settings(
        self, facility_id: str, body: FacilitySettingsUpdate | Mapping[str, Any]
    ) -> FacilitySettings:
        """Partial update of the settings; drops only this facility's cached settings."""
        return self._run(UPDATE_SETTINGS, facility_id, body=body)

    # -- departments (reference data: cached 10 min) ---------------------------------------
    def get_departments(self, facility_id: str, *, fresh: bool = False) -> list[Department]:
        """The facility's active departments (cached 10 min)."""
        return self._lookup(GET_DEPARTMENTS, facility_id, fresh=fresh).value

    def get_department(self, department_id: str, *, fresh: bool = False) -> Department:
        """A department (cached 10 min)."""
        return self._lookup(GET_DEPARTMENT, department_id, fresh=fresh).value

    def create_department(
        self, body: DepartmentCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Department:
        """Create a department; drops the cached department list of its facility."""
        return self._run(CREATE_DEPARTMENT, body=body, idempotency_key=idempotency_key)

    def update_department(
        self, department_id: str, body: DepartmentUpdate | Mapping[str, Any]
    ) -> Department:
        """Partial update; drops this department and its facility's cached department list."""
        return self._run(UPDATE_DEPARTMENT, department_id, body=body)

    # -- wards (live counters: not cached) --------------------------------------------------
    def get_wards(self, department_id: str) -> list[Ward]:
        """A department's wards. Not cached: ``occupied_beds``/``available_beds`` are live."""
        return self._run(GET_WARDS, department_id)

    def get_ward(self, ward_id: str) -> Ward:
        """A ward. Not cached: its bed counters are live."""
        return self._run(GET_WARD, ward_id)

    def get_ward_beds(self, ward_id: str) -> list[Bed]:
        """Every active bed in the ward (the working alternative to available beds,
        contract I18)."""
        return self._run(GET_WARD_BEDS, ward_id)

    def get_ward_occupancy(self, ward_id: str) -> WardOccupancy:
        """Occupancy; an unknown ward (``data: null`` upstream, contract I11) raises
        NotFoundError."""
        return self._run(GET_WARD_OCCUPANCY, ward_id)

    # -- beds (live: never cached) ---------------------------------------------------------
    def get_bed(self, bed_id: str) -> Bed:
        """A bed. Never cached (live); assignment decisions rest on ``assign_bed`` alone
        (contract I19)."""
        return self._run(GET_BED, bed_id)

    def get_available_beds(
        self,
        facility_id: str,
        bed_type: BedType | str | None = None,
        *,
        ward_id: str | None = None,
        has_oxygen: bool | None = None,
        has_monitor: bool | None = None,
        has_ventilator: bool | None = None,
        isolation_capable: bool | None = None,
    ) -> list[Bed]:
        """Available beds (at most 50 upstream); equipment flags are sent only when given
        (contract I18)."""
        return self._run(
            AVAILABLE_BEDS,
            facility_id=facility_id,
            bed_type=bed_type,
            ward_id=ward_id,
            has_oxygen=has_oxygen,
            has_monitor=has_monitor,
            has_ventilator=has_ventilator,
            isolation_capable=isolation_capable,
        )

    def update_bed_status(
        self, bed_id: str, status: BedStatus | str, patient_id: str | None = None
    ) -> Bed:
        """Set a bed status; ``occupied`` and a ``patient_id`` are refused: use assign_bed
        (contract I20)."""
        return self._run(UPDATE_BED_STATUS, bed_id, status=status, patient_id=patient_id)

    def assign_bed(self, bed_id: str, body: BedAssign | Mapping[str, Any]) -> Bed:
        """Assign a patient: the only authority on availability (contract I19). 409: pick another
        bed.

        Never repeated once the request may have been read: an ambiguous failure raises
        ``OutcomeUnknownError``, because a repeat would get 409 although the first succeeded.
        """
        return self._run(ASSIGN_BED, bed_id, body=body)

    def release_bed(self, bed_id: str, release_reason: str | None = None) -> Bed:
        """Release a bed (it goes to ``cleaning``); 409 if it was not occupied."""
        return self._run(RELEASE_BED, bed_id, release_reason=release_reason)

    def get_bed_history(self, bed_id: str) -> list[BedHistoryEntry]:
        """The bed's assignments, newest first (snake_case rows normalised, contract I16). Not
        cached."""
        return self._run(BED_HISTORY, bed_id)

    # -- capacity and analytics (close to live: not cached) ---------------------------------
    def get_capacity(self, facility_id: str) -> FacilityCapacity:
        """Live capacity figures (the server may be up to 60 s behind). Not cached."""
        return self._run(CAPACITY, facility_id)

    def get_facility_analytics(
        self, facility_id: str, period: AnalyticsPeriod | str | None = None
    ) -> FacilityAnalytics:
        """Facility figures; ``period`` is only echoed back by the service. Not cached."""
        return self._run(ANALYTICS, facility_id, period=period)


class AsyncFacilityServiceClient(_FacilityCacheOwner, AsyncBaseServiceClient):
    """The asyncio twin of ``FacilityServiceClient``; shares its cache.

    ``cache=False`` disables caching; a ``FacilityCache`` instance replaces the shared one.
    """

    def __init__(
        self,
        *,
        config: ServiceConfig,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        cache: FacilityCache | bool = True,
        cache_policy: CachePolicy | None = None,
    ) -> None:
        super().__init__(config=config, http_client=http_client, transport=transport)
        self._setup_cache(config, cache, cache_policy)

    async def _send(self, bound: Bound[T]) -> T:
        """A write drops what it changes (``Drop``), by id even when it failed."""
        if not bound.endpoint.invalidates:
            return await super()._send(bound)
        try:
            answer = await super()._send(bound)
        finally:
            self._forget(bound, None, answered=False)
        self._forget(bound, answer, answered=True)
        return answer

    async def _alookup(
        self, endpoint: Endpoint[T], *ids: str, fresh: bool = False, **values: Any
    ) -> CacheResult[T]:
        """A cached route's value and where it came from.

        ``fresh=True`` asks the service first and replaces the entry only once it answered,
        so a failed fresh read leaves the cached copy (and its stale-if-error use) alone.
        """
        bound = endpoint.bind(ids, values)
        self._ensure_open()  # a cache hit on a closed client is still use after close
        cache = self._live_cache
        if cache is None:
            return CacheResult(await self._send(bound), False, 0.0, False)
        key, ttl = self._entry(cache, bound)
        if not fresh:
            return await cache.aget_or_load(
                key, ttl, lambda: self._send(bound), wait=self.config.deadline
            )
        try:
            value = await self._send(bound)
        except NotFoundError:
            cache.invalidate(key)  # the entity is gone: no stale copy of it either
            raise

        async def answered() -> T:
            return value

        cache.invalidate(key)
        return await cache.aget_or_load(key, ttl, answered)

    # -- facilities (reference data: cached) ----------------------------------------------
    async def lookup_facility(
        self, facility_id: str, *, fresh: bool = False
    ) -> CacheResult[Facility]:
        """The facility with where it came from (``stale=True`` when Facility was down)."""
        return await self._alookup(GET_FACILITY, facility_id, fresh=fresh)

    async def get_facility(self, facility_id: str, *, fresh: bool = False) -> Facility:
        """The facility (cached 1 h; an expired copy is served if Facility is down)."""
        return (await self._alookup(GET_FACILITY, facility_id, fresh=fresh)).value

    async def facility_exists(self, facility_id: str) -> bool:
        """True if found, False only on a 404: a 403 (contract I21) or an outage raises."""
        try:
            await self._alookup(GET_FACILITY, facility_id)
        except NotFoundError:
            return False
        return True

    async def list_facilities(
        self,
        page: int = 1,
        limit: int = 20,
        *,
        facility_type: str | None = None,
        search: str | None = None,
        organization_id: str | None = None,
        city: str | None = None,
        fresh: bool = False,
    ) -> Page[Facility]:
        """A page of facilities (cached 1 h per distinct query).

        ``page`` >= 1 and ``limit`` 1-100 (the service's cap), else ``InvalidRequestError``.
        """
        return (
            await self._alookup(
                LIST_FACILITIES,
                fresh=fresh,
                page=page,
                limit=limit,
                facility_type=facility_type,
                search=search,
                organization_id=organization_id,
                city=city,
            )
        ).value

    async def preload(self, facility_ids: Iterable[str]) -> None:
        """Warm the cache with these facilities (e.g. at start-up).

        Every id is tried: a 404 is skipped, and the first other failure (an outage, a
        malformed answer) is raised only after the rest were loaded, so one bad answer does
        not leave the cache cold.
        """
        gate = asyncio.Semaphore(_PRELOAD_CONCURRENCY)

        async def one(facility_id: str) -> NileCareError | None:
            async with gate:
                try:
                    await self._alookup(GET_FACILITY, facility_id)
                except NotFoundError:
                    return None
                except NileCareError as error:
                    return error
                return None

        outcomes = await asyncio.gather(*(one(f) for f in _preload_ids(facility_ids)))
        failures = [error for error in outcomes if error is not None]
        if failures:
            raise failures[0]

    async def apply_event(self, payload: Any) -> bool:
        """Apply a ``facility-events`` message (as consumed from the topic, dict or JSON).

        Drops exactly the entries it changes, here, in Redis and in every replica, so writes
        made outside this library do not leave replicas stale. Returns False (and counts it)
        for an event type this library ignores; a malformed message raises
        ``InvalidRequestError``.
        """
        return await asyncio.to_thread(self._apply_event, payload)

    async def create_facility(
        self, body: FacilityCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Facility:
        """Create a facility; sends ``contact`` and ``contactInfo`` (contract I5) and an
        ``Idempotency-Key``.

        Drops the cached facility lists.
        """
        return await self._arun(CREATE_FACILITY, body=body, idempotency_key=idempotency_key)

    async def update_facility(
        self, facility_id: str, body: FacilityUpdate | Mapping[str, Any]
    ) -> Facility:
        """Partial update; drops this facility's cached record and the facility lists."""
        return await self._arun(UPDATE_FACILITY, facility_id, body=body)

    async def delete_facility(self, facility_id: str) -> None:
        """Soft-delete; drops everything cached for this facility and the facility lists."""
        return await self._arun(DELETE_FACILITY, facility_id)

    async def get_facility_settings(
        self, facility_id: str, *, fresh: bool = False
    ) -> FacilitySettings:
        """The facility's settings (cached 1 h; the first read creates them upstream)."""
        return (await self._alookup(GET_SETTINGS, facility_id, fresh=fresh)).value

    async def update_facility_settings(
        self, facility_id: str, body: FacilitySettingsUpdate | Mapping[str, Any]
    ) -> FacilitySettings:
        """Partial update of the settings; drops only this facility's cached settings."""
        return await self._arun(UPDATE_SETTINGS, facility_id, body=body)

    # -- departments (reference data: cached 10 min) ---------------------------------------
    async def get_departments(self, facility_id: str, *, fresh: bool = False) -> list[Department]:
        """The facility's active departments (cached 10 min)."""
        return (await self._alookup(GET_DEPARTMENTS, facility_id, fresh=fresh)).value

    async def get_department(self, department_id: str, *, fresh: bool = False) -> Department:
        """A department (cached 10 min)."""
        return (await self._alookup(GET_DEPARTMENT, department_id, fresh=fresh)).value

    async def create_department(
        self, body: DepartmentCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Department:
        """Create a department; drops the cached department list of its facility."""
        return await self._arun(CREATE_DEPARTMENT, body=body, idempotency_key=idempotency_key)

    async def update_department(
        self, department_id: str, body: DepartmentUpdate | Mapping[str, Any]
    ) -> Department:
        """Partial update; drops this department and its facility's cached department list."""
        return await self._arun(UPDATE_DEPARTMENT, department_id, body=body)

    # -- wards (live counters: not cached) --------------------------------------------------
    async def get_wards(self, department_id: str) -> list[Ward]:
        """A department's wards. Not cached: ``occupied_beds``/``available_beds`` are live."""
        return await self._arun(GET_WARDS, department_id)

    async def get_ward(self, ward_id: str) -> Ward:
        """A ward. Not cached: its bed counters are live."""
        return await self._arun(GET_WARD, ward_id)

    async def get_ward_beds(self, ward_id: str) -> list[Bed]:
        """Every active bed in the ward (the working alternative to available beds,
        contract I18)."""
        return await self._arun(GET_WARD_BEDS, ward_id)

    async def get_ward_occupancy(self, ward_id: str) -> WardOccupancy:
        """Occupancy; an unknown ward (``data: null`` upstream, contract I11) raises
        NotFoundError."""
        return await self._arun(GET_WARD_OCCUPANCY, ward_id)

    # -- beds (live: never cached) ---------------------------------------------------------
    async def get_bed(self, bed_id: str) -> Bed:
        """A bed. Never cached (live); assignment decisions rest on ``assign_bed`` alone
        (contract I19)."""
        return await self._arun(GET_BED, bed_id)

    async def get_available_beds(
        self,
        facility_id: str,
        bed_type: BedType | str | None = None,
        *,
        ward_id: str | None = None,
        has_oxygen: bool | None = None,
        has_monitor: bool | None = None,
        has_ventilator: bool | None = None,
        isolation_capable: bool | None = None,
    ) -> list[Bed]:
        """Available beds (at most 50 upstream); equipment flags are sent only when given
        (contract I18)."""
        return await self._arun(
            AVAILABLE_BEDS,
            facility_id=facility_id,
            bed_type=bed_type,
            ward_id=ward_id,
            has_oxygen=has_oxygen,
            has_monitor=has_monitor,
            has_ventilator=has_ventilator,
            isolation_capable=isolation_capable,
        )

    async def update_bed_status(
        self, bed_id: str, status: BedStatus | str, patient_id: str | None = None
    ) -> Bed:
        """Set a bed status; ``occupied`` and a ``patient_id`` are refused: use assign_bed
        (contract I20)."""
        return await self._arun(UPDATE_BED_STATUS, bed_id, status=status, patient_id=patient_id)

    async def assign_bed(self, bed_id: str, body: BedAssign | Mapping[str, Any]) -> Bed:
        """Assign a patient: the only authority on availability (contract I19). 409: pick another
        bed.

        Never repeated once the request may have been read: an ambiguous failure raises
        ``OutcomeUnknownError``, because a repeat would get 409 although the first succeeded.
        """
        return await self._arun(ASSIGN_BED, bed_id, body=body)

    async def release_bed(self, bed_id: str, release_reason: str | None = None) -> Bed:
        """Release a bed (it goes to ``cleaning``); 409 if it was not occupied."""
        return await self._arun(RELEASE_BED, bed_id, release_reason=release_reason)

    async def get_bed_history(self, bed_id: str) -> list[BedHistoryEntry]:
        """The bed's assignments, newest first (snake_case rows normalised, contract I16). Not
        cached."""
        return await self._arun(BED_HISTORY, bed_id)

    # -- capacity and analytics (close to live: not cached) ---------------------------------
    async def get_capacity(self, facility_id: str) -> FacilityCapacity:
        """Live capacity figures (the server may be up to 60 s behind). Not cached."""
        return await self._arun(CAPACITY, facility_id)

    async def get_facility_analytics(
        self, facility_id: str, period: AnalyticsPeriod | str | None = None
    ) -> FacilityAnalytics:
        """Facility figures; ``period`` is only echoed back by the service. Not cached."""
        return await self._arun(ANALYTICS, facility_id, period=period)
