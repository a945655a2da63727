"""Prometheus metrics from the library's hooks (extra ``prometheus``: ``prometheus-client``).

    from nilecare_clients.observability.prometheus import PrometheusMetrics
    metrics = PrometheusMetrics()      # registers on prometheus_client's default registry
    metrics.install()                  # start receiving events

Labels use route templates (``/api/v1/patients/{id}``), never concrete paths: a patient id
must never become a label (unbounded cardinality, and PHI in a metrics system).
"""

from __future__ import annotations

from typing import Any

from nilecare_clients import _hooks
from nilecare_clients._hooks import (
    BreakerTransition,
    CacheEvent,
    CallCompleted,
    RequestAttempt,
    RetryScheduled,
)

try:
    from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'Prometheus metrics need the "prometheus" extra: pip install "nilecare-clients[prometheus]"'
    ) from exc

__all__ = ["PrometheusMetrics"]

_BREAKER_VALUES = {"closed": 0, "half-open": 1, "open": 2}
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PrometheusMetrics:
    """The library's metrics; ``install()`` / ``uninstall()`` connect them to the hooks."""

    def __init__(
        self, registry: CollectorRegistry | None = None, prefix: str = "nilecare_client"
    ) -> None:
        registry = registry if registry is not None else REGISTRY
        self.requests = Counter(
            f"{prefix}_requests_total",
            "Request attempts by outcome.",
            ["service", "route", "method", "status_class", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            f"{prefix}_request_duration_seconds",
            "Duration of each attempt (scope=attempt) and of each logical call (scope=call).",
            ["service", "route", "method", "scope"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.retries = Counter(
            f"{prefix}_retries_total",
            "Retries scheduled.",
            ["service", "route", "method"],
            registry=registry,
        )
        self.breaker = Gauge(
            f"{prefix}_breaker_state",
            "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
            ["service"],
            registry=registry,
        )
        self.cache = Counter(
            f"{prefix}_cache_events_total",
            "Facility cache events (hit, miss, stale, coalesced, negative_hit, eviction).",
            ["service", "kind", "event"],
            registry=registry,
        )

    def __call__(self, event: Any) -> None:
        if isinstance(event, RequestAttempt):
            self.requests.labels(
                event.service, event.route, event.method, event.status_class, event.outcome
            ).inc()
            self.duration.labels(event.service, event.route, event.method, "attempt").observe(
                event.duration_s
            )
        elif isinstance(event, CallCompleted):
            self.duration.labels(event.service, event.route, event.method, "call").observe(
                event.duration_s
            )
        elif isinstance(event, RetryScheduled):
            self.retries.labels(event.service, event.route, event.method).inc()
        elif isinstance(event, BreakerTransition):
            self.breaker.labels(event.service).set(_BREAKER_VALUES.get(event.state, -1))
        elif isinstance(event, CacheEvent):
            self.cache.labels(event.service, event.kind, event.event).inc()

    def install(self) -> PrometheusMetrics:
        _hooks.register(self)
        return self

    def uninstall(self) -> None:
        _hooks.unregister(self)
