"""Prometheus metrics from the library's hooks (extra ``prometheus``: ``prometheus-client``).

    from nilecare_clients.observability.prometheus import PrometheusMetrics
    metrics = PrometheusMetrics()      # registers on prometheus_client's default registry
    metrics.install()                  # start receiving events

The breaker gauge is read from the breakers at scrape time (a custom collector), so every
service this process knows has a series from its first client on, healthy or not, and after a
restart. Building ``PrometheusMetrics()`` again for the same registry and prefix is harmless:
it shares the metrics already registered (no "Duplicated timeseries").

Labels use route templates (``/api/v1/patients/{id}``), never concrete paths: a patient id
must never become a label (unbounded cardinality, and PHI in a metrics system).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from typing import Any

from nilecare_clients import _hooks, _state
from nilecare_clients._hooks import (
    CacheEvent,
    CallCompleted,
    RequestAttempt,
    RetryScheduled,
)
from nilecare_clients._resilience.registry import all_states

try:
    from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.registry import Collector
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'Prometheus metrics need the "prometheus" extra: pip install "nilecare-clients[prometheus]"'
    ) from exc

__all__ = ["PrometheusMetrics"]

_BREAKER_VALUES = {"closed": 0, "half-open": 1, "open": 2}
#: Call outcomes that mean "refused by this process, nothing sent", and their reason label.
_REFUSALS = {
    "CircuitOpenError": "circuit_open",
    "ThrottledError": "throttled",
    "BulkheadFullError": "bulkhead_full",
}
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _BreakerCollector(Collector):
    """Read when scraped: ``{prefix}_breaker_state{service}`` for every known service,
    ``{prefix}_route_breaker_state{service,route}`` for every route template a call reported
    on, and ``{prefix}_throttle_probability{service}`` (adaptive throttling)."""

    def __init__(self, name: str) -> None:
        self._name = name
        prefix = name.removesuffix("_breaker_state")
        self._route_name = f"{prefix}_route_breaker_state"
        self._throttle_name = f"{prefix}_throttle_probability"

    def describe(self) -> list[GaugeMetricFamily]:
        return list(self._families())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        service_family, route_family, throttle_family = self._families()
        for service, state in sorted(all_states().items()):
            breaker = state.breaker
            service_family.add_metric([service], _BREAKER_VALUES.get(breaker.state, -1))
            for route, route_state in sorted(breaker.route_states().items()):
                route_family.add_metric([service, route], _BREAKER_VALUES.get(route_state, -1))
            throttle_family.add_metric([service], breaker.rejection_probability())
        yield service_family
        yield route_family
        yield throttle_family

    def _families(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                self._name,
                "Service circuit state: 0 closed, 1 half-open, 2 open.",
                labels=["service"],
            ),
            GaugeMetricFamily(
                self._route_name,
                "Route circuit state by route template: 0 closed, 1 half-open, 2 open.",
                labels=["service", "route"],
            ),
            GaugeMetricFamily(
                self._throttle_name,
                "Probability that adaptive throttling refuses a call locally.",
                labels=["service"],
            ),
        )


# The metrics registered per registry and prefix, so that a second PrometheusMetrics() for the
# same registry shares them instead of failing with "Duplicated timeseries".
_lock = threading.Lock()
_state.lock_reinit_at_fork(_lock)
_registered: weakref.WeakKeyDictionary[CollectorRegistry, dict[str, dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


class PrometheusMetrics:
    """The library's metrics; ``install()`` / ``uninstall()`` connect them to the hooks."""

    def __init__(
        self, registry: CollectorRegistry | None = None, prefix: str = "nilecare_client"
    ) -> None:
        registry = registry if registry is not None else REGISTRY
        with _lock:
            by_prefix = _registered.setdefault(registry, {})
            metrics = by_prefix.get(prefix)
            if metrics is None:
                metrics = by_prefix[prefix] = self._register(registry, prefix)
        self.requests: Counter = metrics["requests"]
        self.duration: Histogram = metrics["duration"]
        self.retries: Counter = metrics["retries"]
        self.breaker: _BreakerCollector = metrics["breaker"]
        self.cache: Counter = metrics["cache"]
        self.refused: Counter = metrics["refused"]

    @staticmethod
    def _register(registry: CollectorRegistry, prefix: str) -> dict[str, Any]:
        breaker = _BreakerCollector(f"{prefix}_breaker_state")
        registry.register(breaker)
        return {
            "breaker": breaker,
            "requests": Counter(
                f"{prefix}_requests_total",
                "Request attempts by outcome.",
                ["service", "route", "method", "status_class", "outcome"],
                registry=registry,
            ),
            "duration": Histogram(
                f"{prefix}_request_duration_seconds",
                "Duration of each attempt (scope=attempt) and of each logical call (scope=call).",
                ["service", "route", "method", "scope"],
                buckets=_BUCKETS,
                registry=registry,
            ),
            "retries": Counter(
                f"{prefix}_retries_total",
                "Retries scheduled.",
                ["service", "route", "method"],
                registry=registry,
            ),
            "refused": Counter(
                f"{prefix}_calls_refused_total",
                "Calls refused locally, never sent (circuit_open, throttled, bulkhead_full).",
                ["service", "route", "method", "reason"],
                registry=registry,
            ),
            "cache": Counter(
                f"{prefix}_cache_events_total",
                "Facility cache events (hit, miss, stale, coalesced, negative_hit, eviction).",
                ["service", "kind", "event"],
                registry=registry,
            ),
        }

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
            reason = _REFUSALS.get(event.outcome)
            if reason is not None:
                self.refused.labels(event.service, event.route, event.method, reason).inc()
        elif isinstance(event, RetryScheduled):
            self.retries.labels(event.service, event.route, event.method).inc()
        elif isinstance(event, CacheEvent):
            self.cache.labels(event.service, event.kind, event.event).inc()

    def install(self) -> PrometheusMetrics:
        _hooks.register(self)
        return self

    def uninstall(self) -> None:
        _hooks.unregister(self)
