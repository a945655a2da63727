"""``FacilityServiceClient`` and ``AsyncFacilityServiceClient`` (contract §3), with the cache.

Reference data is cached (contract §4.3): a facility, the facility list and a facility's
settings for 1 h, departments for 10 min. Live data is never cached: beds, availability,
ward records (their counters are live), capacity, analytics, bed history. Writes invalidate
exactly what they change. The cache is shared per service per process by both twins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import httpx

from nilecare_clients._cache import (
    CachePolicy,
    CacheResult,
    CacheStats,
    Drop,
    FacilityCache,
    shared_cache,
)
from nilecare_clients._client import AsyncBaseServiceClient, BaseServiceClient
from nilecare_clients._config import ServiceConfig
from nilecare_clients._errors import (
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    ServiceError,
)
from nilecare_clients._facility_events import event_drop
from nilecare_clients._plan import (
    Plan,
    check_uuid,
    clamp,
    page_parser,
    positive,
    query,
    wire_body,
    write_plan,
)
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

_F = "/api/v1/facilities"
_DEP = "/api/v1/departments"
_W = "/api/v1/wards"
_B = "/api/v1/beds"
_SET = "/api/v1/settings/facility"


def _by_id(route: str, model: type[T], ident: str, name: str, **extra: Any) -> Plan[T]:
    return Plan(
        "GET",
        route,
        path_params={"id": check_uuid(name, ident)},
        response_model=model,
        null_is_not_found=True,
        **extra,
    )


def _period(period: AnalyticsPeriod | str | None) -> AnalyticsPeriod | None:
    """The analytics period, checked before any I/O (the service answers 400 otherwise)."""
    if period is None:
        return None
    try:
        return AnalyticsPeriod(period)
    except ValueError:
        raise InvalidRequestError(
            "period must be one of: " + ", ".join(p.value for p in AnalyticsPeriod)
        ) from None


#: How many facilities the async ``preload`` fetches at once (well inside the bulkhead).
_PRELOAD_CONCURRENCY = 8


def _preload_ids(facility_ids: Iterable[str]) -> list[str]:
    """The distinct ids to preload, in order, every one checked before any I/O."""
    ids = list(dict.fromkeys(facility_ids))
    for facility_id in ids:
        check_uuid("facility_id", facility_id)
    return ids


class _Plans:
    """Pure plan builders shared by both twins."""

    @staticmethod
    def list_facilities(params: Mapping[str, Any]) -> Plan[Page[Facility]]:
        return Plan("GET", _F, params=params, parse=page_parser(Facility, None))

    @staticmethod
    def facilities_query(
        page: int,
        limit: int,
        facility_type: str | None,
        search: str | None,
        organization_id: str | None,
        city: str | None,
    ) -> dict[str, Any]:
        if organization_id is not None:
            check_uuid("organization_id", organization_id)
        return query(
            page=positive(page, "page"),
            limit=clamp(limit, 1, 100, "limit"),
            type=facility_type,
            search=search,
            organizationId=organization_id,
            city=city,
        )

    @staticmethod
    def available_beds(
        facility_id: str,
        bed_type: BedType | str | None,
        ward_id: str | None,
        has_oxygen: bool | None,
        has_monitor: bool | None,
        has_ventilator: bool | None,
        isolation_capable: bool | None,
    ) -> Plan[list[Bed]]:
        if ward_id is not None:
            check_uuid("ward_id", ward_id)
        params = query(
            facilityId=check_uuid("facility_id", facility_id),
            wardId=ward_id,
            bedType=bed_type,
            hasOxygen=has_oxygen,
            hasMonitor=has_monitor,
            hasVentilator=has_ventilator,
            isolationCapable=isolation_capable,
        )
        return Plan("GET", _B + "/available", params=params, response_model=list[Bed])

    @staticmethod
    def bed_status(bed_id: str, status: BedStatus | str, patient_id: str | None) -> Plan[Bed]:
        # contract I20: the status route would leave an occupied bed with no patient; assign
        # decides.
        if patient_id is not None:
            raise InvalidRequestError("update_bed_status does not take a patient: use assign_bed")
        if status == BedStatus.OCCUPIED:
            raise InvalidRequestError("a bed becomes occupied only through assign_bed")
        return Plan(
            "PUT",
            _B + "/{id}/status",
            path_params={"id": check_uuid("bed_id", bed_id)},
            json=wire_body(BedStatusUpdate, {"status": status}),
            response_model=Bed,
        )

    @staticmethod
    def assign(bed_id: str, body: BedAssign | Mapping[str, Any]) -> Plan[Bed]:
        # contract I19: no idempotency key, so never repeated after the request may have been read.
        return Plan(
            "POST",
            _B + "/{id}/assign",
            path_params={"id": check_uuid("bed_id", bed_id)},
            json=wire_body(BedAssign, body),
            response_model=Bed,
        )

    @staticmethod
    def release(bed_id: str, reason: str | None) -> Plan[Bed]:
        return Plan(
            "POST",
            _B + "/{id}/release",
            path_params={"id": check_uuid("bed_id", bed_id)},
            json=wire_body(BedRelease, {"release_reason": reason}),
            response_model=Bed,
        )


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
            if cache_policy is not None and shared.policy != cache_policy:
                # The first client of a service fixes the shared cache's policy; silently
                # keeping other TTLs than the caller asked for would be a trap.
                raise ConfigurationError(
                    f"the shared {config.name!r} cache already uses another CachePolicy: pass "
                    "the same policy, or cache=FacilityCache(policy) for a cache of its own"
                )
            self._cache = shared
        else:
            self._cache = None

    @property
    def _policy(self) -> CachePolicy:
        return self._cache.policy if self._cache is not None else CachePolicy(enabled=False)

    @property
    def _live_cache(self) -> FacilityCache | None:
        cache = self._cache
        return cache if cache is not None and cache.policy.enabled else None

    def invalidate(self, facility_id: str | None = None) -> None:
        """Forget one facility (its record, departments, settings, and every list), or all."""
        if facility_id is not None:
            check_uuid("facility_id", facility_id)
        if self._cache is None:
            return
        if facility_id is None:
            self._cache.drop(Drop(everything=True))
        else:
            self._cache.drop(Drop(facilities=(facility_id,), lists=True))

    # Writes drop exactly what they change (never the whole cache). Ids here come from the
    # server's answer or were checked before the call, so they are not checked again: a write
    # that succeeded must not raise afterwards.
    @staticmethod
    @contextmanager
    def _dropping(forget: Callable[[], None]) -> Iterator[None]:
        """Run a write of known ids, then drop what it changes, even if it failed: a write
        that timed out or answered 5xx may still have been applied."""
        try:
            yield
        finally:
            forget()

    # Drops are plain data (``Drop``) so that, with the shared tier, every replica applies them.
    def _facility_created(self, facility: Facility) -> None:
        if self._cache is not None:
            self._cache.drop(Drop(facilities=(facility.facility_id,), lists=True))

    def _facility_updated(self, facility_id: str) -> None:
        if self._cache is not None:
            self._cache.drop(Drop(keys=(("facility", facility_id),), lists=True))

    def _facility_deleted(self, facility_id: str) -> None:
        if self._cache is not None:
            self._cache.drop(Drop(facilities=(facility_id,), lists=True))

    def _apply_event(self, payload: Any) -> bool:
        """Drop what one ``facility-events`` message changes; False if its type is ignored."""
        _, drop = event_drop(payload)
        if self._cache is not None:
            self._cache.count_event(drop is not None)
            if drop is not None:
                self._cache.drop(drop)
        return drop is not None

    def _settings_updated(self, facility_id: str) -> None:
        if self._cache is not None:
            self._cache.invalidate(("settings", facility_id))

    def _department_updated(self, department_id: str) -> None:
        if self._cache is not None:
            self._cache.invalidate(("department", department_id))

    def _department_written(self, department: Department) -> None:
        if self._cache is not None:
            self._cache.invalidate(("departments", department.facility_id))

    @staticmethod
    def _forget_on_not_found(cache: FacilityCache, key: Hashable, error: NotFoundError) -> NoReturn:
        # A fresh read that finds the entity gone drops the cached copy (no stale 404s).
        cache.invalidate(key)
        raise error

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

    def _cached(
        self, key: Hashable, ttl: float, plan: Callable[[], Plan[T]], fresh: bool
    ) -> CacheResult[T]:
        cache = self._live_cache
        if cache is None:
            return CacheResult(self._run(plan()), False, 0.0, False)
        if not fresh:
            return cache.get_or_load(key, ttl, lambda: self._run(plan()), wait=self.config.deadline)
        # fresh=True: ask the service first and replace the entry only once it answered, so
        # a failed fresh read leaves the cached copy (and its stale-if-error fallback) alone.
        try:
            value = self._run(plan())
        except NotFoundError as error:
            self._forget_on_not_found(cache, key, error)
        cache.invalidate(key)
        return cache.get_or_load(key, ttl, lambda: value)

    # -- facilities (reference data: cached) ----------------------------------------------
    def lookup_facility(self, facility_id: str, *, fresh: bool = False) -> CacheResult[Facility]:
        """The facility with where it came from (``stale=True`` when Facility was down)."""
        check_uuid("facility_id", facility_id)
        return self._cached(
            ("facility", facility_id),
            self._policy.facility_ttl,
            lambda: _by_id(_F + "/{id}", Facility, facility_id, "facility_id"),
            fresh,
        )

    def get_facility(self, facility_id: str, *, fresh: bool = False) -> Facility:
        """The facility (cached 1 h; an expired copy is served if Facility is down)."""
        return self.lookup_facility(facility_id, fresh=fresh).value

    def facility_exists(self, facility_id: str) -> bool:
        """True if found, False only on a 404: a 403 (contract I21) or an outage raises."""
        try:
            self.lookup_facility(facility_id)
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
        """A page of facilities (cached 1 h per distinct query)."""
        params = _Plans.facilities_query(page, limit, facility_type, search, organization_id, city)
        key = ("facilities", tuple(sorted(params.items())))
        return self._cached(
            key, self._policy.facility_list_ttl, lambda: _Plans.list_facilities(params), fresh
        ).value

    def preload(self, facility_ids: Iterable[str]) -> None:
        """Warm the cache with these facilities (e.g. at start-up).

        Every id is tried: a 404 is skipped, and the first other failure is raised only after
        the rest were loaded, so one bad answer does not leave the cache cold.
        """
        first: ServiceError | None = None
        for facility_id in _preload_ids(facility_ids):
            try:
                self.lookup_facility(facility_id)
            except NotFoundError:
                continue
            except ServiceError as error:
                first = first or error
        if first is not None:
            raise first

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
        created = self._run(
            write_plan("POST", _F, FacilityCreate, body, Facility, None, idempotency_key)
        )
        self._facility_created(created)
        return created

    def update_facility(
        self, facility_id: str, body: FacilityUpdate | Mapping[str, Any]
    ) -> Facility:
        """Partial update; drops this facility's cached record and the facility lists."""
        plan = write_plan("PUT", _F + "/{id}", FacilityUpdate, body, Facility, facility_id)
        with self._dropping(lambda: self._facility_updated(facility_id)):
            return self._run(plan)

    def delete_facility(self, facility_id: str) -> None:
        """Soft-delete; drops everything cached for this facility and the facility lists."""
        plan: Plan[None] = write_plan(
            "DELETE", _F + "/{id}", FacilityUpdate, None, None, facility_id
        )
        with self._dropping(lambda: self._facility_deleted(facility_id)):
            self._run(plan)

    def get_facility_settings(self, facility_id: str, *, fresh: bool = False) -> FacilitySettings:
        """The facility's settings (cached 1 h; the first read creates them upstream)."""
        check_uuid("facility_id", facility_id)
        return self._cached(
            ("settings", facility_id),
            self._policy.facility_ttl,
            lambda: _by_id(_SET + "/{id}", FacilitySettings, facility_id, "facility_id"),
            fresh,
        ).value

    def update_facility_settings(
        self, facility_id: str, body: FacilitySettingsUpdate | Mapping[str, Any]
    ) -> FacilitySettings:
        """Partial update of the settings; drops only this facility's cached settings."""
        plan = write_plan(
            "PUT", _SET + "/{id}", FacilitySettingsUpdate, body, FacilitySettings, facility_id
        )
        with self._dropping(lambda: self._settings_updated(facility_id)):
            return self._run(plan)

    # -- departments (reference data: cached 10 min) ---------------------------------------
    def get_departments(self, facility_id: str, *, fresh: bool = False) -> list[Department]:
        """The facility's active departments (cached 10 min)."""
        check_uuid("facility_id", facility_id)
        return self._cached(
            ("departments", facility_id),
            self._policy.department_ttl,
            lambda: _by_id(_F + "/{id}/departments", list[Department], facility_id, "facility_id"),
            fresh,
        ).value

    def get_department(self, department_id: str, *, fresh: bool = False) -> Department:
        """A department (cached 10 min)."""
        check_uuid("department_id", department_id)
        return self._cached(
            ("department", department_id),
            self._policy.department_ttl,
            lambda: _by_id(_DEP + "/{id}", Department, department_id, "department_id"),
            fresh,
        ).value

    def create_department(
        self, body: DepartmentCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Department:
        """Create a department; drops the cached department list of its facility."""
        created = self._run(
            write_plan("POST", _DEP, DepartmentCreate, body, Department, None, idempotency_key)
        )
        self._department_written(created)
        return created

    def update_department(
        self, department_id: str, body: DepartmentUpdate | Mapping[str, Any]
    ) -> Department:
        """Partial update; drops this department and its facility's cached department list."""
        plan = write_plan("PUT", _DEP + "/{id}", DepartmentUpdate, body, Department, department_id)
        with self._dropping(lambda: self._department_updated(department_id)):
            updated = self._run(plan)
        self._department_written(updated)
        return updated

    # -- wards (live counters: not cached) --------------------------------------------------
    def get_wards(self, department_id: str) -> list[Ward]:
        """A department's wards. Not cached: ``occupied_beds``/``available_beds`` are live."""
        return self._run(_by_id(_DEP + "/{id}/wards", list[Ward], department_id, "department_id"))

    def get_ward(self, ward_id: str) -> Ward:
        """A ward. Not cached: its bed counters are live."""
        return self._run(_by_id(_W + "/{id}", Ward, ward_id, "ward_id"))

    def get_ward_beds(self, ward_id: str) -> list[Bed]:
        """Every active bed in the ward (the working alternative to available beds,
        contract I18)."""
        return self._run(_by_id(_W + "/{id}/beds", list[Bed], ward_id, "ward_id"))

    def get_ward_occupancy(self, ward_id: str) -> WardOccupancy:
        """Occupancy; an unknown ward (``data: null`` upstream, contract I11) raises
        NotFoundError."""
        return self._run(_by_id(_W + "/{id}/occupancy", WardOccupancy, ward_id, "ward_id"))

    # -- beds (live: never cached) ---------------------------------------------------------
    def get_bed(self, bed_id: str) -> Bed:
        """A bed. Never cached (live); assignment decisions rest on ``assign_bed`` alone
        (contract I19)."""
        return self._run(_by_id(_B + "/{id}", Bed, bed_id, "bed_id"))

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
            _Plans.available_beds(
                facility_id,
                bed_type,
                ward_id,
                has_oxygen,
                has_monitor,
                has_ventilator,
                isolation_capable,
            )
        )

    def update_bed_status(
        self, bed_id: str, status: BedStatus | str, patient_id: str | None = None
    ) -> Bed:
        """Set a bed status; ``occupied`` and a ``patient_id`` are refused: use assign_bed
        (contract I20)."""
        return self._run(_Plans.bed_status(bed_id, status, patient_id))

    def assign_bed(self, bed_id: str, body: BedAssign | Mapping[str, Any]) -> Bed:
        """Assign a patient: the only authority on availability (contract I19). 409: pick another
        bed.

        Never repeated once the request may have been read: an ambiguous failure raises
        ``OutcomeUnknownError``, because a repeat would get 409 although the first succeeded.
        """
        return self._run(_Plans.assign(bed_id, body))

    def release_bed(self, bed_id: str, release_reason: str | None = None) -> Bed:
        """Release a bed (it goes to ``cleaning``); 409 if it was not occupied."""
        return self._run(_Plans.release(bed_id, release_reason))

    def get_bed_history(self, bed_id: str) -> list[BedHistoryEntry]:
        """The bed's assignments, newest first (snake_case rows normalised, contract I16). Not
        cached."""
        return self._run(_by_id(_B + "/{id}/history", list[BedHistoryEntry], bed_id, "bed_id"))

    # -- capacity and analytics (close to live: not cached) ---------------------------------
    def get_capacity(self, facility_id: str) -> FacilityCapacity:
        """Live capacity figures (the server may be up to 60 s behind). Not cached."""
        return self._run(
            _by_id(_F + "/{id}/capacity", FacilityCapacity, facility_id, "facility_id")
        )

    def get_facility_analytics(
        self, facility_id: str, period: AnalyticsPeriod | str | None = None
    ) -> FacilityAnalytics:
        """Facility figures; ``period`` is only echoed back by the service. Not cached."""
        return self._run(
            _by_id(
                _F + "/{id}/analytics",
                FacilityAnalytics,
                facility_id,
                "facility_id",
                params=query(period=_period(period)),
            )
        )


class AsyncFacilityServiceClient(_FacilityCacheOwner, AsyncBaseServiceClient):
    """The asyncio twin of ``FacilityServiceClient``; shares its cache."""

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

    async def _cached(
        self, key: Hashable, ttl: float, plan: Callable[[], Plan[T]], fresh: bool
    ) -> CacheResult[T]:
        cache = self._live_cache
        if cache is None:
            return CacheResult(await self._arun(plan()), False, 0.0, False)
        if not fresh:
            return await cache.aget_or_load(
                key, ttl, lambda: self._arun(plan()), wait=self.config.deadline
            )
        try:
            value = await self._arun(plan())
        except NotFoundError as error:
            self._forget_on_not_found(cache, key, error)

        async def answered() -> T:
            return value

        cache.invalidate(key)
        return await cache.aget_or_load(key, ttl, answered)

    async def lookup_facility(
        self, facility_id: str, *, fresh: bool = False
    ) -> CacheResult[Facility]:
        check_uuid("facility_id", facility_id)
        return await self._cached(
            ("facility", facility_id),
            self._policy.facility_ttl,
            lambda: _by_id(_F + "/{id}", Facility, facility_id, "facility_id"),
            fresh,
        )

    async def get_facility(self, facility_id: str, *, fresh: bool = False) -> Facility:
        return (await self.lookup_facility(facility_id, fresh=fresh)).value

    async def facility_exists(self, facility_id: str) -> bool:
        try:
            await self.lookup_facility(facility_id)
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
        params = _Plans.facilities_query(page, limit, facility_type, search, organization_id, city)
        key = ("facilities", tuple(sorted(params.items())))
        return (
            await self._cached(
                key, self._policy.facility_list_ttl, lambda: _Plans.list_facilities(params), fresh
            )
        ).value

    async def preload(self, facility_ids: Iterable[str]) -> None:
        gate = asyncio.Semaphore(_PRELOAD_CONCURRENCY)

        async def one(facility_id: str) -> None:
            async with gate:
                await self.lookup_facility(facility_id)

        ids = _preload_ids(facility_ids)
        results = await asyncio.gather(*(one(f) for f in ids), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, NotFoundError):
                raise result

    async def apply_event(self, payload: Any) -> bool:
        """The asyncio twin of ``FacilityServiceClient.apply_event`` (Redis off the loop)."""
        return await asyncio.to_thread(self._apply_event, payload)

    async def create_facility(
        self, body: FacilityCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Facility:
        created = await self._arun(
            write_plan("POST", _F, FacilityCreate, body, Facility, None, idempotency_key)
        )
        self._facility_created(created)
        return created

    async def update_facility(
        self, facility_id: str, body: FacilityUpdate | Mapping[str, Any]
    ) -> Facility:
        plan = write_plan("PUT", _F + "/{id}", FacilityUpdate, body, Facility, facility_id)
        with self._dropping(lambda: self._facility_updated(facility_id)):
            return await self._arun(plan)

    async def delete_facility(self, facility_id: str) -> None:
        plan: Plan[None] = write_plan(
            "DELETE", _F + "/{id}", FacilityUpdate, None, None, facility_id
        )
        with self._dropping(lambda: self._facility_deleted(facility_id)):
            await self._arun(plan)

    async def get_facility_settings(
        self, facility_id: str, *, fresh: bool = False
    ) -> FacilitySettings:
        check_uuid("facility_id", facility_id)
        return (
            await self._cached(
                ("settings", facility_id),
                self._policy.facility_ttl,
                lambda: _by_id(_SET + "/{id}", FacilitySettings, facility_id, "facility_id"),
                fresh,
            )
        ).value

    async def update_facility_settings(
        self, facility_id: str, body: FacilitySettingsUpdate | Mapping[str, Any]
    ) -> FacilitySettings:
        plan = write_plan(
            "PUT", _SET + "/{id}", FacilitySettingsUpdate, body, FacilitySettings, facility_id
        )
        with self._dropping(lambda: self._settings_updated(facility_id)):
            return await self._arun(plan)

    async def get_departments(self, facility_id: str, *, fresh: bool = False) -> list[Department]:
        check_uuid("facility_id", facility_id)
        return (
            await self._cached(
                ("departments", facility_id),
                self._policy.department_ttl,
                lambda: _by_id(
                    _F + "/{id}/departments", list[Department], facility_id, "facility_id"
                ),
                fresh,
            )
        ).value

    async def get_department(self, department_id: str, *, fresh: bool = False) -> Department:
        check_uuid("department_id", department_id)
        return (
            await self._cached(
                ("department", department_id),
                self._policy.department_ttl,
                lambda: _by_id(_DEP + "/{id}", Department, department_id, "department_id"),
                fresh,
            )
        ).value

    async def create_department(
        self, body: DepartmentCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Department:
        created = await self._arun(
            write_plan("POST", _DEP, DepartmentCreate, body, Department, None, idempotency_key)
        )
        self._department_written(created)
        return created

    async def update_department(
        self, department_id: str, body: DepartmentUpdate | Mapping[str, Any]
    ) -> Department:
        plan = write_plan("PUT", _DEP + "/{id}", DepartmentUpdate, body, Department, department_id)
        with self._dropping(lambda: self._department_updated(department_id)):
            updated = await self._arun(plan)
        self._department_written(updated)
        return updated

    async def get_wards(self, department_id: str) -> list[Ward]:
        return await self._arun(
            _by_id(_DEP + "/{id}/wards", list[Ward], department_id, "department_id")
        )

    async def get_ward(self, ward_id: str) -> Ward:
        return await self._arun(_by_id(_W + "/{id}", Ward, ward_id, "ward_id"))

    async def get_ward_beds(self, ward_id: str) -> list[Bed]:
        return await self._arun(_by_id(_W + "/{id}/beds", list[Bed], ward_id, "ward_id"))

    async def get_ward_occupancy(self, ward_id: str) -> WardOccupancy:
        return await self._arun(_by_id(_W + "/{id}/occupancy", WardOccupancy, ward_id, "ward_id"))

    async def get_bed(self, bed_id: str) -> Bed:
        return await self._arun(_by_id(_B + "/{id}", Bed, bed_id, "bed_id"))

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
        return await self._arun(
            _Plans.available_beds(
                facility_id,
                bed_type,
                ward_id,
                has_oxygen,
                has_monitor,
                has_ventilator,
                isolation_capable,
            )
        )

    async def update_bed_status(
        self, bed_id: str, status: BedStatus | str, patient_id: str | None = None
    ) -> Bed:
        return await self._arun(_Plans.bed_status(bed_id, status, patient_id))

    async def assign_bed(self, bed_id: str, body: BedAssign | Mapping[str, Any]) -> Bed:
        return await self._arun(_Plans.assign(bed_id, body))

    async def release_bed(self, bed_id: str, release_reason: str | None = None) -> Bed:
        return await self._arun(_Plans.release(bed_id, release_reason))

    async def get_bed_history(self, bed_id: str) -> list[BedHistoryEntry]:
        return await self._arun(
            _by_id(_B + "/{id}/history", list[BedHistoryEntry], bed_id, "bed_id")
        )

    async def get_capacity(self, facility_id: str) -> FacilityCapacity:
        return await self._arun(
            _by_id(_F + "/{id}/capacity", FacilityCapacity, facility_id, "facility_id")
        )

    async def get_facility_analytics(
        self, facility_id: str, period: AnalyticsPeriod | str | None = None
    ) -> FacilityAnalytics:
        return await self._arun(
            _by_id(
                _F + "/{id}/analytics",
                FacilityAnalytics,
                facility_id,
                "facility_id",
                params=query(period=_period(period)),
            )
        )
