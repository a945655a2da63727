"""``nilecare-clients demo``: a billing run against both fakes on loopback, through bad weather.

The fakes go through four phases: healthy, 30 % errors (Clinical answers 503s and sometimes
commits a new patient and then answers 500), a Clinical and Facility outage (every connection
reset: the services are gone), and recovery. For every invoice the run looks up the patient
and the facility through the real clients; every tenth invoice registers a walk-in patient.
The summary shows what the library did: retries, circuit transitions (service, or route),
calls shed by adaptive throttling, cache hits and stale serves, latency per phase, invoices
completed / failed fast, and duplicated patients, which must be zero. The 30 % phase shows the
difference the throttle makes: no circuit opens on chance, and the share completed is compared
with what no resilience at all would complete. Needs the ``testing`` extra (the fakes).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator, MutableMapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog

from nilecare_clients import (
    BreakerPolicy,
    CachePolicy,
    CircuitOpenError,
    ClinicalServiceClient,
    FacilityServiceClient,
    NileCareError,
    RetryPolicy,
    ServiceConfig,
    ThrottledError,
    correlation_scope,
)
from nilecare_clients.testing import reset_state
from nilecare_clients.testing.fakes import Factories, FakeClinicalService, FakeFacilityService

__all__ = ["run_demo"]

PHASES = ("healthy", "30% errors", "outage", "recovery")


@dataclass
class _Tally:
    started: float = field(default_factory=time.monotonic)
    events: Counter[str] = field(default_factory=Counter)
    transitions: list[tuple[float, str, str, str | None]] = field(default_factory=list)

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
        """A structlog processor: count the library's events, record transitions, print none."""
        name = str(event.get("event", ""))
        self.events[name] += 1
        if name.startswith("nilecare_clients.breaker_"):
            elapsed = time.monotonic() - self.started
            route = event.get("route")
            self.transitions.append(
                (
                    elapsed,
                    str(event.get("service")),
                    str(event.get("state")),
                    None if route is None else str(route),
                )
            )
        raise structlog.DropEvent


@dataclass
class _Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    completed: int = 0
    failed_fast: int = 0
    shed: int = 0
    failed: int = 0
    stale: int = 0


@contextmanager
def _quiet_structlog(tally: _Tally) -> Iterator[None]:
    previous = structlog.get_config()
    structlog.configure(processors=[tally], cache_logger_on_first_use=False)
    try:
        yield
    finally:
        structlog.configure(**previous)


def _progress(done: int, total: int, phase: str) -> None:
    if not sys.stderr.isatty():
        return
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {phase:<11}")
    sys.stderr.flush()


def _configs(
    clinical_url: str, facility_url: str, seed: int
) -> tuple[ServiceConfig, ServiceConfig]:
    rng = random.Random(seed)  # noqa: S311 - backoff jitter for a demo
    retry = RetryPolicy(backoff_base=0.01, backoff_cap=0.05, jitter=rng.random)
    breaker = BreakerPolicy(reset_timeout=0.5)
    common: dict[str, Any] = {
        "read_timeout": 1.0,
        "deadline": 3.0,
        "retry": retry,
        "breaker": breaker,
        "idempotency_keys_honoured": True,  # the fakes honour Idempotency-Key
    }
    return (
        ServiceConfig(name="clinical", base_url=clinical_url, **common),
        ServiceConfig(name="facility", base_url=facility_url, **common),
    )


def run_demo(invoices: int = 300, seed: int = 7, duration: float | None = None) -> int:
    """Run the billing workload; returns the exit code (non-zero if an invariant broke)."""
    if invoices < 20:
        print("--invoices must be at least 20", file=sys.stderr)
        return 2
    reset_state()
    rng = random.Random(seed)  # noqa: S311 - workload choices
    pace = (duration / invoices) if duration else 0.01
    tally = _Tally()
    fake_clinical, fake_facility = FakeClinicalService(seed=seed), FakeFacilityService(seed=seed)
    phases = [_Phase(name) for name in PHASES]
    walk_ins = 0
    with ExitStack() as stack:
        clinical_url = stack.enter_context(fake_clinical.serve())
        facility_url = stack.enter_context(fake_facility.serve())
        stack.enter_context(_quiet_structlog(tally))
        clinical_cfg, facility_cfg = _configs(clinical_url, facility_url, seed)
        clinical = stack.enter_context(ClinicalServiceClient(config=clinical_cfg))
        facility = stack.enter_context(
            FacilityServiceClient(config=facility_cfg, cache_policy=CachePolicy(facility_ttl=0.3))
        )
        print(f"fakes on {clinical_url} (clinical) and {facility_url} (facility)")
        factories = Factories(seed)  # a deterministic sequence with unique codes and phones
        patients = [clinical.create_patient(factories.patient()).id for _ in range(40)]
        facilities = [facility.create_facility(factories.facility()).facility_id for _ in range(5)]
        registered = len(patients)
        per_phase = invoices // len(PHASES)
        for number in range(invoices):
            index = min(number // per_phase, len(PHASES) - 1)
            phase = phases[index]
            if number == per_phase * index and number:
                _enter_phase(PHASES[index], fake_clinical, fake_facility, seed)
            started = time.perf_counter()
            try:
                with correlation_scope(f"invoice-{number}"):
                    site = facility.lookup_facility(rng.choice(facilities))
                    phase.stale += site.stale
                    clinical.get_patient(rng.choice(patients))
                    if number % 10 == 0:
                        patients.append(clinical.create_patient(factories.patient()).id)
                        walk_ins += 1
                phase.completed += 1
            except CircuitOpenError:
                phase.failed_fast += 1
            except ThrottledError:
                phase.shed += 1
            except NileCareError:
                phase.failed += 1
            phase.latencies.append((time.perf_counter() - started) * 1000)
            _progress(number + 1, invoices, phase.name)
            time.sleep(pace)
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        stored = clinical.get_patients_count()
        cache = facility.cache_stats()
        breaker_states = (clinical.breaker_state, facility.breaker_state)
    duplicated = _duplicated_writes(fake_clinical)
    unknown = stored - (registered + walk_ins)
    _print_summary(phases, tally, cache, duplicated, stored, breaker_states)
    print(f"walk-ins whose create raised but was applied (outcome unknown, reconcile): {unknown}")
    broken = []
    if duplicated != 0:
        broken.append(f"{duplicated} duplicated patient(s)")
    if phases[0].failed or phases[0].failed_fast:
        broken.append("failures while both services were healthy")
    if breaker_states != ("closed", "closed"):
        broken.append(f"breakers did not close after recovery: {breaker_states}")
    if broken:
        print("INVARIANT BROKEN: " + "; ".join(broken))
        return 1
    print("all invariants held")
    return 0


def _enter_phase(name: str, clinical: Any, facility: Any, seed: int) -> None:
    if name == "30% errors":
        clinical.faults.error_rate(0.3, status=503, seed=seed)
        clinical.faults.commit_then_fail(2, status=500, method="POST")
        facility.faults.error_rate(0.3, status=503, seed=seed + 1)
    elif name == "outage":
        # Gone, not degraded: every connection is reset, which opens the service circuits.
        clinical.faults.clear()
        facility.faults.clear()
        clinical.faults.reset_connection(1_000_000)
        facility.faults.reset_connection(1_000_000)
    elif name == "recovery":
        clinical.faults.clear()
        facility.faults.clear()


def _duplicated_writes(fake: Any) -> int:
    """Records written more than once for one logical create (one Idempotency-Key)."""
    writes: Counter[str | None] = Counter()
    for entry in fake.journal:
        if entry.method != "POST" or entry.path != "/api/v1/patients" or entry.replayed:
            continue
        if entry.status == 201 or entry.fault == "commit_then_fail":
            writes[entry.idempotency_key] += 1
    return sum(count - 1 for count in writes.values())


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _print_summary(
    phases: list[_Phase],
    tally: _Tally,
    cache: Any,
    duplicated: int,
    stored: int,
    breaker_states: tuple[str, str],
) -> None:
    print()
    print(
        f"{'phase':<12}{'invoices':>9}{'completed':>11}{'failed fast':>13}{'shed':>6}"
        f"{'failed':>8}{'stale':>7}{'p50 ms':>9}{'p99 ms':>9}"
    )
    for p in phases:
        total = p.completed + p.failed_fast + p.shed + p.failed
        p50 = statistics.median(p.latencies) if p.latencies else 0.0
        print(
            f"{p.name:<12}{total:>9}{p.completed:>11}{p.failed_fast:>13}{p.shed:>6}"
            f"{p.failed:>8}{p.stale:>7}{p50:>9.2f}{_percentile(p.latencies, 0.99):>9.2f}"
        )
    brownout = phases[1]
    offered = brownout.completed + brownout.failed_fast + brownout.shed + brownout.failed
    if offered:
        # An invoice needs a Clinical read (70 % without retries) and usually a Facility read
        # (70 %, or a cache hit): no resilience at all completes about half of them.
        print(
            f"30% errors: {brownout.completed / offered:.0%} completed, "
            f"{brownout.failed_fast} failed fast by an open circuit, {brownout.shed} shed by the "
            "throttle (without retries, circuits or cache: about 49 %; with the old "
            "all-or-nothing breaker a chance trip failed every invoice for 30 s)"
        )
    events = tally.events
    print()
    print(
        f"requests logged: {events['nilecare_clients.request']}   "
        f"retries: {events['nilecare_clients.retry_scheduled']}   "
        f"retry budget exhausted: {events['nilecare_clients.retry_budget_exhausted']}"
    )
    print(
        f"facility cache: {cache.hits} hits, {cache.misses} misses, {cache.stale_serves} stale "
        f"serves, {cache.coalesced_waits} coalesced, size {cache.size}"
    )
    print("breaker transitions:")
    for elapsed, service, state, route in tally.transitions:
        where = service if route is None else f"{service} route {route}"
        print(f"  +{elapsed:6.2f}s  {where:<9} -> {state}")
    print(f"breakers at the end: clinical {breaker_states[0]}, facility {breaker_states[1]}")
    print(f"patients stored: {stored}; written twice for one create: {duplicated}")
