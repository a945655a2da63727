"""One benchmark variant in its own process: ``python bench/_worker.py '<json spec>'``.

The process pins itself to the client core, configures structlog the way a production service
would (JSON lines, INFO and above, written to /dev/null so the cost is paid but nothing shows),
runs the variant named in the spec and prints one JSON object on stdout. ``run.py`` starts one
such process per variant and round, interleaving the variants.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import pybreaker
import structlog
import tenacity
import urllib3
from _payloads import FACILITY_ID, PATIENT_ID, facility_envelope
from pydantic import BaseModel

from nilecare_clients import (
    AsyncClinicalServiceClient,
    AsyncFacilityServiceClient,
    BreakerPolicy,
    CachePolicy,
    CircuitOpenError,
    ClinicalServiceClient,
    FacilityCache,
    FacilityServiceClient,
    RetryPolicy,
    ServiceConfig,
)
from nilecare_clients.models.clinical import Patient

PATIENT_PATH = f"/api/v1/patients/{PATIENT_ID}"
Result = dict[str, Any]


def configure_structlog() -> None:
    """The application's logging: JSON lines at INFO and above (debug lines are filtered)."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(open(os.devnull, "w")),  # noqa: SIM115
        cache_logger_on_first_use=True,
    )


def config(spec: Result, **changes: Any) -> ServiceConfig:
    changes.setdefault("name", "clinical")
    return ServiceConfig(base_url=spec["base_url"], **changes)


def timed_loop(call: Callable[[], Any], calls: int, warmup: int) -> float:
    """Mean seconds per call over ``calls`` sequential calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls


async def timed_gather(
    call: Callable[[], Awaitable[Any]], calls: int, warmup: int, concurrency: int
) -> float:
    """Seconds of wall time per call with ``concurrency`` tasks sharing ``calls`` calls."""

    async def worker(n: int) -> None:
        for _ in range(n):
            await call()

    share = max(1, warmup // concurrency)
    await asyncio.gather(*(worker(share) for _ in range(concurrency)))
    share = calls // concurrency
    started = time.perf_counter()
    await asyncio.gather(*(worker(share) for _ in range(concurrency)))
    return (time.perf_counter() - started) / (share * concurrency)


# -- row 1: per-call time ------------------------------------------------------------------
class _PatientEnvelope(BaseModel):
    success: bool
    data: Patient


def naive_stack(base_url: str) -> Callable[[], Patient]:
    """What a team writes by hand: tenacity + pybreaker + pydantic + one structlog line."""
    http = httpx.Client(base_url=base_url, trust_env=False)
    breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30)
    log = structlog.get_logger("naive")

    def retryable(exc: BaseException) -> bool:
        if isinstance(exc, httpx.HTTPStatusError):
            return exc.response.status_code >= 500
        return isinstance(exc, httpx.TransportError)

    def get_patient() -> Patient:
        started = time.perf_counter()
        correlation_id = str(uuid.uuid4())
        for attempt in tenacity.Retrying(  # a fresh Retrying per call (tenacity #93)
            stop=tenacity.stop_after_attempt(3),
            wait=tenacity.wait_random_exponential(multiplier=0.1, max=2),
            retry=tenacity.retry_if_exception(retryable),
            reraise=True,
        ):
            with attempt, breaker.calling():
                response = http.get(PATIENT_PATH, headers={"X-Correlation-ID": correlation_id})
                response.raise_for_status()
        patient = _PatientEnvelope.model_validate_json(response.content).data
        log.info(
            "clinical.request",
            method="GET",
            route="/api/v1/patients/{id}",
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            correlation_id=correlation_id,
        )
        return patient

    return get_patient


def per_call_sync(spec: Result) -> Result:
    kind = spec["kind"]
    if kind == "raw":
        http = httpx.Client(base_url=spec["base_url"], trust_env=False)
        call: Callable[[], Any] = lambda: http.get(PATIENT_PATH).json()  # noqa: E731
    elif kind == "naive":
        call = naive_stack(spec["base_url"])
    else:
        client = ClinicalServiceClient(config=config(spec))
        call = lambda: client.get_patient(PATIENT_ID)  # noqa: E731
    return {"per_call_s": timed_loop(call, spec["calls"], spec["warmup"])}


def per_call_async(spec: Result) -> Result:
    async def main() -> float:
        if spec["kind"] == "raw":
            http = httpx.AsyncClient(base_url=spec["base_url"], trust_env=False)

            async def call() -> Any:
                return (await http.get(PATIENT_PATH)).json()

            closer = http.aclose
        else:
            client = AsyncClinicalServiceClient(config=config(spec))

            async def call() -> Any:
                return await client.get_patient(PATIENT_ID)

            closer = client.aclose
        try:
            return await timed_gather(call, spec["calls"], spec["warmup"], spec["concurrency"])
        finally:
            await closer()

    return {"per_call_s": asyncio.run(main())}


# -- row 7: sync transports under threads ------------------------------------------------
def threaded(call: Callable[[], Any], calls: int, warmup: int, threads: int) -> float:
    """Seconds of wall time per call with ``threads`` threads sharing ``calls`` calls."""
    if threads == 1:
        return timed_loop(call, calls, warmup)
    share = calls // threads

    def run(n: int) -> None:
        for _ in range(n):
            call()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, [max(1, warmup // threads)] * threads))
        started = time.perf_counter()
        list(pool.map(run, [share] * threads))
        return (time.perf_counter() - started) / (share * threads)


def sync_throughput(spec: Result) -> Result:
    """``get_patient`` on either sync transport vs raw httpx (GET + json()) and raw urllib3
    (GET + json + ``Patient`` validation), one client shared by every thread."""
    kind, threads = spec["kind"], spec["threads"]
    if kind == "raw_httpx":
        http = httpx.Client(base_url=spec["base_url"], trust_env=False)
        call: Callable[[], Any] = lambda: http.get(PATIENT_PATH).json()  # noqa: E731
    elif kind == "raw_urllib3":
        url = urlsplit(spec["base_url"])
        pool = urllib3.HTTPConnectionPool(
            url.hostname or "", url.port, maxsize=max(10, threads), retries=False
        )

        def call() -> Any:
            answer = pool.request("GET", PATIENT_PATH)
            return Patient.model_validate(json.loads(answer.data)["data"])

    else:
        transport = kind.removeprefix("lib_")
        client = ClinicalServiceClient(config=config(spec, sync_transport=transport))
        call = lambda: client.get_patient(PATIENT_ID)  # noqa: E731
    return {"per_call_s": threaded(call, spec["calls"], spec["warmup"], threads)}


# -- row 2: cache hit ------------------------------------------------------------------------
def cache_hit(spec: Result) -> Result:
    n: int = spec["calls"]
    cached = FacilityServiceClient(config=config(spec, name="facility"), cache=FacilityCache())
    uncached = FacilityServiceClient(config=config(spec, name="facility"), cache=False)
    cached.get_facility(FACILITY_ID)  # fills the cache: every timed call is a hit
    hit = timed_loop(lambda: cached.get_facility(FACILITY_ID), n, 1000)
    table = {("facility", FACILITY_ID): cached.get_facility(FACILITY_ID)}
    key = ("facility", FACILITY_ID)
    dict_lookup = timed_loop(lambda: table[key], n, 1000)
    network = timed_loop(lambda: uncached.get_facility(FACILITY_ID), spec["network_calls"], 200)

    async def async_hits() -> float:
        client = AsyncFacilityServiceClient(
            config=config(spec, name="facility"), cache=FacilityCache()
        )
        await client.get_facility(FACILITY_ID)
        for _ in range(1000):
            await client.get_facility(FACILITY_ID)
        started = time.perf_counter()
        for _ in range(n):
            await client.get_facility(FACILITY_ID)
        elapsed = (time.perf_counter() - started) / n
        await client.aclose()
        return elapsed

    return {
        "hit_s": hit,
        "async_hit_s": asyncio.run(async_hits()),
        "dict_s": dict_lookup,
        "network_s": network,
    }


# -- row 3: fail-fast with the breaker open -----------------------------------------------
def _percentiles(samples: list[int]) -> Result:
    samples.sort()
    return {
        "p50_s": samples[len(samples) // 2] / 1e9,
        "p99_s": samples[int(len(samples) * 0.99)] / 1e9,
    }


def fail_fast(spec: Result) -> Result:
    n: int = spec["calls"]
    policy = {
        "retry": RetryPolicy(max_attempts=1),
        "breaker": BreakerPolicy(consecutive_failures=1, reset_timeout=3600),
    }
    clock = time.perf_counter_ns
    out: Result = {}

    client = ClinicalServiceClient(config=config(spec, name="clinical-down", **policy))
    for _ in range(3):  # the first refused connection opens the service's circuit
        with contextlib.suppress(Exception):
            client.get_patient(PATIENT_ID)
    assert client.breaker_state == "open", client.breaker_state
    samples = []
    for _ in range(n):
        started = clock()
        try:  # noqa: SIM105 - suppress() would add its own cost to the timing
            client.get_patient(PATIENT_ID)
        except CircuitOpenError:
            pass
        samples.append(clock() - started)
    out["sync"] = _percentiles(samples)

    async def async_samples() -> list[int]:
        aclient = AsyncClinicalServiceClient(config=config(spec, name="clinical-down", **policy))
        taken = []
        for _ in range(n):
            started = clock()
            try:  # noqa: SIM105 - suppress() would add its own cost to the timing
                await aclient.get_patient(PATIENT_ID)
            except CircuitOpenError:
                pass
            taken.append(clock() - started)
        await aclient.aclose()
        return taken

    out["async"] = _percentiles(asyncio.run(async_samples()))

    naive = naive_stack(spec["base_url"])
    for _ in range(8):  # 5 failures open pybreaker
        with contextlib.suppress(Exception):
            naive()
    samples = []
    for _ in range(n):
        started = clock()
        try:  # noqa: SIM105 - suppress() would add its own cost to the timing
            naive()
        except pybreaker.CircuitBreakerError:
            pass
        samples.append(clock() - started)
    out["naive"] = _percentiles(samples)
    return out


# -- row 4: cold-key stampede --------------------------------------------------------------
class CountingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Forwards to the real server after ``delay`` (a slow Facility) and counts requests."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.count = 0
        self._lock = threading.Lock()
        self._sync = httpx.HTTPTransport()
        self._async = httpx.AsyncHTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.count += 1
        time.sleep(self.delay)
        return self._sync.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.count += 1
        await asyncio.sleep(self.delay)
        return await self._async.handle_async_request(request)


def stampede(spec: Result) -> Result:
    callers, delay = spec["callers"], spec["delay"]
    out: Result = {}

    def threads_run(lookup: Callable[[], Any]) -> None:
        barrier = threading.Barrier(callers)
        errors: list[BaseException] = []

        def one() -> None:
            barrier.wait()
            try:
                lookup()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=one) for _ in range(callers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:3]

    # More than the bulkhead's default (the pool size) would queue behind it: allow all 200.
    wide = {"max_connections": callers, "max_in_flight": callers}
    transport = CountingTransport(delay)
    client = FacilityServiceClient(
        config=config(spec, name="facility-stampede-sync", **wide),
        transport=transport,
        cache=FacilityCache(),
    )
    threads_run(lambda: client.get_facility(FACILITY_ID))
    out["sync_requests"] = transport.count

    async def tasks_run() -> int:
        counting = CountingTransport(delay)
        aclient = AsyncFacilityServiceClient(
            config=config(spec, name="facility-stampede-async", **wide),
            transport=counting,
            cache=FacilityCache(),
        )
        await asyncio.gather(*(aclient.get_facility(FACILITY_ID) for _ in range(callers)))
        await aclient.aclose()
        return counting.count

    out["async_requests"] = asyncio.run(tasks_run())

    # Contrast: a plain dict in front of httpx (check, fetch, store), no single-flight.
    counting = CountingTransport(delay)
    http = httpx.Client(base_url=spec["base_url"], transport=counting)
    table: dict[str, Any] = {}

    def naive_lookup() -> Any:
        if FACILITY_ID not in table:
            table[FACILITY_ID] = http.get(f"/api/v1/facilities/{FACILITY_ID}").json()
        return table[FACILITY_ID]

    threads_run(naive_lookup)
    out["naive_dict_requests"] = counting.count
    return out


# -- row 5: memory with a bounded cache ----------------------------------------------------
def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def rss(spec: Result) -> Result:
    body = facility_envelope()
    stub = httpx.MockTransport(
        lambda request: httpx.Response(
            200, content=body, headers={"Content-Type": "application/json"}
        )
    )
    max_entries = spec["max_entries"]
    client = FacilityServiceClient(
        config=ServiceConfig(name="facility-rss", base_url="http://facility.stub"),
        transport=stub,
        cache=FacilityCache(CachePolicy(max_entries=max_entries)),
    )
    total, every = spec["ids"], spec["sample_every"]
    samples = [(0, _rss_kib())]
    started = time.perf_counter()
    for i in range(1, total + 1):
        client.get_facility(str(uuid.UUID(int=i, version=4)))
        if i % every == 0 or i == max_entries:  # and the moment the cache is full
            gc.collect()
            samples.append((i, _rss_kib()))
    stats = client.cache_stats()
    return {
        "samples": samples,
        "seconds": time.perf_counter() - started,
        "size": stats.size,
        "evictions": stats.evictions,
        "max_entries": max_entries,
    }


VARIANTS: dict[str, Callable[[Result], Result]] = {
    "per_call_sync": per_call_sync,
    "per_call_async": per_call_async,
    "cache_hit": cache_hit,
    "fail_fast": fail_fast,
    "stampede": stampede,
    "rss": rss,
    "sync_throughput": sync_throughput,
}


def main() -> None:
    spec = json.loads(sys.argv[1])
    os.sched_setaffinity(0, {spec["core"]})
    configure_structlog()
    result = VARIANTS[spec["variant"]](spec)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: nothing left to flush, and it is not measured
