"""What a ``facility-events`` message makes stale: a pure mapping from event to ``Drop``.

The Facility service publishes these events for every write, including writes that never went
through this library; a consumer hands each message to ``apply_event`` and every replica drops
exactly the entries the event changes. A type this library does not know is ignored (and
counted), since new event types must not break consumers; a malformed message raises
``InvalidRequestError`` without echoing any of its content.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from nilecare_clients._cache import Drop
from nilecare_clients._errors import InvalidRequestError
from nilecare_clients.models._base import is_uuid

__all__ = ["event_drop"]


def _id(event: Mapping[str, Any], *names: str, required: bool = True) -> str | None:
    """The first id found under ``names`` (top level, then ``data``), checked as a UUID."""
    data = event.get("data")
    for source in (event, data if isinstance(data, Mapping) else {}):
        for name in names:
            value = source.get(name)
            if value is None:
                continue
            if not isinstance(value, str) or not is_uuid(value):
                raise InvalidRequestError(f"facility event: {names[0]} must be a UUID")
            return value
    if required:
        raise InvalidRequestError(f"facility event: {names[0]} is missing")
    return None


def _facility(event: Mapping[str, Any]) -> str:
    facility_id = _id(event, "facilityId", "facility_id")
    assert facility_id is not None  # required=True
    return facility_id


def _department_drop(event: Mapping[str, Any]) -> Drop:
    department = _id(event, "departmentId", "department_id", required=False)
    facility = _id(event, "facilityId", "facility_id", required=False)
    keys: list[tuple[str, str]] = []
    if department is not None:
        keys.append(("department", department))
    if facility is not None:
        keys.append(("departments", facility))
    if not keys:
        raise InvalidRequestError("facility event: departmentId or facilityId is missing")
    return Drop(keys=tuple(keys))


def event_drop(payload: Any) -> tuple[str, Drop | None]:
    """``(event type, drop)``; the drop is None for a type this library ignores.

    ``payload`` is the message value as consumed: a mapping, or its JSON (str or bytes).
    """
    if isinstance(payload, (bytes, bytearray, str)):
        try:
            payload = json.loads(payload)
        except ValueError:
            raise InvalidRequestError("facility event: not JSON") from None
    if not isinstance(payload, Mapping):
        raise InvalidRequestError("facility event: expected a JSON object")
    kind = payload.get("type", payload.get("eventType"))
    if not isinstance(kind, str) or not kind:
        raise InvalidRequestError("facility event: type is missing")
    if kind == "facility.created":
        return kind, Drop(facilities=(_facility(payload),), lists=True)
    if kind == "facility.updated":
        facility_id = _facility(payload)
        changes = payload.get("changes")
        if changes is not None and not isinstance(changes, Mapping):
            raise InvalidRequestError("facility event: changes must be an object")
        return kind, Drop(keys=(("facility", facility_id),), lists=True)
    if kind in ("facility.deleted", "facility.deactivated"):
        return kind, Drop(facilities=(_facility(payload),), lists=True)
    if kind in ("facility.settings.updated", "settings.updated"):
        return kind, Drop(keys=(("settings", _facility(payload)),))
    if kind in ("department.created", "department.updated", "department.deleted"):
        return kind, _department_drop(payload)
    return kind, None
