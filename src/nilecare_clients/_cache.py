"""The Facility reference-data cache: bounded, jittered TTLs, single-flight, stale-if-error.

Every NileCare service looks up its facility on almost every request, so a hit must cost
microseconds and a cold key must cost one request however many callers ask at once
(single-flight, for threads and asyncio tasks alike, through one ``concurrent.futures.Future``
per key in flight). When a refresh fails because Facility is unavailable (5xx, timeout,
unreachable, breaker open), the expired value is served if it is younger than ``max_stale``:
facilities change rarely, and refusing every request because Facility blinked is worse. A 404
is remembered briefly (negative caching); 401/403 are never cached nor served stale.

Entries live in a ``cachetools.LRUCache`` (bounded, so memory stays flat); expiry is ours
because a TTL cache would drop exactly the expired values that stale-if-error needs.

With ``CachePolicy.redis_url`` a second, shared tier sits behind this one (``_redis_tier``,
imported only then): a miss here reads Redis before Facility, one process per fleet loads a
cold key (a Redis lease), and every drop here is also made in Redis and in every replica.
"""

from __future__ import annotations

import asyncio
import copy
import os
import random
import threading
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from cachetools import LRUCache
from pydantic import Field, SecretStr

from nilecare_clients import _hooks, _state
from nilecare_clients._cache_keys import Drop, key_kind, shared_key
from nilecare_clients._config import InvalidSettingsError, _EnvReader, _Frozen, describe_problems
from nilecare_clients._correlation import get_deadline
from nilecare_clients._errors import (
    ConfigurationError,
    NotFoundError,
    ServerError,
    ServiceTimeoutError,
)
from nilecare_clients._hooks import CacheEvent
from nilecare_clients._log import emit
from nilecare_clients._state import caches as _registry
from nilecare_clients._state import lock as _registry_lock

if TYPE_CHECKING:
    from nilecare_clients._redis_tier import RedisTier, RemoteEntry, TierStats

__all__ = ["CachePolicy", "CacheResult", "CacheStats", "Drop", "FacilityCache"]

T = TypeVar("T")


class CachePolicy(_Frozen):
    """How long Facility reference data is kept (contract §4.3). Live data is never cached."""

    enabled: bool = True
    facility_ttl: float = Field(default=3600.0, ge=0)
    facility_list_ttl: float = Field(default=3600.0, ge=0)
    department_ttl: float = Field(default=600.0, ge=0)
    #: A 404 is remembered this long, so a burst of lookups of a bad id makes one request.
    negative_ttl: float = Field(default=30.0, ge=0)
    #: An expired value may still be served this long after it was stored, if Facility is down.
    max_stale: float = Field(default=86400.0, ge=0)
    max_entries: int = Field(default=10_000, ge=1)
    #: Each TTL is spread by +-jitter (a fraction) so a fleet does not expire together.
    jitter: float = Field(default=0.1, ge=0, lt=1)
    #: The shared tier (``redis://`` or ``rediss://``; a secret: it may hold a password).
    redis_url: SecretStr | None = None
    #: Tenancy: replicas share entries only within one namespace. Default: the calling
    #: service's own name (``NILECARE_SERVICE_NAME``); required when it is not set.
    redis_namespace: str | None = None
    redis_prefix: str = Field(default="nilecare:facility-cache", pattern=r"^[A-Za-z0-9:_.-]+$")
    #: Every Redis command gives up after this long and the call goes on without Redis.
    redis_timeout: float = Field(default=0.05, gt=0, le=5)
    #: How long one process may hold a cold key's load lease before another takes over.
    redis_lease: float = Field(default=3.0, gt=0)

    @classmethod
    def from_env(
        cls, service: str = "FACILITY", *, environ: Mapping[str, str] | None = None
    ) -> CachePolicy:
        """Read ``NILECARE_<SERVICE>_CACHE_<FIELD>`` for each field (``_CACHE_ENABLED``,
        ``_CACHE_FACILITY_TTL``, ``_CACHE_FACILITY_LIST_TTL``, ``_CACHE_DEPARTMENT_TTL``,
        ``_CACHE_NEGATIVE_TTL``, ``_CACHE_MAX_STALE``, ``_CACHE_MAX_ENTRIES``,
        ``_CACHE_JITTER``); errors name the variable, never the value."""
        read = _EnvReader(
            os.environ if environ is None else environ, f"NILECARE_{service.upper()}_"
        )
        values: dict[str, Any] = {}
        for field, info in cls.model_fields.items():
            if field.startswith("redis_"):
                continue  # the shared tier is ServiceConfig's (_CACHE_REDIS_URL, _NAMESPACE)
            key = f"CACHE_{field.upper()}"
            if info.annotation is bool:
                value: Any = read.flag(key)
            elif info.annotation is int:
                value = read.integer(key, 1)
            else:
                value = read.number(key, allow_zero=True)
            if value is not None:
                values[field] = value
        try:
            return cls(**values)
        except InvalidSettingsError as exc:
            message = describe_problems(
                "CachePolicy", exc.problems, lambda f: f"{read.prefix}CACHE_{f.upper()}"
            )
        raise ConfigurationError(message)


@dataclass(frozen=True)
class CacheResult(Generic[T]):
    """A value with where it came from: ``stale`` is True when Facility was down."""

    value: T
    stale: bool
    age_s: float
    from_cache: bool


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    stale_serves: int
    coalesced_waits: int
    negative_hits: int
    evictions: int
    size: int
    max_entries: int
    #: In-process misses answered by the shared Redis tier.
    shared_hits: int = 0
    #: ``facility-events`` messages applied, and those of types this library ignores.
    events_applied: int = 0
    events_ignored: int = 0


@dataclass(frozen=True)
class _Entry:
    value: Any
    stored_at: float
    fresh_until: float
    stale_until: float
    not_found: NotFoundError | None = None


class _Bounded(LRUCache[Hashable, _Entry]):
    def __init__(self, maxsize: int, on_evict: Callable[[Hashable], None]) -> None:
        super().__init__(maxsize)
        self._on_evict = on_evict

    def popitem(self) -> tuple[Hashable, _Entry]:
        item = super().popitem()
        self._on_evict(item[0])
        return item


_EVENT_NAMES = {
    "hits": "hit",
    "misses": "miss",
    "stale": "stale",
    "coalesced": "coalesced",
    "negative": "negative_hit",
    "evictions": "eviction",
    "shared": "shared_hit",
    "events_applied": "event_applied",
    "events_ignored": "event_ignored",
}

#: How often a process waiting on another's lease looks for its value (backing off to the max).
_POLL_FIRST, _POLL_MAX = 0.002, 0.02


class _LeaderGone(Exception):
    """The request every waiter relied on was cancelled; a waiter takes over."""


def _unavailable(error: BaseException) -> bool:
    # 5xx, timeouts, unreachable and breaker-open are all ServerError subclasses; 4xx are not.
    return isinstance(error, ServerError)


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Read an abandoned wait's outcome so asyncio does not log it as never retrieved."""
    if not future.cancelled():
        future.exception()


class FacilityCache:
    """One per service per process by default (shared by sync and async clients)."""

    def __init__(
        self,
        policy: CachePolicy | None = None,
        *,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
        service: str = "facility",
    ) -> None:
        self.policy = policy or CachePolicy()
        self.service = service
        self._clock = clock or time.monotonic
        self._rng = rng or random.Random()  # noqa: S311 - TTL jitter, not security
        self._lock = threading.Lock()
        #: Counters have their own lock: a hit must not queue behind a store, and every
        #: lookup must be counted exactly once even when threads race (``stats()`` adds up).
        self._counts_lock = threading.Lock()
        self._counts = {
            "hits": 0,
            "misses": 0,
            "stale": 0,
            "coalesced": 0,
            "negative": 0,
            "evictions": 0,
            "shared": 0,
            "events_applied": 0,
            "events_ignored": 0,
        }
        self._store = _Bounded(self.policy.max_entries, self._count_eviction)
        self._inflight: dict[Hashable, Future[CacheResult[Any]]] = {}
        self._tier: RedisTier | None = None
        url = self.policy.redis_url
        if self.policy.enabled and url is not None:
            from nilecare_clients._redis_tier import RedisTier, resolve_namespace  # optional

            self._tier = RedisTier(
                url=url.get_secret_value(),
                namespace=resolve_namespace(self.policy.redis_namespace),
                service=service,
                prefix=self.policy.redis_prefix,
                timeout=self.policy.redis_timeout,
                lease=self.policy.redis_lease,
                on_drop=self._drop_local,
            )

    def _count_eviction(self, key: Hashable) -> None:
        self._count("evictions", key)

    def _count(self, counter: str, key: Hashable) -> None:
        with self._counts_lock:
            self._counts[counter] += 1
        if _state.observers.active:
            _hooks.dispatch(CacheEvent(self.service, key_kind(key), _EVENT_NAMES[counter]))

    # -- reads ------------------------------------------------------------------------------
    def peek(self, key: Hashable) -> CacheResult[Any] | None:
        """The fresh value for ``key`` if there is one (raises a remembered 404).

        The read takes the lock: an LRU read reorders the store, and racing an invalidation
        without it can raise ``KeyError`` from inside cachetools.
        """
        with self._lock:
            entry = self._store.get(key)
        if entry is None:
            return None
        now = self._clock()
        if now >= entry.fresh_until:
            return None
        if entry.not_found is not None:
            self._count("negative", key)
            raise copy.copy(entry.not_found)  # a fresh object: re-raising one grows its traceback
        self._count("hits", key)
        return CacheResult(entry.value, False, now - entry.stored_at, True)

    def get_or_load(
        self, key: Hashable, ttl: float, load: Callable[[], T], *, wait: float | None = None
    ) -> CacheResult[T]:
        """The cached value, or the result of ``load()``, made once however many threads ask.

        A caller that joins another caller's load waits at most ``wait`` seconds and never past
        its own ``deadline_scope``: the leader's deadline is not the follower's.
        """
        limit = self._wait_limit(wait)
        while True:
            hit = self.peek(key)
            if hit is not None:
                return hit
            future, leader = self._join(key)
            if leader:
                return self._lead(key, ttl, future, load, limit)
            try:
                return future.result(timeout=self._left(limit, key))
            except FutureTimeout:
                raise self._waited_too_long(key) from None
            except _LeaderGone:
                continue

    async def aget_or_load(
        self,
        key: Hashable,
        ttl: float,
        load: Callable[[], Awaitable[T]],
        *,
        wait: float | None = None,
    ) -> CacheResult[T]:
        """The asyncio twin of ``get_or_load`` (waits without blocking the loop)."""
        limit = self._wait_limit(wait)
        while True:
            hit = self.peek(key)
            if hit is not None:
                return hit
            future, leader = self._join(key)
            if not leader:
                # asyncio.wait, not wait_for/await: cancelling a wrapped future would cancel the
                # leader's shared future under it, and the leader could no longer publish.
                waiting = asyncio.wrap_future(future)
                done, _ = await asyncio.wait({waiting}, timeout=self._left(limit, key))
                if not done:
                    waiting.add_done_callback(_retrieve)
                    raise self._waited_too_long(key)
                try:
                    return waiting.result()
                except _LeaderGone:
                    continue
            tier = self._tier if shared_key(key) is not None else None
            token: str | None = None
            if tier is not None:
                try:
                    found = await self._afrom_tier(tier, key, limit)
                except BaseException as exc:
                    return self._failed(key, future, exc)
                if isinstance(found, CacheResult):
                    return self._resolved(key, future, found)
                token = found
            try:
                value = await load()
            except BaseException as exc:
                if tier is not None and token:
                    await tier.arelease(key, token)
                return self._failed(key, future, exc)
            fresh_for = self._ttl(ttl)
            result = self._stored(key, fresh_for, future, value)
            if tier is not None and (token or tier.healthy):
                await tier.aput(key, value, fresh_for, self.policy.max_stale)
                if token:
                    await tier.arelease(key, token)
            return result

    def _wait_limit(self, wait: float | None) -> float | None:
        """The monotonic time a follower stops waiting: ``wait`` from now, or the scope's end."""
        now = time.monotonic()
        limit = None if wait is None else now + max(0.0, wait)
        scoped = get_deadline()
        if scoped is not None:
            limit = scoped if limit is None else min(limit, scoped)
        return limit

    def _left(self, limit: float | None, key: Hashable) -> float | None:
        if limit is None:
            return None
        left = limit - time.monotonic()
        if left <= 0:
            raise self._waited_too_long(key)
        return left

    def _waited_too_long(self, key: Hashable) -> ServiceTimeoutError:
        return ServiceTimeoutError(
            service=self.service,
            method="GET",
            path_template=f"{key_kind(key)} cache",
            retryable=False,
            detail="deadline exceeded waiting for another caller's load",
            request_sent=False,
        )

    def _join(self, key: Hashable) -> tuple[Future[CacheResult[Any]], bool]:
        with self._lock:
            future = self._inflight.get(key)
            if future is not None:
                self._count("coalesced", key)
                return future, False
            entry = self._store.get(key)
            now = self._clock()
            if entry is not None and now < entry.fresh_until:
                # Filled between our peek and taking the lock: answer from it (and count it).
                done: Future[CacheResult[Any]] = Future()
                if entry.not_found is not None:
                    self._count("negative", key)
                    done.set_exception(copy.copy(entry.not_found))
                else:
                    self._count("hits", key)
                    done.set_result(CacheResult(entry.value, False, now - entry.stored_at, True))
                return done, False
            future = Future()
            self._inflight[key] = future
            self._count("misses", key)
            return future, True

    def _lead(
        self,
        key: Hashable,
        ttl: float,
        future: Future[CacheResult[Any]],
        load: Callable[[], T],
        limit: float | None,
    ) -> CacheResult[T]:
        tier = self._tier if shared_key(key) is not None else None
        token: str | None = None
        if tier is not None:
            try:
                found = self._from_tier(tier, key, limit)
            except BaseException as exc:
                return self._failed(key, future, exc)
            if isinstance(found, CacheResult):
                return self._resolved(key, future, found)
            token = found
        try:
            value = load()
        except BaseException as exc:
            if tier is not None and token:
                tier.release(key, token)
            return self._failed(key, future, exc)
        fresh_for = self._ttl(ttl)
        result = self._stored(key, fresh_for, future, value)
        if tier is not None and (token or tier.healthy):
            tier.put(key, value, fresh_for, self.policy.max_stale)
            if token:
                tier.release(key, token)
        return result

    # -- the shared tier (Redis) --------------------------------------------------------------
    def _from_tier(
        self, tier: RedisTier, key: Hashable, limit: float | None
    ) -> CacheResult[Any] | str | None:
        """A fresh value from Redis, or the lease token to load with (None: load anyway).

        When another process holds the key's lease this one waits for its value, at most until
        its own ``limit``; if the lease goes without a value (the holder failed or died) it
        tries to take the lease over.
        """
        waited = False
        while True:
            hit = self._remote(key, tier.get(key))
            if hit is not None:
                return hit
            if not tier.healthy:
                return None  # Redis just failed: one timeout per call is the most it costs
            token = tier.try_lease(key)
            if token != "":
                if waited and token:
                    tier.count("lease_takeovers")
                return token
            if not waited:
                tier.count("lease_waits")
            waited = True
            delay = _POLL_FIRST
            while True:
                time.sleep(self._poll(delay, limit, key))
                delay = min(delay * 2, _POLL_MAX)
                hit = self._remote(key, tier.get(key))
                if hit is not None:
                    return hit
                held = tier.lease_held(key)
                if held is None:
                    return None  # Redis went away: load on our own
                if not held:
                    break

    async def _afrom_tier(
        self, tier: RedisTier, key: Hashable, limit: float | None
    ) -> CacheResult[Any] | str | None:
        """The asyncio twin of ``_from_tier``."""
        waited = False
        while True:
            hit = self._remote(key, await tier.aget(key))
            if hit is not None:
                return hit
            if not tier.healthy:
                return None  # Redis just failed: one timeout per call is the most it costs
            token = await tier.atry_lease(key)
            if token != "":
                if waited and token:
                    tier.count("lease_takeovers")
                return token
            if not waited:
                tier.count("lease_waits")
            waited = True
            delay = _POLL_FIRST
            while True:
                await asyncio.sleep(self._poll(delay, limit, key))
                delay = min(delay * 2, _POLL_MAX)
                hit = self._remote(key, await tier.aget(key))
                if hit is not None:
                    return hit
                held = await tier.alease_held(key)
                if held is None:
                    return None
                if not held:
                    break

    def _poll(self, delay: float, limit: float | None, key: Hashable) -> float:
        """The next wait for the lease holder, never past the caller's own limit."""
        left = self._left(limit, key)
        return delay if left is None else min(delay, left)

    def _remote(self, key: Hashable, remote: RemoteEntry | None) -> CacheResult[Any] | None:
        """A hit if ``remote`` is fresh; a stale one is kept here for stale-if-error only."""
        if remote is None:
            return None
        wall, now = time.time(), self._clock()
        if wall >= remote.stale_until:
            return None
        age = max(0.0, wall - remote.stored_at)
        entry = _Entry(
            remote.value,
            now - age,
            now + remote.fresh_until - wall,
            now + remote.stale_until - wall,
        )
        fresh = wall < remote.fresh_until
        with self._lock:
            current = self._store.get(key)
            if fresh or current is None or current.stored_at < entry.stored_at:
                self._store[key] = entry
        if not fresh:
            return None
        self._count("shared", key)
        return CacheResult(remote.value, False, age, True)

    def _resolved(
        self, key: Hashable, future: Future[CacheResult[Any]], result: CacheResult[Any]
    ) -> CacheResult[Any]:
        with self._lock:
            self._inflight.pop(key, None)
        future.set_result(result)
        return result

    def _ttl(self, ttl: float) -> float:
        spread = self.policy.jitter
        return ttl * (1.0 + self._rng.uniform(-spread, spread)) if spread else ttl

    def _stored(
        self, key: Hashable, fresh_for: float, future: Future[CacheResult[Any]], value: T
    ) -> CacheResult[T]:
        now = self._clock()
        entry = _Entry(value, now, now + fresh_for, now + self.policy.max_stale)
        result = CacheResult(value, False, 0.0, False)
        with self._lock:
            self._store[key] = entry
            self._inflight.pop(key, None)
        future.set_result(result)
        return result

    def _failed(
        self, key: Hashable, future: Future[CacheResult[Any]], exc: BaseException
    ) -> CacheResult[Any]:
        now = self._clock()
        with self._lock:
            previous = self._store.get(key)
            if isinstance(exc, NotFoundError):
                self._store[key] = _Entry(
                    None, now, now + self._ttl(self.policy.negative_ttl), now, not_found=exc
                )
            self._inflight.pop(key, None)
        if (
            _unavailable(exc)
            and previous is not None
            and previous.not_found is None
            and now < previous.stale_until
        ):
            self._count("stale", key)
            emit(
                "warning",
                "nilecare_clients.cache_stale_served",
                service=self.service,
                error=type(exc).__name__,
                reason=f"age {now - previous.stored_at:.0f}s",
            )
            result = CacheResult(previous.value, True, now - previous.stored_at, True)
            future.set_result(result)
            return result
        future.set_exception(exc if isinstance(exc, Exception) else _LeaderGone())
        raise exc

    # -- writes and housekeeping -----------------------------------------------------------
    def invalidate(self, *keys: Hashable) -> None:
        """Forget ``keys`` here and, with a shared tier, in Redis and in every replica."""
        self.drop(Drop(keys=keys))

    def drop(self, drop: Drop) -> None:
        """Forget what ``drop`` names here, then in Redis and in every replica (best effort)."""
        self._drop_local(drop)
        if self._tier is not None:
            self._tier.publish_drop(drop)

    def _drop_local(self, drop: Drop) -> None:
        with self._lock:
            if drop.everything:
                self._store.clear()
                return
            for key in [k for k in self._store if drop.matches(k)]:
                self._store.pop(key, None)

    def invalidate_where(self, predicate: Callable[[Hashable], bool]) -> None:
        """Forget matching keys in this process only (a predicate cannot travel)."""
        with self._lock:
            for key in [k for k in self._store if predicate(k)]:
                self._store.pop(key, None)

    def clear(self) -> None:
        """Forget every entry in this process (Redis and other replicas keep theirs)."""
        with self._lock:
            self._store.clear()

    def forget_in_flight(self) -> None:
        """Drop the loads in flight (after ``fork()``: their leaders run in the parent)."""
        with self._lock:
            self._inflight.clear()

    def after_fork(self) -> None:
        """In a forked child: forget the parent's loads in flight, and give the shared tier
        its own connections and listener (``_state`` calls this, locks already re-made)."""
        self.forget_in_flight()
        if self._tier is not None:
            self._tier.after_fork()

    def count_event(self, applied: bool) -> None:
        """Count one ``facility-events`` message: applied, or ignored (an unknown type)."""
        self._count("events_applied" if applied else "events_ignored", ("event",))

    def tier_stats(self) -> TierStats | None:
        """The shared tier's state and counters, or None without one."""
        return self._tier.stats() if self._tier is not None else None

    def close(self) -> None:
        """Stop the shared tier's listener and close its connections."""
        if self._tier is not None:
            self._tier.close()

    def stats(self) -> CacheStats:
        with self._counts_lock:
            c = dict(self._counts)
        return CacheStats(
            hits=c["hits"],
            misses=c["misses"],
            stale_serves=c["stale"],
            coalesced_waits=c["coalesced"],
            negative_hits=c["negative"],
            evictions=c["evictions"],
            size=len(self._store),
            max_entries=self.policy.max_entries,
            shared_hits=c["shared"],
            events_applied=c["events_applied"],
            events_ignored=c["events_ignored"],
        )


def shared_cache(service: str, policy: CachePolicy, clock: Callable[[], float]) -> FacilityCache:
    """The process-wide cache of ``service`` (created by its first client)."""
    with _registry_lock:
        cache = _registry.get(service)
        if cache is None:
            cache = _registry[service] = FacilityCache(policy, clock=clock, service=service)
        return cache


def all_caches() -> dict[str, FacilityCache]:
    with _registry_lock:
        return dict(_registry)


def reset_caches() -> None:
    with _registry_lock:
        caches = list(_registry.values())
        _registry.clear()
    for cache in caches:
        cache.close()
