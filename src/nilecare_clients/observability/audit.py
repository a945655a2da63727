"""Access-audit events for calls that read or change patient data, on their own logger.

Healthcare deployments must record who accessed which patient record. Those events carry
identifiers on purpose, so they never go to the debug logs (which stay free of ids): they go to
the standard ``logging`` logger ``nilecare_clients.audit`` as one event per logical call, for the
deployment to route to its audit store. Nothing is built unless that logger is enabled for INFO.

Each event (``record.audit`` holds the dict; the message is its JSON) says who (``caller``: this
service's name from ``set_caller()`` or ``NILECARE_SERVICE_NAME``, and ``user_id`` when bound with
``acting_user()``), what (``operation``: method and route template; ``resource_type``), which
(``resource_id``), when (``at``, UTC), the ``outcome`` and the ``correlation_id``.

Audit events are not debug output and must not reach the library's debug handlers: the first
event written turns off propagation of ``nilecare_clients.audit`` (once, so an application
may turn it back on). Importing this module configures nothing; the core does not import it
(``_log.record_access`` loads it when auditing is on). The caller name lives in ``_state``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from nilecare_clients._loggers import AUDIT_LOGGER_NAME, audit_logger
from nilecare_clients._state import lock, settings

__all__ = ["AUDIT_LOGGER_NAME", "acting_user", "audit_logger", "record_access", "set_caller"]

_user: ContextVar[str | None] = ContextVar("nilecare_acting_user", default=None)

_RESOURCES = {
    "patients": "patient",
    "encounters": "encounter",
    "medications": "medication",
    "diagnostics": "diagnostic",
}


def set_caller(name: str | None) -> None:
    """Name this service in audit events (default: ``NILECARE_SERVICE_NAME``, else unknown)."""
    settings.audit_caller = name


@contextmanager
def acting_user(user_id: str) -> Iterator[str]:
    """Bind the user on whose behalf the calls inside the block are made."""
    token = _user.set(user_id)
    try:
        yield user_id
    finally:
        _user.reset(token)


def resource_of(route: str) -> str:
    """``/api/v1/patients/{id}/encounters`` -> ``patient``; ``/stats/patients/...`` too."""
    parts = [p for p in route.split("/") if p]
    if len(parts) >= 3 and parts[2] in _RESOURCES:
        return _RESOURCES[parts[2]]
    if len(parts) >= 4 and parts[2] == "stats":
        return _RESOURCES.get(parts[3], "statistics")
    return "statistics"


def record_access(
    *,
    service: str,
    method: str,
    route: str,
    resource_id: str | None,
    outcome: str,
    correlation_id: str | None,
) -> None:
    """Emit one audit event (the caller checked that the audit logger is enabled)."""
    if not settings.audit_isolated:
        with lock:
            if not settings.audit_isolated:
                audit_logger.propagate = False
                settings.audit_isolated = True
    event = {
        "event": "nilecare_clients.audit",
        "caller": settings.audit_caller or os.environ.get("NILECARE_SERVICE_NAME") or "unknown",
        "user_id": _user.get(),
        "service": service,
        "operation": f"{method} {route}",
        "resource_type": resource_of(route),
        "resource_id": resource_id,
        "at": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "outcome": outcome,
        "correlation_id": correlation_id,
    }
    audit_logger.info(json.dumps(event), extra={"audit": event})
