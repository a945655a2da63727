"""A replica: a Facility client with the shared tier, driven by JSON lines on stdin.

``REPLICA_MODE`` is ``sync``, ``async`` (httpx) or ``aiohttp``; cache TTLs and the lease come
from ``REPLICA_*`` variables so tests can shorten them.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
import time
from typing import Any

from nilecare_clients import (
    AsyncFacilityServiceClient,
    CachePolicy,
    FacilityServiceClient,
    NileCareError,
    ServiceConfig,
)
from nilecare_clients._cache import all_caches

MODE = os.environ["REPLICA_MODE"]
POLICY = CachePolicy(
    facility_ttl=float(os.environ.get("REPLICA_TTL", "3600")),
    jitter=0,
    redis_lease=float(os.environ.get("REPLICA_LEASE", "3")),
    # Behaviour tests, not timing ones: a loaded CI machine must not turn a slow Redis answer
    # into the (correct) fallback of loading alone. The bench keeps the 50 ms default.
    redis_timeout=float(os.environ.get("REPLICA_REDIS_TIMEOUT", "0.05")),
)


def make_client() -> Any:
    overrides: dict[str, Any] = {"deadline": float(os.environ.get("REPLICA_DEADLINE", "10"))}
    if MODE == "aiohttp":
        overrides["async_transport"] = "aiohttp"
    config = ServiceConfig.from_env("FACILITY", **overrides)
    kind = FacilityServiceClient if MODE == "sync" else AsyncFacilityServiceClient
    return kind(config=config, cache_policy=POLICY)


async def run(client: Any, request: dict[str, Any]) -> dict[str, Any]:
    async def call(result: Any) -> Any:
        return await result if inspect.isawaitable(result) else result

    op = request["op"]
    cache = all_caches()["facility"]
    if op == "ready":
        return {"ok": cache._tier is not None and cache._tier.wait_connected(5)}
    if op == "get":
        started = time.perf_counter()
        found = await call(client.lookup_facility(request["id"]))
        return {
            "name": found.value.name,
            "stale": found.stale,
            "from_cache": found.from_cache,
            "ms": (time.perf_counter() - started) * 1000,
        }
    if op == "update":
        await call(client.update_facility(request["id"], {"name": request["name"]}))
        return {"done_at": time.time()}
    if op == "event":
        return {"applied": await call(client.apply_event(request["payload"]))}
    if op == "poll":
        end = time.monotonic() + request["timeout"]
        while time.monotonic() < end:
            if (await call(client.lookup_facility(request["id"]))).value.name == request["name"]:
                return {"seen_at": time.time()}
            await asyncio.sleep(0.0005)
        return {"seen_at": None}
    if op == "stats":
        tier = cache.tier_stats()
        return {"cache": vars(cache.stats()), "tier": vars(tier) if tier else None}
    raise ValueError(op)


def main() -> None:
    client = make_client()
    loop = asyncio.new_event_loop()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = loop.run_until_complete(run(client, request))
        except NileCareError as error:
            answer = {"error": type(error).__name__, "detail": str(error)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
