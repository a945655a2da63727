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
"""

from __future__ import annotations

import asyncio
import copy
import random
import threading
import time
from collections.abc import Awaitable, Callable, Hashable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cachetools import LRUCache
from pydantic import Field

from nilecare_clients import _hooks
from nilecare_clients._config import _Frozen
from nilecare_clients._correlation import get_deadline
from nilecare_clients._errors import NotFoundError, ServerError, ServiceTimeoutError
from nilecare_clients._hooks import CacheEvent
from nilecare_clients._log import emit

__all__ = ["CachePolicy", "CacheResult", "CacheStats", "FacilityCache"]

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
}


def _kind(key: Hashable) -> str:
    """The kind of a cache key (``("facility", id)`` -> ``"facility"``): never the id itself."""
    return str(key[0]) if isinstance(key, tuple) and key else "other"


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
        }
        self._store = _Bounded(self.policy.max_entries, self._count_eviction)
        self._inflight: dict[Hashable, Future[CacheResult[Any]]] = {}

    def _count_eviction(self, key: Hashable) -> None:
        self._count("evictions", key)

    def _count(self, counter: str, key: Hashable) -> None:
        with self._counts_lock:
            self._counts[counter] += 1
        if _hooks.active:
            _hooks.dispatch(CacheEvent(self.service, _kind(key), _EVENT_NAMES[counter]))

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
                return self._lead(key, ttl, future, load)
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
            try:
                value = await load()
            except BaseException as exc:
                return self._failed(key, future, exc)
            return self._stored(key, ttl, future, value)

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
            path_template=f"{_kind(key)} cache",
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
        self, key: Hashable, ttl: float, future: Future[CacheResult[Any]], load: Callable[[], T]
    ) -> CacheResult[T]:
        try:
            value = load()
        except BaseException as exc:
            return self._failed(key, future, exc)
        return self._stored(key, ttl, future, value)

    def _ttl(self, ttl: float) -> float:
        spread = self.policy.jitter
        return ttl * (1.0 + self._rng.uniform(-spread, spread)) if spread else ttl

    def _stored(
        self, key: Hashable, ttl: float, future: Future[CacheResult[Any]], value: T
    ) -> CacheResult[T]:
        now = self._clock()
        entry = _Entry(value, now, now + self._ttl(ttl), now + self.policy.max_stale)
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
        with self._lock:
            for key in keys:
                self._store.pop(key, None)

    def invalidate_where(self, predicate: Callable[[Hashable], bool]) -> None:
        with self._lock:
            for key in [k for k in self._store if predicate(k)]:
                self._store.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._store.clear()

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
        )


_registry_lock = threading.Lock()
_registry: dict[str, FacilityCache] = {}


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
        _registry.clear()
