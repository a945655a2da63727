"""Access-audit events for calls that read or change patient data, on their own logger.

Healthcare deployments must record who accessed which patient record. Those events carry
identifiers on purpose, so they never go to the debug logs (which stay free of ids): they go to
the standard ``logging`` logger ``nilecare_clients.audit`` as one event per logical call, for the
deployment to route to its audit store. Nothing is built unless that logger is enabled for INFO.

Each event (``record.audit`` holds the dict; the message is its JSON) says who (``caller``: this
service's name from ``set_caller()`` or ``NILECARE_SERVICE_NAME``, and ``user_id`` when bound with
``acting_user()``), what (``operation``: method and route template; ``resource_type``), which
(``resource_id``), when (``at``, UTC), the ``outcome`` and the ``correlation_id``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

__all__ = ["AUDIT_LOGGER_NAME", "acting_user", "audit_logger", "record_access", "set_caller"]

AUDIT_LOGGER_NAME = "nilecare_clients.audit"
audit_logger = logging.getLogger(AUDIT_LOGGER_NAME)
# Audit events are not debug output: they must not reach the library's debug handlers.
audit_logger.propagate = False

_user: ContextVar[str | None] = ContextVar("nilecare_acting_user", default=None)
_caller: list[str | None] = [None]

_RESOURCES = {
    "patients": "patient",
    "encounters": "encounter",
    "medications": "medication",
    "diagnostics": "diagnostic",
}


def set_caller(name: str | None) -> None:
    """Name this service in audit events (default: ``NILECARE_SERVICE_NAME``, else unknown)."""
    _caller[0] = name


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
    event = {
        "event": "nilecare_clients.audit",
        "caller": _caller[0] or os.environ.get("NILECARE_SERVICE_NAME") or "unknown",
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
