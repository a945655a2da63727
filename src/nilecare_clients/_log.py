"""The library's one structlog logger and the rule for what may go in an event.

Events are namespaced (``nilecare_clients.request``, ``nilecare_clients.retry_scheduled``,
``nilecare_clients.breaker_opened`` ...). Fields come from an allow-list: service, method,
route *template*, status, duration, attempt, correlation id, outcome, error class and code.
Never a body, a query value, a path id, a header value or a secret: a patient search carries a
name in its query and a patient id is PHI-adjacent, so neither may reach a log aggregator.

A library must not configure logging for its host. When the application has configured
structlog, events go through structlog (``structlog.get_logger("nilecare_clients")``); when it
has not, they go to the standard ``logging`` logger ``nilecare_clients``, which is silent below
WARNING until the application sets up logging, instead of structlog's default of printing every
debug line to stdout.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

__all__ = ["ALLOWED_FIELDS", "emit", "logger", "stdlib_logger"]

logger: Any = structlog.get_logger("nilecare_clients")
stdlib_logger = logging.getLogger("nilecare_clients")
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

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
    if structlog.is_configured():
        getattr(logger, level)(event, **{k: v for k, v in fields.items() if k in ALLOWED_FIELDS})
        return
    number = _LEVELS[level]
    if stdlib_logger.isEnabledFor(number):
        safe = {k: v for k, v in fields.items() if k in ALLOWED_FIELDS}
        text = " ".join(f"{key}={value}" for key, value in safe.items())
        stdlib_logger.log(number, "%s %s", event, text, extra={"nilecare": safe})
