"""The library's one structlog logger and the rule for what may go in an event.

Events are namespaced (``nilecare_clients.request``, ``nilecare_clients.retry_scheduled``,
``nilecare_clients.breaker_opened`` ...). Fields come from an allow-list: service, method,
route *template*, status, duration, attempt, correlation id, outcome, error class and code.
Never a body, a query value, a path id, a header value or a secret: a patient search carries a
name in its query and a patient id is PHI-adjacent, so neither may reach a log aggregator.
"""

from __future__ import annotations

from typing import Any

import structlog

__all__ = ["ALLOWED_FIELDS", "emit", "logger"]

logger: Any = structlog.get_logger("nilecare_clients")

ALLOWED_FIELDS = frozenset(
    {
        "service",
        "method",
        "route",
        "status",
        "duration_ms",
        "attempt",
        "correlation_id",
        "outcome",
        "error",
        "error_code",
        "delay_s",
        "retry_after_s",
        "state",
        "previous_state",
        "reason",
        "in_flight",
        "replacement",
        "count",
    }
)


def emit(level: str, event: str, **fields: Any) -> None:
    """Log ``event`` with only allow-listed fields (anything else is dropped, not logged)."""
    safe = {k: v for k, v in fields.items() if k in ALLOWED_FIELDS}
    getattr(logger, level)(event, **safe)
