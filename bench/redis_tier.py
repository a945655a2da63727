"""Benchmark rows for the shared Facility cache tier on Redis (issue 20), run by ``make bench``.

Real ``redis-server`` on a free loopback port and the fake Facility service on loopback (the
same helpers the tests use); replicas are separate OS processes. Rows, each with its goal:

1. a Redis-tier hit vs a Facility call (in-process tier emptied before every call);
2. Facility requests for one facility when 8 processes start cold at once (goal 1);
3. a write in one process until another sees it (goal <= 100 ms);
4. call latency added while Redis is down, refused and hung (goal <= its timeout at p99).

Writes ``bench/results/redis_tier.md``. Options: ``--quick`` (small counts).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from cache.redis_support import RedisServer, Replica, free_port  # noqa: E402
from nilecare_clients import CachePolicy, FacilityServiceClient, ServiceConfig  # noqa: E402
from nilecare_clients._cache import all_caches  # noqa: E402
from nilecare_clients.testing import reset_state  # noqa: E402
from nilecare_clients.testing.fakes import FakeFacilityService  # noqa: E402

TIMEOUT_MS = CachePolicy().redis_timeout * 1000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def client(url: str, redis_url: str | None) -> FacilityServiceClient:
    reset_state()
    config = ServiceConfig(name="facility", base_url=url)
    if redis_url is None:
        return FacilityServiceClient(config=config, cache=False)
    policy = CachePolicy(redis_url=redis_url, redis_namespace="bench", jitter=0)
    return FacilityServiceClient(config=config, cache_policy=policy)


def timed_lookups(c: FacilityServiceClient, facility_id: str, n: int) -> list[float]:
    """Milliseconds per lookup, with this process's tier emptied before each one."""
    cache = all_caches().get("facility")
    out = []
    for _ in range(n):
        if cache is not None:
            cache.clear()
        started = time.perf_counter()
        c.lookup_facility(facility_id)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 50 if args.quick else 400
    rows: list[tuple[str, str, str, str]] = []
    server = RedisServer()
    fake = FakeFacilityService()
    try:
        with fake.serve() as url:
            fid = fake.create_facility(name="Bench General")["facilityId"]

            # 1. Redis-tier hit vs Facility call.
            facility_ms = timed_lookups(client(url, None), fid, n)
            shared = client(url, server.url)
            shared.lookup_facility(fid)
            redis_ms = timed_lookups(shared, fid, n)
            rows.append(
                (
                    "Redis-tier hit vs Facility call (median)",
                    f"{statistics.median(redis_ms) * 1000:.0f} µs vs "
                    f"{statistics.median(facility_ms) * 1000:.0f} µs",
                    "faster than Facility",
                    "met"
                    if statistics.median(redis_ms) < statistics.median(facility_ms)
                    else "not met",
                )
            )

            # 2. Eight processes start cold at once.
            server.client.flushall()
            fake.journal.clear()
            fake.faults.latency(0.05, path="/api/v1/facilities/*", n=1)
            replicas = [
                Replica("sync", url, server.url, REPLICA_REDIS_TIMEOUT="0.05") for _ in range(8)
            ]
            for r in replicas:
                r.send({"op": "get", "id": fid})
            for r in replicas:
                r.receive()
            cold = fake.journal.count("GET", "/api/v1/facilities/*")
            rows.append(
                (
                    "Facility requests, 8 processes cold at once",
                    str(cold),
                    "1 (today 8)",
                    "met" if cold == 1 else "not met",
                )
            )

            # 3. A write in one process until another sees it.
            a, b = replicas[0], replicas[1]
            visible = []
            for i in range(5 if args.quick else 20):
                name = f"Renamed {i}"
                b.send({"op": "poll", "id": fid, "name": name, "timeout": 2})
                time.sleep(0.02)
                done_at = a.call({"op": "update", "id": fid, "name": name})["done_at"]
                seen = b.receive()["seen_at"]
                visible.append((seen - done_at) * 1000 if seen is not None else 2000.0)
            for r in replicas:
                r.close()
            rows.append(
                (
                    "write in one process until another sees it (p50 / max)",
                    f"{statistics.median(visible):.1f} / {max(visible):.1f} ms",
                    "<= 100 ms",
                    "met" if max(visible) <= 100 else "not met",
                )
            )

            # 4. Latency added while Redis is down (refused, then hung).
            baseline = statistics.median(facility_ms)
            refused = timed_lookups(client(url, f"redis://127.0.0.1:{free_port()}/0"), fid, n)
            hung_client = client(url, server.url)
            hung_client.lookup_facility(fid)
            server.pause()
            try:
                hung = timed_lookups(hung_client, fid, n)
            finally:
                server.resume()
            for label, sample in (("refused", refused), ("hung", hung)):
                added = percentile(sample, 99) - baseline
                rows.append(
                    (
                        f"latency added while Redis is down ({label}), p99",
                        f"{added:.1f} ms (max {max(sample) - baseline:.1f} ms)",
                        f"<= {TIMEOUT_MS:.0f} ms (its timeout)",
                        "met" if added <= TIMEOUT_MS else "not met",
                    )
                )
    finally:
        server.stop()
        reset_state()

    lines = ["| row | measured | goal | |", "|---|---|---|---|"]
    lines += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |" for r in rows]
    table = "\n".join(lines)
    print("\nShared Facility cache tier (Redis)\n" + table)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "redis_tier.md").write_text(
        "# Shared Facility cache tier (Redis)\n\n" + table + "\n"
    )


if __name__ == "__main__":
    main()
