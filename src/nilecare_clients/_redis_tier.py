"""The shared Facility cache tier on Redis (optional: ``pip install "nilecare-clients[redis]"``).

Imported only when ``CachePolicy.redis_url`` is set, so the core never loads redis. The tier sits
between the in-process cache and Facility: an in-process miss reads Redis, an answer from
Facility is written to Redis, and writes and ``facility-events`` drop entries fleet-wide (Redis
``DEL`` plus one pub/sub message that every replica's listener applies to its own process).

Rules, in order of importance:

* Redis is never a reason for a call to fail or hang. Every command has a small timeout
  (``redis_timeout``, 50 ms), no retries, and the tier has its own breaker: after
  ``_BREAKER_FAILURES`` consecutive failures it is skipped for ``_BREAKER_RESET`` seconds.
  Every failure reads as a miss, and the caller goes on to Facility.
* Nothing read from Redis is trusted: an entry is JSON with its own wall-clock freshness and
  staleness (so any replica tells fresh from stale), and its value is validated by the model of
  its key's kind; anything else is dropped and counted as invalid.
* Only Facility reference data is stored (a facility, its settings, its departments, a
  department), keyed by ids. Lists are not: their keys carry search terms.
* Keys are ``<prefix>:v1:<namespace>:<service>:<kind>:<id>``: versioned so a format change
  never reads old entries, namespaced so two credentials never share a value.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from nilecare_clients import _state
from nilecare_clients._cache_keys import Drop, shared_key
from nilecare_clients._errors import ConfigurationError
from nilecare_clients._log import emit
from nilecare_clients.models.facility import Department, Facility, FacilitySettings

try:
    import redis
    import redis.asyncio as aioredis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ConfigurationError(
        'CachePolicy.redis_url needs the redis extra: pip install "nilecare-clients[redis]"'
    ) from exc

__all__ = ["RedisTier", "RemoteEntry", "TierStats", "resolve_namespace"]

_FORMAT = "v1"
#: Consecutive Redis failures that open the tier's breaker, and how long it then stays open.
_BREAKER_FAILURES = 3
_BREAKER_RESET = 5.0

#: The kinds stored in Redis and the model that validates each one read back.
_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "facility": TypeAdapter(Facility),
    "settings": TypeAdapter(FacilitySettings),
    "department": TypeAdapter(Department),
    "departments": TypeAdapter(list[Department]),
}


def resolve_namespace(configured: str | None, environ: dict[str, str] | None = None) -> str:
    """The tenancy namespace: the configured one, else the calling service's own name.

    The calling service's name comes from ``NILECARE_SERVICE_NAME`` (or ``OTEL_SERVICE_NAME``).
    Without any, the shared tier refuses to start: a guessed namespace could serve one
    credential's answers to another.
    """
    env = os.environ if environ is None else environ
    name = configured or env.get("NILECARE_SERVICE_NAME") or env.get("OTEL_SERVICE_NAME")
    if not name:
        raise ConfigurationError(
            "the shared Redis cache tier needs a namespace: set CachePolicy.redis_namespace "
            "or NILECARE_SERVICE_NAME (the calling service's own name)"
        )
    if not all(c.isalnum() or c in "-_." for c in name) or len(name) > 64:
        raise ConfigurationError(
            "the Redis namespace must be 1-64 letters, digits, '-', '_' or '.'"
        )
    return name


@dataclass(frozen=True)
class RemoteEntry:
    """An entry read from Redis: the validated value and its wall-clock life."""

    value: Any
    stored_at: float
    fresh_until: float
    stale_until: float


@dataclass(frozen=True)
class TierStats:
    state: str  # "closed" (working), "open" (skipped after failures), "half_open"
    connected: bool  # the invalidation listener is subscribed
    hits: int
    misses: int
    writes: int
    errors: int
    invalid: int
    skipped: int
    drops_published: int
    drops_received: int
    lease_waits: int
    lease_takeovers: int


@dataclass
class _Breaker:
    """The tier's own breaker: a run of failures makes every command a miss for a while."""

    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self) -> bool:
        with self.lock:
            if self.opened_at is None:
                return True
            if self.clock() - self.opened_at < _BREAKER_RESET or self.probing:
                return False
            self.probing = True  # half-open: one command finds out
            return True

    def record(self, ok: bool) -> str | None:
        """Record an outcome; returns "opened"/"closed" when the state changed."""
        with self.lock:
            was_open = self.opened_at is not None
            self.probing = False
            if ok:
                self.failures, self.opened_at = 0, None
                return "closed" if was_open else None
            self.failures += 1
            if was_open or self.failures >= _BREAKER_FAILURES:
                self.opened_at = self.clock()
                return None if was_open else "opened"
            return None

    @property
    def healthy(self) -> bool:
        with self.lock:
            return self.failures == 0 and self.opened_at is None

    @property
    def state(self) -> str:
        with self.lock:
            if self.opened_at is None:
                return "closed"
            return "half_open" if self.clock() - self.opened_at >= _BREAKER_RESET else "open"


_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


class RedisTier:
    """One per ``FacilityCache`` (one per service per process); safe from threads and loops."""

    def __init__(
        self,
        *,
        url: str,
        namespace: str,
        service: str,
        prefix: str,
        timeout: float,
        lease: float,
        on_drop: Callable[[Drop], None],
    ) -> None:
        self.service = service
        self._url = url
        self._timeout = timeout
        self._lease_ms = max(1, int(lease * 1000))
        self._base = f"{prefix}:{_FORMAT}:{namespace}:{service}:"
        self._channel = self._base + "drops"
        self._origin = uuid.uuid4().hex
        self._on_drop = on_drop
        self._breaker = _Breaker()
        self._counts_lock = threading.Lock()
        self._counts = dict.fromkeys(
            (
                "hits",
                "misses",
                "writes",
                "errors",
                "invalid",
                "skipped",
                "drops_published",
                "drops_received",
                "lease_waits",
                "lease_takeovers",
            ),
            0,
        )
        try:
            self._sync = self._client(redis.Redis)
        except (ValueError, TypeError):
            # from_url's message would quote the URL, which may hold a password.
            raise ConfigurationError("CachePolicy.redis_url is not a valid Redis URL") from None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._async_lock = threading.Lock()
        self._closed = threading.Event()
        self._connected = False
        self._listener = threading.Thread(
            target=self._listen, name=f"nilecare-redis-drops-{service}", daemon=True
        )
        self._listener.start()

    def _client(self, cls: Any) -> Any:
        # No retries (redis-py retries by default): one slow Redis must cost one timeout.
        return cls.from_url(
            self._url,
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )

    def _aclient(self) -> Any:
        loop = asyncio.get_running_loop()
        with self._async_lock:
            client = self._async.get(loop)
            if client is None:
                client = self._async[loop] = self._client(aioredis.Redis)
            return client

    # -- bookkeeping ------------------------------------------------------------------------
    def count(self, name: str) -> None:
        with self._counts_lock:
            self._counts[name] += 1

    def _ok(self) -> None:
        if self._breaker.record(True) == "closed":
            emit("info", "nilecare_clients.cache_redis_recovered", service=self.service)

    def _failed(self, error: BaseException) -> None:
        self.count("errors")
        if self._breaker.record(False) == "opened":
            # The error's type only: redis messages can carry the host, never data.
            emit(
                "warning",
                "nilecare_clients.cache_redis_unavailable",
                service=self.service,
                error=type(error).__name__,
                reason=f"skipped for {_BREAKER_RESET:.0f}s",
            )

    def _allowed(self) -> bool:
        if self._breaker.allow():
            return True
        self.count("skipped")
        return False

    @property
    def healthy(self) -> bool:
        """False once a command failed, until one succeeds: a call that just saw Redis fail
        skips its remaining Redis steps, so it pays at most one timeout."""
        return self._breaker.healthy

    def stats(self) -> TierStats:
        with self._counts_lock:
            c = dict(self._counts)
        return TierStats(state=self._breaker.state, connected=self._connected, **c)

    def _key(self, shared: tuple[str, str]) -> str:
        return self._base + shared[0] + ":" + shared[1]

    # -- encoding (pure) --------------------------------------------------------------------
    @staticmethod
    def encode(value: Any, stored_at: float, fresh_for: float, stale_for: float) -> str:
        """The stored form: the wire JSON of the value with its wall-clock life."""
        if isinstance(value, list):
            wire: Any = [v.model_dump(by_alias=True, mode="json") for v in value]
        else:
            wire = value.model_dump(by_alias=True, mode="json")
        return json.dumps(
            {"s": stored_at, "f": stored_at + fresh_for, "x": stored_at + stale_for, "v": wire},
            separators=(",", ":"),
        )

    def decode(self, kind: str, raw: Any) -> RemoteEntry | None:
        """The entry if ``raw`` is well formed and its value passes the model, else None."""
        try:
            data = json.loads(raw)
            times = [float(data[k]) for k in ("s", "f", "x")]
            if not all(math.isfinite(t) for t in times) or not times[0] <= times[1] <= times[2]:
                raise ValueError("bad times")
            value = _ADAPTERS[kind].validate_python(data["v"])
        except (ValueError, TypeError, KeyError, ValidationError):
            self.count("invalid")
            return None
        return RemoteEntry(value, times[0], times[1], times[2])

    def _ttl_ms(self, stale_until: float) -> int:
        return max(1, int((stale_until - time.time()) * 1000))

    # -- sync commands ----------------------------------------------------------------------
    def get(self, key: Hashable) -> RemoteEntry | None:
        shared = shared_key(key)
        if shared is None or not self._allowed():
            return None
        try:
            raw = self._sync.get(self._key(shared))
        except Exception as error:  # any Redis failure is a miss
            self._failed(error)
            return None
        self._ok()
        return self._read(shared, raw)

    def _read(self, shared: tuple[str, str], raw: Any) -> RemoteEntry | None:
        if raw is None:
            self.count("misses")
            return None
        entry = self.decode(shared[0], raw)
        if entry is None:
            self.count("misses")
            return None
        self.count("hits")
        return entry

    def put(self, key: Hashable, value: Any, fresh_for: float, stale_for: float) -> None:
        shared = shared_key(key)
        if shared is None or not self._allowed():
            return
        now = time.time()
        try:
            raw = self.encode(value, now, fresh_for, stale_for)
            self._sync.set(self._key(shared), raw, px=self._ttl_ms(now + stale_for))
        except Exception as error:
            self._failed(error)
            return
        self._ok()
        self.count("writes")

    def try_lease(self, key: Hashable) -> str | None:
        """A token if this process now holds the key's load lease; "" if another holds it;
        None when Redis cannot say (the caller then loads on its own)."""
        shared = shared_key(key)
        if shared is None or not self._allowed():
            return None
        token = uuid.uuid4().hex
        try:
            got = self._sync.set(self._key(shared) + ":lease", token, nx=True, px=self._lease_ms)
        except Exception as error:
            self._failed(error)
            return None
        self._ok()
        return token if got else ""

    def lease_held(self, key: Hashable) -> bool | None:
        shared = shared_key(key)
        if shared is None or not self._allowed():
            return None
        try:
            held = bool(self._sync.exists(self._key(shared) + ":lease"))
        except Exception as error:
            self._failed(error)
            return None
        self._ok()
        return held

    def release(self, key: Hashable, token: str) -> None:
        shared = shared_key(key)
        if shared is None or not self._allowed():
            return
        try:
            self._sync.eval(_RELEASE, 1, self._key(shared) + ":lease", token)
        except Exception as error:
            self._failed(error)
            return
        self._ok()

    def publish_drop(self, drop: Drop) -> None:
        """Delete what ``drop`` names in Redis and tell every replica (best effort)."""
        if not self._allowed():
            return
        try:
            pipe = self._sync.pipeline(transaction=False)
            keys = [self._key(k) for k in drop.shared_keys()]
            if keys:
                pipe.delete(*keys)
            pipe.publish(self._channel, drop.to_json(self._origin))
            pipe.execute()
            if drop.everything:
                self._delete_all()
        except Exception as error:
            self._failed(error)
            return
        self._ok()
        self.count("drops_published")

    def _delete_all(self) -> None:
        batch: list[Any] = []
        for name in self._sync.scan_iter(match=self._base + "*", count=500):
            batch.append(name)
            if len(batch) >= 500:
                self._sync.delete(*batch)
                batch.clear()
        if batch:
            self._sync.delete(*batch)

    # -- asyncio commands (the same rules over redis.asyncio) --------------------------------
    async def aget(self, key: Hashable) -> RemoteEntry | None:
        shared = shared_key(key)
        if shared is None or not self._allowed():
            return None
        try:
            raw = await asyncio.wait_for(self._aclient().get(self._key(shared)), self._timeout)
        except Exception as error:
            self._failed(error)
            return None
        self._ok()
        return self._read(shared, raw)

    async def aput(self, key: Hashable, value: Any, fresh_for: float, stale_for: float) -> None:
        shared = shared_key(key)
        if shared is None or not self._allowed():
            return
        now = time.time()
        try:
            raw = self.encode(value, now, fresh_for, stale_for)
            command = self._aclient().set(self._key(shared), raw, px=self._ttl_ms(now + stale_for))
            await asyncio.wait_for(command, self._timeout)
        except Exception as error:
            self._failed(error)
            return
        self._ok()
        self.count("writes")

    async def atry_lease(self, key: Hashable) -> str | None:
        shared = shared_key(key)
        if shared is None or not self._allowed():
            return None
        token = uuid.uuid4().hex
        try:
            command = self._aclient().set(
                self._key(shared) + ":lease", token, nx=True, px=self._lease_ms
            )
            got = await asyncio.wait_for(command, self._timeout)
        except Exception as error:
            self._failed(error)
            return None
        self._ok()
        return token if got else ""

    async def alease_held(self, key: Hashable) -> bool | None:
        shared = shared_key(key)
        if shared is None or not self._allowed():
            return None
        try:
            command = self._aclient().exists(self._key(shared) + ":lease")
            held = bool(await asyncio.wait_for(command, self._timeout))
        except Exception as error:
            self._failed(error)
            return None
        self._ok()
        return held

    async def arelease(self, key: Hashable, token: str) -> None:
        shared = shared_key(key)
        if shared is None or not self._allowed():
            return
        try:
            command = self._aclient().eval(_RELEASE, 1, self._key(shared) + ":lease", token)
            await asyncio.wait_for(command, self._timeout)
        except Exception as error:
            self._failed(error)
            return
        self._ok()

    # -- the invalidation listener ----------------------------------------------------------
    def _listen(self) -> None:
        """Apply every other replica's drops to this process, for as long as it runs.

        After a gap (Redis down, connection lost) this process may have missed drops, so it
        forgets its whole in-process tier once it is subscribed again: Redis refills it.
        """
        backoff = 0.05
        subscribed_before = False
        while not self._closed.is_set():
            client = None
            try:
                client = redis.Redis.from_url(
                    self._url,
                    socket_connect_timeout=self._timeout,
                    socket_timeout=None,
                    retry=Retry(NoBackoff(), 0),
                )
                pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
                pubsub.subscribe(self._channel)
                self._connected = True
                if subscribed_before:
                    self._on_drop(Drop(everything=True))
                subscribed_before, backoff = True, 0.05
                while not self._closed.is_set():
                    message = pubsub.get_message(timeout=0.2)
                    if message is not None:
                        self._received(message.get("data"))
                pubsub.close()
            except Exception:  # reconnect whatever went wrong
                self._connected = False
                self._closed.wait(backoff)
                backoff = min(backoff * 2, 1.0)
            finally:
                self._connected = False
                if client is not None:
                    client.close()

    def _received(self, raw: Any) -> None:
        parsed = Drop.from_json(raw)
        if parsed is None or parsed[0] == self._origin:
            return  # not ours, or our own (already applied before it was published)
        self.count("drops_received")
        self._on_drop(parsed[1])

    def wait_connected(self, timeout: float) -> bool:
        """True once the listener is subscribed (tests and the demo wait for it)."""
        end = time.monotonic() + timeout
        while not self._connected and time.monotonic() < end:
            time.sleep(0.005)
        return self._connected

    def after_fork(self) -> None:
        """In a forked child: new connections, a new origin, a new listener.

        The parent's connections are ``_state.abandon``ed: their descriptors released here,
        nothing written on them, no finaliser run. A new origin, because drops
        carry their sender's origin and each replica ignores its own: a child keeping its
        parent's would ignore every drop the parent publishes. The listener thread did not
        survive the fork. Locks are re-made here (the parent's threads may have held them).
        """
        self._origin = uuid.uuid4().hex
        self._breaker.lock = threading.Lock()
        self._counts_lock = threading.Lock()
        self._async_lock = threading.Lock()
        for inherited in (self._sync, *self._async.values()):
            _state.abandon(inherited)
        self._async = weakref.WeakKeyDictionary()
        self._sync = self._client(redis.Redis)
        self._connected = False
        if self._closed.is_set():
            return
        self._closed = threading.Event()
        self._listener = threading.Thread(
            target=self._listen, name=f"nilecare-redis-drops-{self.service}", daemon=True
        )
        self._listener.start()

    def close(self) -> None:
        self._closed.set()
        self._sync.close()
