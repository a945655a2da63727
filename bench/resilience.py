"""Resilience benchmark: nilecare-clients against a hand-rolled wrapper and raw httpx.

Not a test: it prints a table (and writes ``bench/results/resilience.md``). Everything runs on
loopback against ``_fault_server.FaultServer``, which answers 503 for a seeded random share of
requests (or all of them: a total outage) and counts every request it receives.

Contenders, all synchronous, all calling ``GET /api/v1/patients/{id}``:

* **nilecare-clients** with its defaults, except the timings scaled down so the run is short
  (breaker reset timeout and backoff, stated in the output);
* **nilecare-clients, ride-out**: the configuration a team would choose to ride out a flaky
  dependency (5 attempts, a 50 % retry budget, a breaker judging over 100 calls);
* **naive**: what a team writes by hand: tenacity (3 attempts, full-jitter exponential backoff,
  retry on any httpx error) around a pybreaker ``CircuitBreaker`` (5 failures, same reset);
* **raw httpx**: no resilience at all.

Run: ``.venv/bin/python bench/resilience.py`` (about a minute).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pybreaker
import structlog
import tenacity

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fault_server import FaultServer

from nilecare_clients import (
    AsyncBaseServiceClient,
    BaseServiceClient,
    BreakerPolicy,
    CircuitOpenError,
    RetryPolicy,
    ServiceConfig,
    ServiceError,
)
from nilecare_clients.testing import reset_state

# Timings scaled down from production so the whole run takes about a minute.
RESET_TIMEOUT = 1.0  # breaker reset timeout, every contender (library default: 30 s)
BACKOFF_BASE = 0.02  # first retry waits up to this (library default: 0.1 s)
BACKOFF_CAP = 0.4  # (library default: 2 s)
PACE = 0.002  # seconds between offered calls
ROUTE = "/api/v1/patients/{id}"
RESULTS = Path(__file__).resolve().parent / "results" / "resilience.md"

# A production-like logging set-up: warnings are processed and rendered, then discarded, so
# their cost is counted but the terminal stays readable. Debug events are filtered out.
structlog.configure(
    processors=[
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.processors.JSONRenderer(),
    ],
    wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    logger_factory=structlog.ReturnLoggerFactory(),
)


class PatientReader(BaseServiceClient):
    """A typed client with one method, as the Clinical client declares its endpoints."""

    def get_patient(self, patient_id: str) -> Any:
        return self._request("GET", ROUTE, path_params={"id": patient_id})


class AsyncPatientReader(AsyncBaseServiceClient):
    async def get_patient(self, patient_id: str) -> Any:
        return await self._request("GET", ROUTE, path_params={"id": patient_id})


# -- contenders ----------------------------------------------------------------------------
class Caller:
    name = ""

    def call(self) -> bool:
        """One offered call; True when the caller got its answer."""
        raise NotImplementedError

    def close(self) -> None:
        pass


def library_config(url: str, *, ride_out: bool, breaker: bool, reset: float) -> ServiceConfig:
    retry: dict[str, Any] = {"backoff_base": BACKOFF_BASE, "backoff_cap": BACKOFF_CAP}
    policy: dict[str, Any] = {"enabled": breaker, "reset_timeout": reset}
    if ride_out:
        retry.update(max_attempts=5, budget_ratio=0.5)
        policy.update(window_size=100, minimum_calls=100, consecutive_failures=10)
    return ServiceConfig(
        name="clinical", base_url=url, retry=RetryPolicy(**retry), breaker=BreakerPolicy(**policy)
    )


class Library(Caller):
    def __init__(
        self,
        url: str,
        *,
        ride_out: bool = False,
        breaker: bool = True,
        reset: float = RESET_TIMEOUT,
    ) -> None:
        reset_state()  # a fresh breaker and budget for each scenario
        self.name = "nilecare-clients" + (", ride-out" if ride_out else "")
        self.client = PatientReader(
            config=library_config(url, ride_out=ride_out, breaker=breaker, reset=reset)
        )

    def call(self) -> bool:
        try:
            self.client.get_patient("p-1")
        except ServiceError:
            return False
        return True

    @property
    def is_open(self) -> bool:
        return self.client.breaker_state == "open"

    def close(self) -> None:
        self.client.close()


class Naive(Caller):
    """tenacity around pybreaker around httpx, as commonly written by hand."""

    name = "naive (tenacity + pybreaker)"

    def __init__(self, url: str, *, breaker: bool = True, reset: float = RESET_TIMEOUT) -> None:
        self.http = httpx.Client(base_url=url, timeout=5.0)
        self.breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=reset)
        self.use_breaker = breaker

    def _once(self) -> Any:
        response = self.http.get("/api/v1/patients/p-1")
        response.raise_for_status()
        return response.json()

    @tenacity.retry(
        stop=tenacity.stop_after_attempt(3),
        wait=tenacity.wait_random_exponential(multiplier=BACKOFF_BASE / 2, max=BACKOFF_CAP),
        retry=tenacity.retry_if_exception_type(httpx.HTTPError),
        reraise=True,
    )
    def get_patient(self) -> Any:
        if self.use_breaker:
            return self.breaker.call(self._once)
        return self._once()

    def call(self) -> bool:
        try:
            self.get_patient()
        except (httpx.HTTPError, pybreaker.CircuitBreakerError):
            return False
        return True

    @property
    def is_open(self) -> bool:
        return bool(self.breaker.current_state == pybreaker.STATE_OPEN)

    def close(self) -> None:
        self.http.close()


class Raw(Caller):
    name = "raw httpx"

    def __init__(self, url: str, **_: Any) -> None:
        self.http = httpx.Client(base_url=url, timeout=5.0)

    def call(self) -> bool:
        try:
            return self.http.get("/api/v1/patients/p-1").status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        self.http.close()


# -- scenarios -----------------------------------------------------------------------------
def offer(caller: Caller, calls: int) -> int:
    ok = 0
    for _ in range(calls):
        ok += caller.call()
        time.sleep(PACE)
    return ok


def outage_amplification(server: FaultServer, caller: Caller, calls: int) -> float:
    """Downstream requests per offered call while every request fails."""
    server.set_faults(1.0)
    before = server.requests
    offer(caller, calls)
    caller.close()
    return (server.requests - before) / calls


def success_rate(server: FaultServer, caller: Caller, rate: float, calls: int) -> float:
    server.set_faults(rate, seed=int(rate * 100))
    ok = offer(caller, calls)
    caller.close()
    return ok / calls


@dataclass
class Latency:
    p50_us: float
    p99_us: float
    requests_sent: int


def percentiles(samples: list[float], requests_sent: int) -> Latency:
    samples.sort()
    return Latency(
        samples[len(samples) // 2] * 1e6, samples[int(len(samples) * 0.99)] * 1e6, requests_sent
    )


def open_it(server: FaultServer, caller: Any) -> None:
    server.set_faults(1.0)
    for _ in range(50):
        caller.call()
        if caller.is_open:
            return
    raise RuntimeError(f"{caller.name}: the breaker did not open")


def fail_fast(server: FaultServer, caller: Any, samples: int = 20_000) -> Latency:
    """Latency of calls while the breaker is open (reset timeout long enough not to probe)."""
    open_it(server, caller)
    before = server.requests
    timings = []
    clock = time.perf_counter
    for _ in range(samples):
        started = clock()
        caller.call()
        timings.append(clock() - started)
    result = percentiles(timings, server.requests - before)
    caller.close()
    return result


def fail_fast_async(server: FaultServer, samples: int = 20_000) -> Latency:
    reset_state()
    config = library_config(server.url, ride_out=False, breaker=True, reset=600.0)

    async def run() -> Latency:
        async with AsyncPatientReader(config=config) as client:
            server.set_faults(1.0)
            while client.breaker_state != "open":
                with contextlib.suppress(ServiceError):
                    await client.get_patient("p-1")
            before = server.requests
            timings = []
            rejected = 0
            clock = time.perf_counter
            for _ in range(samples):
                started = clock()
                try:
                    await client.get_patient("p-1")
                except CircuitOpenError:
                    rejected += 1
                timings.append(clock() - started)
            assert rejected == samples
            return percentiles(timings, server.requests - before)

    return asyncio.run(run())


def failing_round_trip(server: FaultServer, samples: int = 2_000) -> Latency:
    """Raw httpx has no breaker: each call during an outage is a 503 round trip."""
    server.set_faults(1.0)
    raw = Raw(server.url)
    before = server.requests
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        raw.call()
        timings.append(time.perf_counter() - started)
    raw.close()
    return percentiles(timings, server.requests - before)


def recovery_time(server: FaultServer, caller: Caller, outage: float = 1.5) -> float:
    """Seconds from the end of an outage until the caller gets answers again."""
    server.set_faults(1.0)
    ends = time.monotonic() + outage
    while time.monotonic() < ends:
        caller.call()
        time.sleep(PACE)
    server.set_faults(0.0)
    healthy_since = time.monotonic()
    while not caller.call():
        time.sleep(PACE)
        if time.monotonic() - healthy_since > 30:
            return float("inf")
    recovered = time.monotonic() - healthy_since
    caller.close()
    return recovered


# -- report --------------------------------------------------------------------------------
def fmt_ratio(value: float) -> str:
    return f"{value:.3f}"


def fmt_latency(value: Latency) -> str:
    sent = "no I/O" if value.requests_sent == 0 else f"{value.requests_sent} requests sent"
    return f"{value.p50_us:.1f} / {value.p99_us:.1f} µs ({sent})"


def main() -> None:
    started = time.monotonic()
    columns = ["nilecare-clients", "nilecare-clients, ride-out", "naive", "raw httpx"]
    rows: list[tuple[str, list[str], str]] = []
    with FaultServer() as server:
        url = server.url

        def makers(breaker: bool = True) -> list[Callable[[], Caller]]:
            return [
                lambda: Library(url, breaker=breaker),
                lambda: Library(url, ride_out=True, breaker=breaker),
                lambda: Naive(url, breaker=breaker),
                lambda: Raw(url),
            ]

        print("outage amplification ...", flush=True)
        rows.append(
            (
                "Total outage: downstream requests / offered call (breaker on), 500 calls",
                [fmt_ratio(outage_amplification(server, make(), 500)) for make in makers()],
                "≤ 1.1",
            )
        )
        rows.append(
            (
                "Total outage: downstream requests / offered call (breaker off: retries only), "
                "300 calls",
                [fmt_ratio(outage_amplification(server, make(), 300)) for make in makers(False)],
                "≤ 1.1 (+ floor)",
            )
        )

        print("fail-fast latency ...", flush=True)
        sync_ours = fail_fast(server, Library(url, reset=600.0))
        async_ours = fail_fast_async(server)
        naive = fail_fast(server, Naive(url, reset=600.0))
        raw = failing_round_trip(server)
        rows.append(
            (
                "Fail-fast while open, p50 / p99 (sync)",
                [fmt_latency(sync_ours), "(same code path)", fmt_latency(naive), fmt_latency(raw)],
                "p99 ≤ 50 µs, no I/O",
            )
        )
        rows.append(
            (
                "Fail-fast while open, p50 / p99 (async)",
                [fmt_latency(async_ours), "(same code path)", "n/a (pybreaker is sync)", "n/a"],
                "p99 ≤ 50 µs, no I/O",
            )
        )

        for rate in (0.1, 0.3, 0.5):
            print(f"success rate at {rate:.0%} 503s ...", flush=True)
            rows.append(
                (
                    f"Caller success rate, {rate:.0%} injected 503s, 400 calls",
                    [f"{success_rate(server, make(), rate, 400):.1%}" for make in makers()],
                    "",
                )
            )

        print("recovery ...", flush=True)
        rows.append(
            (
                "Time to recover after a 1.5 s outage ends",
                [f"{recovery_time(server, make()):.3f} s" for make in makers()],
                f"≤ reset timeout ({RESET_TIMEOUT:g} s)",
            )
        )

    elapsed = time.monotonic() - started
    header = "| Measure | " + " | ".join(columns) + " | Goal |"
    rule = "|" + "---|" * (len(columns) + 2)
    table = [header, rule] + [
        f"| {name} | " + " | ".join(values) + f" | {goal} |" for name, values, goal in rows
    ]
    notes = [
        "",
        f"Loopback, one caller, a call every {PACE * 1000:g} ms. Breaker reset timeout "
        f"{RESET_TIMEOUT:g} s for every contender (library default 30 s; 600 s in the fail-fast "
        f"rows so no probe runs while measuring); backoff base {BACKOFF_BASE:g} s, cap "
        f"{BACKOFF_CAP:g} s (defaults 0.1 s / 2 s). Everything else is the library default: "
        "3 attempts, 10 % retry budget + 1 retry/s floor over 10 s, breaker at 5 consecutive "
        "failures or ≥ 50 % of the last 20 calls (minimum 10).",
        "Ride-out: 5 attempts, 50 % retry budget, breaker over the last 100 calls (minimum "
        "100), 10 consecutive failures.",
        "Naive: tenacity 3 attempts (random exponential backoff, same base and cap, retry on any "
        "httpx error) around pybreaker.CircuitBreaker(fail_max=5).",
        "structlog filters below WARNING; warnings are rendered to JSON and discarded.",
        f"Python {sys.version.split()[0]}, httpx {httpx.__version__}, "
        f"tenacity {version('tenacity')}, pybreaker {version('pybreaker')}. "
        f"Run time {elapsed:.0f} s.",
    ]
    text = "\n".join(table + notes)
    print()
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("# Resilience benchmark\n\n" + text + "\n", encoding="utf-8")
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
