"""Observability: hooks for any metrics system, breaker and cache state for health endpoints,
and access-audit events (Prometheus and OpenTelemetry integrations are in the submodules
``prometheus`` and ``otel``, installed with the extras of the same names)."""

from nilecare_clients._hooks import (
    BreakerTransition,
    CacheEvent,
    CallCompleted,
    Hook,
    RequestAttempt,
    RetryScheduled,
)
from nilecare_clients._hooks import register as register_hook
from nilecare_clients._hooks import unregister as unregister_hook
from nilecare_clients.observability.audit import AUDIT_LOGGER_NAME, acting_user, set_caller
from nilecare_clients.observability.health import (
    dependencies_health,
    health_asgi_app,
    health_wsgi_app,
)

__all__ = [
    "AUDIT_LOGGER_NAME",
    "BreakerTransition",
    "CacheEvent",
    "CallCompleted",
    "Hook",
    "RequestAttempt",
    "RetryScheduled",
    "acting_user",
    "dependencies_health",
    "health_asgi_app",
    "health_wsgi_app",
    "register_hook",
    "set_caller",
    "unregister_hook",
]
