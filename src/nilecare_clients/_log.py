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
debug line to stdout. structlog is never imported here: an application that configured it has
imported it, so it is looked up in ``sys.modules`` (importing it would cost every process
~0.1 s at start-up for nothing when it is unused).

Emitting must cost next to nothing when the level is off, because the library logs once per
attempt at debug level. ``enabled(level)`` answers that before the caller builds any field
(a comparison of integers), and ``emit`` re-checks it. With structlog, the bound logger is
assembled once per structlog configuration (not once per event, as calling a lazy proxy
does; kept in ``_state.settings``) and rebuilt as soon as the application calls
``structlog.configure`` again; events
below the minimum level of one of structlog's own filtering bound loggers are skipped
before any work, exactly as structlog itself would drop them. Any other wrapper class gets
every event, so its processors decide.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from nilecare_clients._loggers import AUDIT_LOGGER_NAME, LOGGER_NAME, audit_logger, stdlib_logger
from nilecare_clients._state import settings

__all__ = [
    "ALLOWED_FIELDS",
    "AUDIT_LOGGER_NAME",
    "audit_logger",
    "emit",
    "enabled",
    "record_access",
    "stdlib_logger",
]

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
        "scope",
        "reason",
        "in_flight",
        "replacement",
        "count",
        "enum",
        "enum_value",
    }
)


class _Bound:
    """The structlog logger assembled under one configuration, and the least level it logs."""

    __slots__ = ("context_class", "factory", "logger", "min_level", "processors", "wrapper")

    def __init__(self, structlog: Any, config: dict[str, Any]) -> None:
        # Held, so they are compared by identity with the next configuration.
        self.wrapper = config["wrapper_class"]
        self.processors = config["processors"]
        self.factory = config["logger_factory"]
        self.context_class = config["context_class"]
        # A fresh proxy: the module-level one may have cached a logger of an older config.
        self.logger = structlog.get_logger(LOGGER_NAME).bind()
        self.min_level = _native_min_level(structlog, self.logger)

    def serves(self, config: dict[str, Any]) -> bool:
        return (
            config["wrapper_class"] is self.wrapper
            and config["processors"] is self.processors
            and config["logger_factory"] is self.factory
            and config["context_class"] is self.context_class
        )


def _native_min_level(structlog: Any, bound: Any) -> int:
    """The minimum level of structlog's own filtering bound loggers, else 0 (log everything).

    Found by class identity, never by calling the logger: a generic ``BoundLogger`` would
    treat any method call as an event to log.
    """
    cls = type(bound)
    for level in _NATIVE_LEVELS:
        if structlog.make_filtering_bound_logger(level) is cls:
            return level
    return 0


_NATIVE_LEVELS = (
    logging.NOTSET,
    logging.DEBUG,
    logging.INFO,
    logging.WARNING,
    logging.ERROR,
    logging.CRITICAL,
)


def _configured_structlog() -> Any:
    """structlog, when the application imported and configured it; else ``None``."""
    structlog = sys.modules.get("structlog")
    if structlog is not None and structlog.is_configured():
        return structlog
    return None


def _structlog_bound(structlog: Any) -> _Bound:
    config = structlog.get_config()
    bound: _Bound | None = settings.structlog_binding
    if bound is None or not bound.serves(config):
        bound = settings.structlog_binding = _Bound(structlog, config)
    return bound


def enabled(level: str) -> bool:
    """Whether an event at ``level`` would be logged: ask before building expensive fields."""
    # _configured_structlog, inline: asked on every successful call.
    structlog = sys.modules.get("structlog")
    if structlog is not None and structlog.is_configured():
        return _LEVELS[level] >= _structlog_bound(structlog).min_level
    return stdlib_logger.isEnabledFor(_LEVELS[level])


def emit(level: str, event: str, **fields: Any) -> None:
    """Log ``event`` with only allow-listed fields (anything else is dropped, not logged)."""
    number = _LEVELS[level]
    structlog = _configured_structlog()
    if structlog is not None:
        bound = _structlog_bound(structlog)
        if number < bound.min_level:
            return
        getattr(bound.logger, level)(
            event, **{k: v for k, v in fields.items() if k in ALLOWED_FIELDS}
        )
        return
    if stdlib_logger.isEnabledFor(number):
        safe = {k: v for k, v in fields.items() if k in ALLOWED_FIELDS}
        text = " ".join(f"{key}={value}" for key, value in safe.items())
        stdlib_logger.log(number, "%s %s", event, text, extra={"nilecare": safe})


def record_access(
    *,
    service: str,
    method: str,
    route: str,
    resource_id: str | None,
    outcome: str,
    correlation_id: str | None,
) -> None:
    """Write one access-audit event (the caller checked ``audit_logger`` is on for INFO).

    The event is built by the opt-in ``observability.audit``, imported here on first use, so
    the core never loads it for a deployment that does not audit.
    """
    from nilecare_clients.observability.audit import record_access as write

    write(
        service=service,
        method=method,
        route=route,
        resource_id=resource_id,
        outcome=outcome,
        correlation_id=correlation_id,
    )
