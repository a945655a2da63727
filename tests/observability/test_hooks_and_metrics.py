"""Hooks receive frozen events; Prometheus metrics read back from a registry; ids never labels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from nilecare_clients import (
    AsyncClinicalServiceClient,
    AsyncFacilityServiceClient,
    ClinicalServiceClient,
    FacilityServiceClient,
    ServiceConfig,
    ServiceError,
    _state,
)
from nilecare_clients.observability import (
    BreakerTransition,
    CacheEvent,
    CallCompleted,
    RequestAttempt,
    RetryScheduled,
    register_hook,
    unregister_hook,
)
from nilecare_clients.observability.prometheus import PrometheusMetrics
from nilecare_clients.testing import FakeClinicalService, FakeFacilityService, set_testing
from support import call


@pytest.fixture
def events() -> Iterator[list[Any]]:
    seen: list[Any] = []
    register_hook(seen.append)
    yield seen
    unregister_hook(seen.append)


def clinical(kind: str, fake: FakeClinicalService, config: ServiceConfig) -> Any:
    cls = ClinicalServiceClient if kind == "sync" else AsyncClinicalServiceClient
    return cls(
        config=config.model_copy(update={"idempotency_keys_honoured": True}),
        transport=fake.transport(),
    )


def facility(kind: str, fake: FakeFacilityService) -> Any:
    cls = FacilityServiceClient if kind == "sync" else AsyncFacilityServiceClient
    return cls(
        config=ServiceConfig(name="facility", base_url="http://facility.fake"),
        transport=fake.transport(),
    )


def test_no_hooks_means_no_events_built() -> None:
    """With nothing registered the core's flag is off, so no event object is ever made."""
    assert _state.observers.active is False


async def test_attempt_retry_and_call_events(
    client_kind: str, config: ServiceConfig, events: list[Any]
) -> None:
    """A call that fails once then succeeds reports two attempts, one retry and one completed call."""
    fake = FakeClinicalService()
    patient = fake.create_patient()
    fake.faults.fail_next(1, status=503)
    await call(clinical(client_kind, fake, config).get_patient(patient["id"]))
    attempts = [e for e in events if isinstance(e, RequestAttempt)]
    assert [(a.attempt, a.status_code, a.outcome, a.status_class) for a in attempts] == [
        (1, 503, "ServiceUnavailableError", "5xx"),
        (2, 200, "success", "2xx"),
    ]
    assert all(a.route == "/api/v1/patients/{id}" for a in attempts)
    (retry,) = [e for e in events if isinstance(e, RetryScheduled)]
    assert (retry.next_attempt, retry.error) == (2, "ServiceUnavailableError")
    (done,) = [e for e in events if isinstance(e, CallCompleted)]
    assert (done.attempts, done.status_code, done.outcome) == (2, 200, "success")
    assert done.correlation_id == attempts[0].correlation_id == attempts[1].correlation_id


async def test_breaker_and_cache_events(
    client_kind: str, config: ServiceConfig, events: list[Any]
) -> None:
    """Breaker transitions and cache hits/misses/stale serves arrive as events."""
    fake = FakeClinicalService()
    fake.faults.reset_connection(15)  # the service is gone: 15 calls without an answer
    client = clinical(client_kind, fake, config)
    with set_testing(attempts=1):
        for _ in range(15):
            with pytest.raises(ServiceError):
                await call(client.get_patients_count())
    assert [e for e in events if isinstance(e, BreakerTransition)] == [
        BreakerTransition("clinical", "closed", "open")
    ]
    fake_facility = FakeFacilityService()
    stored = fake_facility.create_facility()
    facilities = facility(client_kind, fake_facility)
    await call(facilities.get_facility(stored["facilityId"]))
    await call(facilities.get_facility(stored["facilityId"]))
    cache = [(e.kind, e.event) for e in events if isinstance(e, CacheEvent)]
    assert cache == [("facility", "miss"), ("facility", "hit")]


async def test_a_failing_hook_never_fails_the_call(client_kind: str, config: ServiceConfig) -> None:
    """A hook that raises is logged and ignored; the call returns its value."""

    def broken(event: Any) -> None:
        raise RuntimeError("metrics backend down")

    register_hook(broken)
    try:
        fake = FakeClinicalService()
        patient = fake.create_patient()
        assert (
            await call(clinical(client_kind, fake, config).get_patient(patient["id"]))
        ).id == patient["id"]
    finally:
        unregister_hook(broken)


async def test_prometheus_metrics_use_route_templates_only(
    client_kind: str, config: ServiceConfig
) -> None:
    """Counters, histograms and gauges read back from the registry; no label holds a requested id."""
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry).install()
    try:
        fake = FakeClinicalService()
        ids = [fake.create_patient()["id"] for _ in range(3)]
        fake.faults.fail_next(1, status=503)
        client = clinical(client_kind, fake, config)
        for patient_id in ids:
            await call(client.get_patient(patient_id))
        missing = "0e3f2a1b-9c8d-4e7f-8a6b-5c4d3e2f1a0b"
        with pytest.raises(ServiceError):
            await call(client.get_patient(missing))
        labels = {"service": "clinical", "route": "/api/v1/patients/{id}", "method": "GET"}
        value = registry.get_sample_value
        assert (
            value(
                "nilecare_client_requests_total",
                {**labels, "status_class": "2xx", "outcome": "success"},
            )
            == 3
        )
        assert (
            value(
                "nilecare_client_requests_total",
                {**labels, "status_class": "5xx", "outcome": "ServiceUnavailableError"},
            )
            == 1
        )
        assert (
            value(
                "nilecare_client_requests_total",
                {**labels, "status_class": "4xx", "outcome": "NotFoundError"},
            )
            == 1
        )
        assert value("nilecare_client_retries_total", labels) == 1
        assert (
            value("nilecare_client_request_duration_seconds_count", {**labels, "scope": "attempt"})
            == 5
        )
        assert (
            value("nilecare_client_request_duration_seconds_count", {**labels, "scope": "call"})
            == 4
        )
        label_values = {
            v
            for family in registry.collect()
            for sample in family.samples
            for v in sample.labels.values()
        }
        for requested in [*ids, missing]:
            assert not any(requested in v for v in label_values)
    finally:
        metrics.uninstall()


def test_breaker_gauge_follows_transitions(config: ServiceConfig) -> None:
    """The breaker gauge reads 2 while open and 0 once closed again."""
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry).install()
    try:
        fake = FakeClinicalService()
        client = clinical("sync", fake, config)
        fake.faults.reset_connection(15)  # the service is gone: 15 calls without an answer
        with set_testing(attempts=1):
            for _ in range(15):
                with pytest.raises(ServiceError):
                    client.get_patients_count()
        assert (
            registry.get_sample_value("nilecare_client_breaker_state", {"service": "clinical"}) == 2
        )
        client._core.breaker.reset()
        assert (
            registry.get_sample_value("nilecare_client_breaker_state", {"service": "clinical"}) == 0
        )
    finally:
        metrics.uninstall()


def test_events_are_frozen() -> None:
    """Hook events are plain frozen dataclasses that any consumer can read but not change."""
    event = RequestAttempt("clinical", "GET", "/x", 1, None, "ServiceTimeoutError", 0.5, "c-1")
    assert event.status_class == "none"
    with pytest.raises(AttributeError):
        event.attempt = 2  # type: ignore[misc]


def test_breaker_gauge_exists_from_the_first_client_without_a_transition(
    config: ServiceConfig,
) -> None:
    """A healthy service has a breaker_state series (0) as soon as a client exists, even when the
    metrics were installed after its last transition: the gauge is read at scrape time."""
    registry = CollectorRegistry()
    clinical("sync", FakeClinicalService(), config)
    PrometheusMetrics(registry)  # not even installed: nothing to hear, the collector reads
    assert registry.get_sample_value("nilecare_client_breaker_state", {"service": "clinical"}) == 0


def test_breaker_gauge_reads_at_scrape_a_state_reached_before_the_metrics(
    config: ServiceConfig,
) -> None:
    """A breaker that opened before PrometheusMetrics existed reads 2 at the first scrape; after
    reset_state() (as after a restart) the forgotten service has no series, and the next
    client's service reads 0 from its first call."""
    from nilecare_clients.testing import reset_state

    fake = FakeClinicalService()
    client = clinical("sync", fake, config)
    fake.faults.reset_connection(15)  # the service is gone: 15 calls without an answer
    with set_testing(attempts=1):
        for _ in range(15):
            with pytest.raises(ServiceError):
                client.get_patients_count()
    registry = CollectorRegistry()
    PrometheusMetrics(registry)
    labels = {"service": "clinical"}
    assert registry.get_sample_value("nilecare_client_breaker_state", labels) == 2
    reset_state()
    assert registry.get_sample_value("nilecare_client_breaker_state", labels) is None
    healthy = FakeClinicalService()
    assert clinical("sync", healthy, config).get_patients_count() >= 0
    assert registry.get_sample_value("nilecare_client_breaker_state", labels) == 0


def test_building_the_metrics_twice_is_harmless() -> None:
    """A second PrometheusMetrics() on one registry shares the first one's metrics instead of
    failing with "Duplicated timeseries"; another prefix gets its own."""
    registry = CollectorRegistry()
    first = PrometheusMetrics(registry)
    second = PrometheusMetrics(registry)
    assert second.requests is first.requests and second.breaker is first.breaker
    other = PrometheusMetrics(registry, prefix="other")
    assert other.requests is not first.requests


def test_default_registry_metrics_can_be_built_twice() -> None:
    """On prometheus_client's default registry too (the case that used to raise)."""
    assert PrometheusMetrics().requests is PrometheusMetrics().requests
